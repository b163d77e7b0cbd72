/**
 * Service accounts and API tokens, for administrators (`/service-accounts`, `/tokens`) and for
 * everyone's own personal tokens (`/me/tokens`). A token's secret is in the create response
 * only; lists never carry a secret or its hash (src/store/tokens.ts strips it).
 *
 * A caller that authenticated with a narrowed token (tenant or role cap) may not mint tokens
 * for itself: a new token would escape the narrowing.
 */
import { z } from 'zod';
import type { Principal } from '../identity/principal.ts';
import { localUserOf } from '../identity/local-names.ts';
import { localAccountProviders } from '../identity/providers.ts';
import { mintToken } from '../identity/token-format.ts';
import {
  createServiceAccount,
  findServiceAccount,
  insertToken,
  listServiceAccounts,
  listTokens,
  revokeToken,
  setServiceAccountDisabled,
  type TokenInfo,
  tokenView,
} from '../store/tokens.ts';
import type { AdminDeps } from './deps.ts';
import { AdminError, conflict, invalid, notFound, route, type RouteSpec } from './http.ts';

const name = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'letters, digits and . _ @ - (at most 128)');
const tokenId = z.string().regex(/^[0-9a-f]{12}$/, 'a token id: the 12 hex digits after gth_pat_ / gth_sat_');

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
const serviceAccountSchema = z.object({ name: z.string(), description: z.string(), disabled: z.boolean(), createdAt: z.string() });

