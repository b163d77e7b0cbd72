/**
 * The SCIM door's one credential: a SCIM bearer token (`gth_sct_…`, src/services/scim-tokens.ts).
 * Nothing else opens it — no password, session, personal token or IdP token — and the token
 * provider of the MLflow routes and the admin API refuses SCIM tokens (src/identity/api-token.ts),
 * so a SCIM token opens nothing else. The answer names the client (the token's name: the actor of
 * its changes) or why not; the door turns "why not" into 401 with a `Bearer` challenge.
 */
import type { IncomingMessage } from 'node:http';
import { parseToken, sameHash } from '../identity/token-format.ts';
import { scimTokenStatus } from '../services/scim-tokens.ts';
import { findScimTokenForAuth, touchScimToken } from '../store/scim.ts';
import type { Store } from '../store/store.ts';

export type ScimAuth = { readonly ok: true; readonly client: string; readonly tokenId: string } | { readonly ok: false; readonly reason: string };

/** RFC 6750 §3: the challenge of a protected resource that takes bearer tokens. */
export const SCIM_CHALLENGE = 'Bearer realm="gatehouse-scim"';

export function scimAuthenticator(store: Store, now: () => number): (req: IncomingMessage) => Promise<ScimAuth> {
  return async (req) => {
    const h = req.headers.authorization;
    if (typeof h !== 'string') return { ok: false, reason: 'no-credentials' };
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(h);
    if (!m) return { ok: false, reason: 'not-a-bearer-token' };
    const parsed = parseToken(m[1]!);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    if (parsed.kind !== 'scim') return { ok: false, reason: 'not-a-scim-token' };
    const row = await findScimTokenForAuth(store.db, parsed.id);
    if (!row || !sameHash(row.secretHash, parsed.hash)) return { ok: false, reason: 'unknown-token' };
    const status = scimTokenStatus(row, now());
    if (status !== 'active') return { ok: false, reason: `token-${status}` };
    await touchScimToken(store.db, row.id, new Date(now()).toISOString());
    return { ok: true, client: row.name, tokenId: row.id };
  };
}
