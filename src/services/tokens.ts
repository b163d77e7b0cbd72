/**
 * API tokens: personal tokens of local users and tokens of service accounts. Minted only where a
 * gateway would accept them — when `auth.providers` has a `token` provider (on by default) —, for
 * an owner that exists, narrowed to a tenant and a role the merged policy knows (declared or
 * stored). A caller that authenticated with a narrowed token cannot mint one: it would escape the
 * narrowing. The secret is in the mint result only; nothing else ever carries it or its hash.
 *
 * Rotation mints a successor (same owner, tenant, max role, description and lifetime) and
 * revokes the old token in ONE store transaction: the revocation is a conditional update of a
 * token not yet revoked, so a second rotation or a revocation racing it finds nothing to update
 * and the successor's insert rolls back with it — never a successor beside a live old token
 * nobody meant to keep, never an old token revoked without a successor. With an overlap the old
 * token's `revoked_at` lies that far ahead: it works until then (src/store/tokens.ts
 * `tokenStatus`, the one place that says whether a token is revoked).
 */
import { changesOf } from '../audit/admin-event.ts';
import { localUserOf } from '../identity/local-names.ts';
import { mintToken } from '../identity/token-format.ts';
import { findServiceAccount, insertToken, listTokens, revokeToken, revokeUnrevokedToken, tokenStatus, tokenView, type TokenInfo } from '../store/tokens.ts';
import { policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, forbidden, invalid, notFound } from './errors.ts';
import type { Principal } from '../model/principal.ts';
import { callerError } from '../errors.ts';

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

/** The longest overlap a rotation may give the old token: a day (seconds). */
export const MAX_ROTATION_OVERLAP_SECONDS = 86_400;

const fieldsOf = (t: TokenView) => ({ owner: t.owner, ownerKind: t.ownerKind, description: t.description, tenant: t.tenant, maxRole: t.maxRole, expiresAt: t.expiresAt, revokedAt: t.revokedAt });

export function tokensService(deps: ServiceDeps) {
  const { store } = deps;
  const now = deps.now;

  /** What minting requires, for a new token and a successor alike. */
  async function mayMint(actor: Actor, n: Pick<Narrowing, 'tenant' | 'maxRole'>): Promise<void> {
    if (deps.providers.token.length === 0) throw callerError('GATEHOUSE_ADMIN_NO_TOKEN_PROVIDER');
    if (actor.principal?.restrict !== undefined) throw forbidden('a narrowed token cannot mint tokens; sign in with your password');
    const snapshot = (await policyView(deps)).snapshot();
    if (n.tenant !== undefined && !snapshot.tenants.has(n.tenant)) throw invalid('tenant', `no tenant ${n.tenant}`);
    if (n.maxRole !== undefined && !snapshot.roles.has(n.maxRole)) throw invalid('maxRole', `unknown role ${n.maxRole} (${[...snapshot.roles.keys()].join(', ')})`);
  }

  const findToken = async (id: string): Promise<TokenInfo | undefined> => (/^[0-9a-f]{12}$/.test(id) ? (await listTokens(store.db)).find((t) => t.id === id) : undefined);
  /** The token `id`, when it exists and (with `ownedBy`, the `/me` doors) is that local user's own personal token; else not found. */
  async function ownToken(id: string, ownedBy: string | undefined): Promise<TokenInfo> {
    const token = await findToken(id);
    if (!token || (ownedBy !== undefined && !(token.owner.kind === 'user' && token.owner.name === ownedBy))) throw notFound(`token ${id}`);
    return token;
  }

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
      await mayMint(actor, n);
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
      const token = await ownToken(id, options.ownedBy);
      if (tokenStatus(token, now()) === 'revoked') return;
      await revokeToken(store.db, token.id, new Date(now()));
      const before = tokenView(token, now());
      const after = tokenView((await listTokens(store.db)).find((t) => t.id === id)!, now());
      await recordChange(deps, actor, { action: 'token.revoke', target: { kind: 'token', id }, tenant: after.tenant, changes: changesOf(fieldsOf(before), fieldsOf(after)) });
    },

    /**
     * Replaces a token by a successor with the same owner, tenant, max role, description and
     * lifetime (an expiring token's successor expires as long after its own creation), and revokes
     * the old one — at once, or `overlapSeconds` later (at most a day) so its users can switch. One
     * transaction, one `token.rotate` event naming both ids; the successor's secret is in the result only.
     * With `ownedBy`, only that user's own personal token (the `/me` door).
     */
    async rotate(actor: Actor, id: string, options: { readonly overlapSeconds?: number; readonly ownedBy?: string } = {}): Promise<TokenView & { readonly token: string; readonly replaces: string }> {
      const overlap = options.overlapSeconds ?? 0;
      if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_ROTATION_OVERLAP_SECONDS) throw invalid('overlapSeconds', `a whole number of seconds from 0 to ${MAX_ROTATION_OVERLAP_SECONDS} (a day)`);
      const old = await ownToken(id, options.ownedBy);
      const n = { tenant: old.tenant ?? undefined, maxRole: old.maxRole ?? undefined };
      await mayMint(actor, n);
      const at = now();
      const status = tokenStatus(old, at);
      if (old.revokedAt !== null || status === 'expired') throw conflict(`token ${id} is ${status === 'active' ? 'already rotated (revoked at its overlap\'s end)' : status}; only a token not yet revoked or expired is rotated`);
      const minted = mintToken(old.owner.kind === 'user' ? 'personal' : 'service');
      const lifetimeMs = old.expiresAt === null ? undefined : Date.parse(old.expiresAt) - Date.parse(old.createdAt);
      const revokeAt = new Date(at + overlap * 1000);
      await store.transaction(async (tx) => {
        const owner = old.owner.kind === 'user' ? { userId: old.owner.id } : { serviceAccountId: old.owner.id };
        await insertToken(tx.db, { id: minted.id, secretHash: minted.hash, owner, description: old.description, ...n, expiresAt: lifetimeMs === undefined ? undefined : new Date(at + lifetimeMs), now: new Date(at) });
        if (!(await revokeUnrevokedToken(tx.db, old.id, revokeAt))) throw conflict(`token ${id} was revoked or rotated meanwhile`);
      });
      const tokens = await listTokens(store.db);
      const successor = tokenView(tokens.find((t) => t.id === minted.id)!, now());
      const before = tokenView(old, at);
      const after = tokenView(tokens.find((t) => t.id === old.id)!, now());
      await recordChange(deps, actor, {
        action: 'token.rotate',
        target: { kind: 'token', id: old.id },
        tenant: old.tenant,
        changes: { ...changesOf(fieldsOf(before), fieldsOf(after)), successor: { before: null, after: successor.id } },
      });
      return { ...successor, token: minted.token, replaces: old.id };
    },
  };
}

export type TokensService = ReturnType<typeof tokensService>;
