/**
 * Service accounts and API tokens, for administrators (`/service-accounts`, `/tokens`) and for
 * everyone's own personal tokens (`/me/tokens`). The rules (a token provider must accept what is
 * minted, a narrowed token cannot mint, deleting a service account drops its grants and tokens)
 * are the services' (src/services/tokens.ts, service-accounts.ts). A token's secret is in the
 * create response only; lists never carry a secret or its hash.
 */
import { z } from 'zod';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const name = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'letters, digits and . _ @ - (at most 128)');

const narrowing = {
  description: z.string().max(500).default(''),
  tenant: z.string().min(1).optional().describe('The token acts only in this tenant.'),
  maxRole: z.string().min(1).optional().describe("The owner's grants are capped to this role's."),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('Default: the token never expires.'),
};
const createToken = z
  .strictObject({ user: name.optional(), serviceAccount: name.optional(), ...narrowing })
  .refine((b) => (b.user === undefined) !== (b.serviceAccount === undefined), { message: 'exactly one of user, serviceAccount', path: ['user'] });
const createOwnToken = z.strictObject(narrowing);

export const tokenSchema = z.object({
  id: z.string(),
  owner: z.string(),
  ownerKind: z.enum(['user', 'service_account']),
  description: z.string(),
  tenant: z.string().nullable(),
  maxRole: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  status: z.enum(['active', 'revoked', 'expired', 'owner-disabled']),
});
const createdToken = tokenSchema.extend({ token: z.string().describe('The secret: shown in this response only.') });
const rotateToken = z.strictObject({
  // Whole seconds, at most a day: the service's bound, for every door.
  overlapSeconds: z.number().default(0).describe('The old token keeps working this many seconds (0 to 86400, a day); default 0: revoked at once.'),
});
const rotatedToken = createdToken.extend({ replaces: z.string().describe('The id of the token this one replaces.') });
const serviceAccountSchema = z.object({ name: z.string(), description: z.string(), disabled: z.boolean(), createdAt: z.string() });

export function tokenRoutes(deps: AdminDeps): RouteSpec[] {
  const { tokens, serviceAccounts } = deps.services;
  const days = (n: number | undefined) => (n === undefined ? undefined : n * 86_400_000);

  return [
    route({
      method: 'GET', path: '/service-accounts', tag: 'tokens', access: 'admin', summary: 'List service accounts',
      response: z.object({ serviceAccounts: z.array(serviceAccountSchema) }),
      handler: async () => ({ serviceAccounts: await serviceAccounts.list() }),
    }),
    route({
      method: 'POST', path: '/service-accounts', tag: 'tokens', access: 'admin', status: 201, response: serviceAccountSchema,
      summary: 'Create a service account (bind roles to it with a grant whose serviceAccount is its name)',
      body: z.strictObject({ name, description: z.string().max(500).default('') }),
      handler: async ({ actor, body }) => serviceAccounts.create(actor, body),
    }),
    route({
      method: 'PATCH', path: '/service-accounts/:name', tag: 'tokens', access: 'admin', response: serviceAccountSchema,
      summary: 'Disable or re-enable a service account (its tokens stop working on the next request)',
      body: z.strictObject({ disabled: z.boolean() }),
      handler: async ({ actor, params, body }) => serviceAccounts.update(actor, params.name!, body),
    }),
    route({
      method: 'DELETE', path: '/service-accounts/:name', tag: 'tokens', access: 'admin', status: 204,
      summary: 'Delete a service account with its tokens, grants and group and tenant member entries',
      handler: async ({ actor, params }) => {
        await serviceAccounts.delete(actor, params.name!);
        return undefined;
      },
    }),
    route({
      method: 'GET', path: '/tokens', tag: 'tokens', access: 'admin', summary: 'List API tokens (never their secrets)',
      query: z.strictObject({ owner: z.string().optional(), ownerKind: z.enum(['user', 'service_account']).optional() }),
      response: z.object({ tokens: z.array(tokenSchema) }),
      handler: async ({ query }) => ({ tokens: await tokens.list(query) }),
    }),
    route({
      method: 'POST', path: '/tokens', tag: 'tokens', access: 'admin', status: 201, body: createToken, response: createdToken,
      summary: 'Create a personal token for a user or a token for a service account; the secret is returned once',
      handler: async ({ actor, body }) => {
        const { user, serviceAccount, expiresInDays, ...rest } = body;
        return tokens.mint(actor, user !== undefined ? { user } : { serviceAccount: serviceAccount! }, { ...rest, expiresInMs: days(expiresInDays) });
      },
    }),
    route({
      method: 'DELETE', path: '/tokens/:id', tag: 'tokens', access: 'admin', status: 204, summary: 'Revoke a token (effective on its next use)',
      handler: async ({ actor, params }) => {
        await tokens.revoke(actor, params.id!);
        return undefined;
      },
    }),
    route({
      method: 'POST', path: '/tokens/:id/rotate', tag: 'tokens', access: 'admin', status: 201, body: rotateToken, response: rotatedToken,
      summary: 'Rotate a token: a successor with the same owner, tenant, max role, description and lifetime, returned once; the old token is revoked in the same transaction (or at the end of the overlap)',
      handler: async ({ actor, params, body }) => tokens.rotate(actor, params.id!, { overlapSeconds: body.overlapSeconds }),
    }),
    route({
      method: 'GET', path: '/me/tokens', tag: 'me', access: 'self', summary: 'List my personal tokens',
      response: z.object({ tokens: z.array(tokenSchema) }),
      handler: async ({ principal }) => ({ tokens: await tokens.list({ owner: await tokens.ownUser(principal), ownerKind: 'user' }) }),
    }),
    route({
      method: 'POST', path: '/me/tokens', tag: 'me', access: 'self', status: 201, body: createOwnToken, response: createdToken,
      summary: 'Create a personal token for myself; the secret is returned once',
      handler: async ({ actor, principal, body }) => {
        const { expiresInDays, ...rest } = body;
        return tokens.mint(actor, { user: await tokens.ownUser(principal) }, { ...rest, expiresInMs: days(expiresInDays) });
      },
    }),
    route({
      method: 'POST', path: '/me/tokens/:id/rotate', tag: 'me', access: 'self', status: 201, body: rotateToken, response: rotatedToken,
      summary: 'Rotate one of my personal tokens, as the administrators\' rotate does; the successor\'s secret is returned once',
      handler: async ({ actor, principal, params, body }) => tokens.rotate(actor, params.id!, { overlapSeconds: body.overlapSeconds, ownedBy: await tokens.ownUser(principal) }),
    }),
    route({
      method: 'DELETE', path: '/me/tokens/:id', tag: 'me', access: 'self', status: 204, summary: 'Revoke one of my personal tokens',
      handler: async ({ actor, principal, params }) => {
        await tokens.revoke(actor, params.id!, { ownedBy: await tokens.ownUser(principal) });
        return undefined;
      },
    }),
  ];
}
