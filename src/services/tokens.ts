/**
 * API tokens: personal tokens of local users and tokens of service accounts. Minted only where a
 * gateway would accept them — when `auth.providers` has a `token` provider (on by default) —, for
 * an owner that exists, narrowed to a tenant and a role the merged policy knows (declared or
 * stored). A caller that authenticated with a narrowed token cannot mint one: it would escape the
 * narrowing. The secret is in the mint result only; nothing else ever carries it or its hash.
 */
import { changesOf } from '../audit/admin-event.ts';
import { localUserOf } from '../identity/local-names.ts';
import { mintToken } from '../identity/token-format.ts';
import { findServiceAccount, insertToken, listTokens, revokeToken, tokenView, type TokenInfo } from '../store/tokens.ts';
import { policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { forbidden, invalid, notFound, ServiceError } from './errors.ts';
import type { Principal } from '../model/principal.ts';

export type TokenView = ReturnType<typeof tokenView>;

export type TokenOwnerRef = { readonly user: string } | { readonly serviceAccount: string };

export interface Narrowing {
  readonly description?: string | undefined;
  /** The token acts only in this tenant. */
  readonly tenant?: string | undefined;
  /** The owner's grants are capped to this role's. */
  readonly maxRole?: string | undefined;
  /** Default: never expires. */
  readonly expiresInMs?: number | undefined;
}

const fieldsOf = (t: TokenView) => ({ owner: t.owner, ownerKind: t.ownerKind, description: t.description, tenant: t.tenant, maxRole: t.maxRole, expiresAt: t.expiresAt, revokedAt: t.revokedAt });

export function tokensService(deps: ServiceDeps) {
  const { store } = deps;
  const now = deps.now;

  return {
    async list(filter: { readonly owner?: string | undefined; readonly ownerKind?: 'user' | 'service_account' | undefined } = {}): Promise<TokenView[]> {
      return (await listTokens(store.db))
        .filter((t) => (filter.owner === undefined || t.owner.name === filter.owner) && (filter.ownerKind === undefined || t.owner.kind === filter.ownerKind))
        .map((t) => tokenView(t, now()));
    },

    /**
     * The local user a principal is (its password, a session opened with it, or its personal
     * token; never a name another provider asserts), for its own tokens; refused for anyone else.
     */
    async ownUser(p: Principal): Promise<string> {
      const local = localUserOf(p, [...deps.providers.local, ...deps.providers.token]);
      if (local === undefined || !(await store.findUserByName(local))) throw forbidden('personal tokens are for local users; ask an administrator for a service account token');
      return local;
    },

    async mint(actor: Actor, owner: TokenOwnerRef, n: Narrowing): Promise<TokenView & { readonly token: string }> {
      if (deps.providers.token.length === 0) throw new ServiceError('GATEHOUSE_ADMIN_NO_TOKEN_PROVIDER');
      if (actor.principal?.restrict !== undefined) throw forbidden('a narrowed token cannot mint tokens; sign in with your password');
      const snapshot = (await policyView(deps)).snapshot();
      if (n.tenant !== undefined && !snapshot.tenants.has(n.tenant)) throw invalid('tenant', `no tenant ${n.tenant}`);
      if (n.maxRole !== undefined && !snapshot.roles.has(n.maxRole)) throw invalid('maxRole', `unknown role ${n.maxRole} (${[...snapshot.roles.keys()].join(', ')})`);
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
      const expiresAt = n.expiresInMs === undefined ? undefined : new Date(at.getTime() + n.expiresInMs);
      await insertToken(store.db, { id: minted.id, secretHash: minted.hash, owner: ownerRef, description: n.description ?? '', tenant: n.tenant, maxRole: n.maxRole, expiresAt, now: at });
      const info = (await listTokens(store.db)).find((t) => t.id === minted.id)!;
      const v = tokenView(info, now());
      await recordChange(deps, actor, { action: 'token.create', target: { kind: 'token', id: v.id }, tenant: v.tenant, changes: changesOf(null, fieldsOf(v)) });
      return { ...v, token: minted.token };
    },

    /** Revokes a token (effective on its next use); with `ownedBy`, only that user's own. */
    async revoke(actor: Actor, id: string, options: { readonly ownedBy?: string } = {}): Promise<void> {
      const token: TokenInfo | undefined = /^[0-9a-f]{12}$/.test(id) ? (await listTokens(store.db)).find((t) => t.id === id) : undefined;
      if (!token || (options.ownedBy !== undefined && !(token.owner.kind === 'user' && token.owner.name === options.ownedBy))) throw notFound(`token ${id}`);
      if (token.revokedAt !== null) return;
      await revokeToken(store.db, token.id, new Date(now()));
      const before = tokenView(token, now());
      const after = tokenView((await listTokens(store.db)).find((t) => t.id === id)!, now());
      await recordChange(deps, actor, { action: 'token.revoke', target: { kind: 'token', id }, tenant: after.tenant, changes: changesOf(fieldsOf(before), fieldsOf(after)) });
    },
  };
}

export type TokensService = ReturnType<typeof tokensService>;
