/**
 * IdP identities linked to local users (`auth.providers[].link: subject`): list, link, unlink; and
 * a user's email (`link: email`).
 * The rules (only a linking provider's identity, one user per identity, an admin event each) are
 * the identities service's (src/services/identities.ts).
 */
import { z } from 'zod';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const linked = z.object({ username: z.string(), email: z.string().nullable(), identities: z.array(z.string()) });

export function identityRoutes(deps: AdminDeps): RouteSpec[] {
  const identities = deps.services.identities;
  return [
    route({
      method: 'GET', path: '/users/:username/identities', tag: 'users', access: 'admin', response: linked,
      summary: "List the IdP identities (`<provider id>:<subject>`) linked to a local user",
      handler: async ({ params }) => identities.list(params.username!),
    }),
    route({
      method: 'POST', path: '/users/:username/identities', tag: 'users', access: 'admin', status: 201, response: linked,
      body: z.strictObject({ identity: z.string().min(3).max(1024).describe('`<provider id>:<subject>` of a provider with `link: subject`, as the audit log shows it.') }),
      summary: 'Link an IdP identity to a local user: signing in as it is signing in as the user',
      handler: async ({ actor, params, body }) => identities.link(actor, params.username!, body.identity),
    }),
    route({
      method: 'PUT', path: '/users/:username/email', tag: 'users', access: 'admin', response: linked,
      body: z.strictObject({ email: z.string().max(254).nullable().describe('The address a verified sign-in of a `link: email` provider binds to this user; null clears it.') }),
      summary: "Set or clear a local user's email (what `link: email` binds a verified sign-in by)",
      handler: async ({ actor, params, body }) => identities.setEmail(actor, params.username!, body.email),
    }),
    route({
      method: 'DELETE', path: '/users/:username/identities/:identity', tag: 'users', access: 'admin', status: 204,
      summary: 'Unlink an IdP identity from a local user (effective on its next request)',
      handler: async ({ actor, params }) => {
        await identities.unlink(actor, params.username!, params.identity!);
        return undefined;
      },
    }),
  ];
}
