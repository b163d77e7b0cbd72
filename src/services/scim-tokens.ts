/**
 * SCIM bearer tokens: the only credential of the SCIM door (src/scim/auth.ts), accepted nowhere
 * else (src/identity/api-token.ts refuses their `gth_sct_` kind). A token has a name — the SCIM
 * client it is for, which is the actor of every change made with it — and only its SHA-256 is
 * kept. Rotation mints a successor of the same name and lifetime and revokes the tokens of that
 * name still live, at once or at the end of an overlap (at most a day), in one transaction.
 */
import { changesOf } from '../audit/admin-event.ts';
import { mintToken } from '../identity/token-format.ts';
import { insertScimToken, listScimTokens, revokeScimToken, type ScimTokenInfo } from '../store/scim.ts';
import { recordChange, type Actor, type ServiceDeps } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { MAX_ROTATION_OVERLAP_SECONDS } from './tokens.ts';

export const SCIM_TOKEN_NAME = /^[A-Za-z0-9._@-]{1,128}$/;

export type ScimTokenStatus = 'active' | 'revoked' | 'expired';

/** Whether a SCIM token works at `now` (a rotation's overlap revokes ahead of time). */
export function scimTokenStatus(t: Pick<ScimTokenInfo, 'revokedAt' | 'expiresAt'>, now: number): ScimTokenStatus {
  if (t.revokedAt !== null && Date.parse(t.revokedAt) <= now) return 'revoked';
  if (t.expiresAt !== null && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

export type ScimTokenView = ScimTokenInfo & { readonly status: ScimTokenStatus };

const fieldsOf = (t: ScimTokenInfo) => ({ name: t.name, expiresAt: t.expiresAt, revokedAt: t.revokedAt });

export function scimTokensService(deps: ServiceDeps) {
  const { store, now } = deps;
  const view = (t: ScimTokenInfo): ScimTokenView => ({ ...t, status: scimTokenStatus(t, now()) });
  const find = async (id: string) => (await listScimTokens(store.db)).find((t) => t.id === id);

  async function insert(name: string, expiresInMs: number | undefined, db = store.db) {
    const minted = mintToken('scim');
    const at = now();
    await insertScimToken(db, { id: minted.id, name, secretHash: minted.hash, now: new Date(at).toISOString(), expiresAt: expiresInMs === undefined ? null : new Date(at + expiresInMs).toISOString() });
    return minted;
  }

  return {
    async list(): Promise<ScimTokenView[]> {
      return (await listScimTokens(store.db)).map(view);
    },

    /** Mints a token for the SCIM client `name`; the secret is in the result only. */
    async create(actor: Actor, name: string, options: { readonly expiresInMs?: number | undefined } = {}): Promise<ScimTokenView & { readonly token: string }> {
      if (!SCIM_TOKEN_NAME.test(name)) throw invalid('name', 'letters, digits and . _ @ - (at most 128)');
      const minted = await insert(name, options.expiresInMs);
      const t = view((await find(minted.id))!);
      await recordChange(deps, actor, { action: 'scim-token.create', target: { kind: 'scim_token', id: t.id }, changes: changesOf(null, fieldsOf(t)) });
      return { ...t, token: minted.token };
    },

    /** Revokes one token at once. */
    async revoke(actor: Actor, id: string): Promise<void> {
      const before = await find(id);
      if (!before) throw notFound(`SCIM token ${id}`);
      if (scimTokenStatus(before, now()) === 'revoked') return;
      await revokeScimToken(store.db, id, new Date(now()).toISOString());
      const after = (await find(id))!;
      await recordChange(deps, actor, { action: 'scim-token.revoke', target: { kind: 'scim_token', id }, changes: changesOf(fieldsOf(before), fieldsOf(after)) });
    },

    /**
     * Mints a successor for the client `name` (with the lifetime of its newest live token) and
     * revokes its live tokens `overlapSeconds` from now, so the identity provider can be switched
     * to the new token without a gap.
     */
    async rotate(actor: Actor, name: string, options: { readonly overlapSeconds?: number } = {}): Promise<ScimTokenView & { readonly token: string; readonly replaces: readonly string[] }> {
      const overlap = options.overlapSeconds ?? 0;
      if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_ROTATION_OVERLAP_SECONDS) throw invalid('overlapSeconds', `a whole number of seconds from 0 to ${MAX_ROTATION_OVERLAP_SECONDS} (a day)`);
      const at = now();
      const live = (await listScimTokens(store.db)).filter((t) => t.name === name && t.revokedAt === null && scimTokenStatus(t, at) === 'active');
      if (live.length === 0) throw notFound(`live SCIM token named ${name}`);
      const newest = live[live.length - 1]!;
      const lifetimeMs = newest.expiresAt === null ? undefined : Date.parse(newest.expiresAt) - Date.parse(newest.createdAt);
      const revokeAt = new Date(at + overlap * 1000).toISOString();
      const minted = await store.transaction(async (tx) => {
        const m = await insert(name, lifetimeMs, tx.db);
        for (const t of live) await revokeScimToken(tx.db, t.id, revokeAt);
        return m;
      });
      const t = view((await find(minted.id))!);
      await recordChange(deps, actor, {
        action: 'scim-token.rotate',
        target: { kind: 'scim_token', id: t.id },
        changes: { ...changesOf(null, fieldsOf(t)), replaces: { before: null, after: live.map((x) => x.id).join(',') }, revokedAt: { before: null, after: revokeAt } },
      });
      return { ...t, token: minted.token, replaces: live.map((x) => x.id) };
    },
  };
}

export type ScimTokensService = ReturnType<typeof scimTokensService>;
