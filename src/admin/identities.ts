/**
 * IdP identities linked to local users (`auth.providers[].link: subject`): list, link, unlink.
 * The rules (only a linking provider's identity, one user per identity, an admin event each) are
 * the identities service's (src/services/identities.ts).
 */
import { z } from 'zod';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const linked = z.object({ username: z.string(), identities: z.array(z.string()) });

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
      method: 'DELETE', path: '/users/:username/identities/:identity', tag: 'users', access: 'admin', status: 204,
      summary: 'Unlink an IdP identity from a local user (effective on its next request)',
      handler: async ({ actor, params }) => {
        await identities.unlink(actor, params.username!, params.identity!);
        return undefined;
      },
    }),
  ];
}