export function tokenRoutes(deps: AdminDeps): RouteSpec[] {
  const { store } = deps;
  const now = deps.now ?? Date.now;

  async function mint(owner: { user: string } | { serviceAccount: string }, b: z.infer<typeof createOwnToken>) {
    const snapshot = deps.policy();
    if (b.tenant !== undefined && !snapshot.tenants.has(b.tenant)) throw invalid('tenant', `no tenant ${b.tenant}`);
    if (b.maxRole !== undefined && !snapshot.roles.has(b.maxRole)) throw invalid('maxRole', `unknown role ${b.maxRole}`);
    let ownerRef: { userId: string } | { serviceAccountId: string };
    if ('user' in owner) {
      const u = await store.findUserByName(owner.user);
      if (!u) throw notFound(`user ${owner.user}`);
      ownerRef = { userId: u.id };
    } else {
      const s = await findServiceAccount(store.db, owner.serviceAccount);
      if (!s) throw notFound(`service account ${owner.serviceAccount}`);
      ownerRef = { serviceAccountId: s.id };
    }
    const minted = mintToken('user' in owner ? 'personal' : 'service');
    const at = new Date(now());
    const expiresAt = b.expiresInDays === undefined ? undefined : new Date(at.getTime() + b.expiresInDays * 86_400_000);
    await insertToken(store.db, { id: minted.id, secretHash: minted.hash, owner: ownerRef, description: b.description, tenant: b.tenant, maxRole: b.maxRole, expiresAt, now: at });
    const info = (await listTokens(store.db)).find((t) => t.id === minted.id)!;
    return { ...tokenView(info, now()), token: minted.token };
  }

  /** The local user behind a principal (password, session or personal token of a local user). */
  async function ownUser(p: Principal): Promise<string> {
    const local = localUserOf(p, localAccountProviders(deps.config.auth.providers));
    if (local === undefined || !(await store.findUserByName(local))) throw new AdminError('GATEHOUSE_AUTHZ_DENIED', 'personal tokens are for local users; ask an administrator for a service account token');
    return local;
  }
  const mine = (p: Principal, t: TokenInfo) => t.owner.kind === 'user' && t.owner.name === p.localName;

  return [
    route({
      method: 'GET', path: '/service-accounts', tag: 'tokens', access: 'admin', summary: 'List service accounts',
      response: z.object({ serviceAccounts: z.array(serviceAccountSchema) }),
      handler: async () => ({ serviceAccounts: (await listServiceAccounts(store.db)).map(({ id: _id, ...s }) => s) }),
    }),
    route({
      method: 'POST', path: '/service-accounts', tag: 'tokens', access: 'admin', status: 201, response: serviceAccountSchema,
      summary: 'Create a service account (bind roles to it with a grant whose serviceAccount is its name)',
      body: z.strictObject({ name, description: z.string().max(500).default('') }),
      handler: async ({ body }) => {
        if (await findServiceAccount(store.db, body.name)) throw conflict(`service account ${body.name} already exists`);
        const { id: _id, ...sa } = await createServiceAccount(store.db, { name: body.name, description: body.description, now: new Date(now()) });
        return sa;
      },
    }),
    route({
      method: 'PATCH', path: '/service-accounts/:name', tag: 'tokens', access: 'admin', response: serviceAccountSchema,
      summary: "Disable or re-enable a service account (its tokens stop working on the next request)",
      body: z.strictObject({ disabled: z.boolean() }),
      handler: async ({ params, body }) => {
        if (!(await setServiceAccountDisabled(store.db, params.name!, body.disabled))) throw notFound(`service account ${params.name}`);
        const { id: _id, ...sa } = (await findServiceAccount(store.db, params.name!))!;
        return sa;
      },
    }),
    route({
      method: 'GET', path: '/tokens', tag: 'tokens', access: 'admin', summary: 'List API tokens (never their secrets)',
      query: z.strictObject({ owner: z.string().optional(), ownerKind: z.enum(['user', 'service_account']).optional() }),
      response: z.object({ tokens: z.array(tokenSchema) }),
      handler: async ({ query }) => ({
        tokens: (await listTokens(store.db))
          .filter((t) => (query.owner === undefined || t.owner.name === query.owner) && (query.ownerKind === undefined || t.owner.kind === query.ownerKind))
          .map((t) => tokenView(t, now())),
      }),
    }),
    route({
      method: 'POST', path: '/tokens', tag: 'tokens', access: 'admin', status: 201, body: createToken, response: createdToken,
      summary: 'Create a personal token for a user or a token for a service account; the secret is returned once',
      handler: async ({ body }) => {
        const { user, serviceAccount, ...rest } = body;
        return mint(user !== undefined ? { user } : { serviceAccount: serviceAccount! }, rest);
      },
    }),
    route({
      method: 'DELETE', path: '/tokens/:id', tag: 'tokens', access: 'admin', status: 204, summary: 'Revoke a token (effective on its next use)',
      handler: async ({ params }) => {
        if (!tokenId.safeParse(params.id).success || !(await revokeToken(store.db, params.id!, new Date(now())))) throw notFound(`token ${params.id}`);
        return undefined;
      },
    }),
    route({
      method: 'GET', path: '/me/tokens', tag: 'me', access: 'self', summary: 'List my personal tokens',
      response: z.object({ tokens: z.array(tokenSchema) }),
      handler: async ({ principal }) => {
        await ownUser(principal);
        return { tokens: (await listTokens(store.db)).filter((t) => mine(principal, t)).map((t) => tokenView(t, now())) };
      },
    }),
    route({
      method: 'POST', path: '/me/tokens', tag: 'me', access: 'self', status: 201, body: createOwnToken, response: createdToken,
      summary: 'Create a personal token for myself; the secret is returned once',
      handler: async ({ principal, body }) => {
        if (principal.restrict !== undefined) throw new AdminError('GATEHOUSE_AUTHZ_DENIED', 'a narrowed token cannot mint tokens; sign in with your password');
        return mint({ user: await ownUser(principal) }, body);
      },
    }),
    route({
      method: 'DELETE', path: '/me/tokens/:id', tag: 'me', access: 'self', status: 204, summary: 'Revoke one of my personal tokens',
      handler: async ({ principal, params }) => {
        await ownUser(principal);
        const token = (await listTokens(store.db)).find((t) => t.id === params.id);
        if (!token || !mine(principal, token)) throw notFound(`token ${params.id}`);
        await revokeToken(store.db, token.id, new Date(now()));
        return undefined;
      },
    }),
  ];
}
