/**
 * SCIM administration: the SCIM clients' bearer tokens (`/scim/tokens`: list, create, revoke,
 * rotate with an overlap; src/services/scim-tokens.ts) and provisioning health (`/scim/health`:
 * the last request and refusal every replica saw, and counts). Platform administrators only.
 */
import { z } from 'zod';
import { scimHealth } from '../scim/health.ts';
import { MAX_ROTATION_OVERLAP_SECONDS } from '../services/tokens.ts';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const scimToken = z.object({
  id: z.string(),
  name: z.string().describe('The SCIM client: the actor of every change made with the token.'),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  status: z.enum(['active', 'revoked', 'expired']),
});
const created = scimToken.extend({ token: z.string().describe('The secret: shown in this response only.') });
const activity = z
  .object({ at: z.string(), method: z.string(), resource: z.string(), status: z.number(), client: z.string().nullable(), scimType: z.string().nullable().optional(), detail: z.string().optional() })
  .nullable();

export function scimRoutes(deps: AdminDeps): RouteSpec[] {
  const { scimTokens } = deps.services;
  return [
    route({
      method: 'GET', path: '/scim/tokens', tag: 'scim', access: 'admin', summary: 'List SCIM bearer tokens (never their secrets)',
      response: z.object({ tokens: z.array(scimToken) }),
      handler: async () => ({ tokens: await scimTokens.list() }),
    }),
    route({
      method: 'POST', path: '/scim/tokens', tag: 'scim', access: 'admin', status: 201, response: created,
      summary: 'Create a SCIM bearer token for a SCIM client; the secret is returned once',
      body: z.strictObject({ name: z.string(), expiresInDays: z.number().int().min(1).max(3650).optional().describe('Default: the token never expires.') }),
      handler: async ({ actor, body }) => scimTokens.create(actor, body.name, { expiresInMs: body.expiresInDays === undefined ? undefined : body.expiresInDays * 86_400_000 }),
    }),
    route({
      method: 'DELETE', path: '/scim/tokens/:id', tag: 'scim', access: 'admin', status: 204, summary: 'Revoke a SCIM token at once',
      handler: async ({ actor, params }) => {
        await scimTokens.revoke(actor, params.id!);
        return undefined;
      },
    }),
    route({
      method: 'POST', path: '/scim/tokens/rotate', tag: 'scim', access: 'admin', status: 201, response: created.extend({ replaces: z.array(z.string()) }),
      summary: "Rotate a SCIM client's token: a successor is returned once; the client's live tokens stop at the end of the overlap",
      body: z.strictObject({ name: z.string(), overlapSeconds: z.number().default(0).describe(`The old tokens keep working this many seconds (0 to ${MAX_ROTATION_OVERLAP_SECONDS}); default 0.`) }),
      handler: async ({ actor, body }) => scimTokens.rotate(actor, body.name, { overlapSeconds: body.overlapSeconds }),
    }),
    route({
      method: 'GET', path: '/scim/health', tag: 'scim', access: 'admin', summary: 'Provisioning health: the last SCIM request, the last refusal, and counts of provisioned users, groups and memberships',
      response: z.object({
        enabled: z.boolean(),
        lastRequest: activity,
        lastError: activity,
        counts: z.object({ users: z.object({ active: z.number(), inactive: z.number() }), groups: z.number(), memberships: z.number() }),
      }),
      handler: async () => ({ enabled: deps.config.scim.enabled, ...(await scimHealth(deps.store)) }),
    }),
  ];
}
