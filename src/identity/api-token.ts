/**
 * API tokens (src/identity/token-format.ts): personal tokens of local users and tokens of
 * service accounts. Accepted as `Authorization: Bearer <token>` (the MLflow client's
 * `MLFLOW_TRACKING_TOKEN`) and as the password of HTTP Basic with any user name, for tools that
 * speak only Basic. Anything without the `gth_` prefix is "not mine" (OIDC JWTs, passwords).
 *
 * There is no positive cache: every request does one indexed lookup by the token's public id,
 * so a revocation (or an owner being disabled) takes effect on the very next request, in every
 * replica. The checksum is checked first, so a mistyped token never reaches the store.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import { findTokenForAuth, tokenStatus, touchToken, type TokenForAuth } from '../store/tokens.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { bearerToken, looksLikeToken, parseToken, sameHash } from './token-format.ts';
import { asLocalName } from './local-names.ts';
import type { Principal } from '../model/principal.ts';

export const apiTokenSchema = z
  .strictObject({
    type: z.literal('token'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('token').describe('Provider id, used in principal ids (`<id>:<user>`, `<id>:sa:<service account>`), audit and metrics.'),
    lastUsedIntervalMs: z
      .number()
      .int()
      .min(1000)
      .default(60_000)
      .describe("Least time between two writes of a token's last-used time (milliseconds); the write never delays the request."),
  })
  .describe('API tokens (`gth_pat_...`, `gth_sat_...`) as Bearer tokens or as the HTTP Basic password. List it before `local` and `ldap`.');

export type ApiTokenConfig = z.infer<typeof apiTokenSchema>;

export interface ApiTokenDeps {
  readonly store: Store;
  readonly log: Logger;
  readonly realm: string;
  readonly now: () => number;
}

const MAX_TOUCHED = 10_000;

/** The token from `Bearer <token>` or from a Basic password; undefined when the request carries none. */
function presentedToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bearer = bearerToken(header);
  if (bearer !== undefined) return looksLikeToken(bearer) ? bearer : undefined;
  if (!/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  return decoded.includes(':') && looksLikeToken(password) ? password : undefined;
}

export function apiTokenProvider(config: ApiTokenConfig, deps: ApiTokenDeps): IdentityProvider {
  const { store, log, now } = deps;
  const touched = new Map<string, number>();

  /** Records use at most once per interval per token, after the response path has moved on. */
  function recordUse(id: string, at: number): void {
    const last = touched.get(id);
    if (last !== undefined && at - last < config.lastUsedIntervalMs) return;
    if (touched.size >= MAX_TOUCHED) touched.clear();
    touched.set(id, at);
    setImmediate(() => {
      touchToken(store.db, id, new Date(at)).catch((err: Error) => log.warn({ tokenId: id, err: err.message }, 'could not record API token use'));
    });
  }

  function principalOf(row: TokenForAuth): Principal {
    const restrict = {
      ...(row.tenant !== null && { tenant: row.tenant }),
      ...(row.maxRole !== null && { maxRole: row.maxRole }),
    };
    const o = row.owner;
    const local = asLocalName(o.name);
    return {
      id: o.kind === 'user' ? `${config.id}:${o.name}` : `${config.id}:sa:${o.name}`,
      kind: o.kind,
      name: o.name,
      // The token's owner is the local user or service account of that name.
      ...(local !== undefined && { localName: local }),
      groups: [],
      tenants: [],
      roles: [],
      admin: o.kind === 'user' && o.admin,
      method: 'token',
      provider: config.id,
      ...(Object.keys(restrict).length > 0 && { restrict }),
    };
  }

  return {
    id: config.id,
    challenge: `Bearer realm="${deps.realm}"`,
    publicReasons: true,
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const token = presentedToken(req.headers.authorization);
      if (token === undefined) return { kind: 'not-mine' };
      const parsed = parseToken(token);
      if (!parsed.ok) return { kind: 'invalid', reason: parsed.reason };
      // A SCIM client's token opens the SCIM door and nothing else (src/scim/auth.ts).
      if (parsed.kind === 'scim') return { kind: 'invalid', reason: 'scim-token' };
      let row: TokenForAuth | undefined;
      try {
        row = await findTokenForAuth(store.db, parsed.id);
      } catch (err) {
        log.error({ tokenId: parsed.id, err: (err as Error).message }, 'API token lookup failed');
        return { kind: 'unavailable', reason: 'store-unavailable' };
      }
      // An unknown id and a wrong secret look the same to the caller.
      if (!row || !sameHash(row.secretHash, parsed.hash)) return { kind: 'invalid', reason: 'unknown-token' };
      if ((parsed.kind === 'personal') !== (row.owner.kind === 'user')) return { kind: 'invalid', reason: 'unknown-token' };
      const at = now();
      // One rule for listing and accepting alike (a rotated token's overlap included).
      const status = tokenStatus(row, at);
      if (status !== 'active') return { kind: 'invalid', reason: status };
      recordUse(row.id, at);
      return { kind: 'principal', principal: principalOf(row) };
    },
  };
}
