/**
 * OAuth2 / OIDC bearer JWTs (RFC 6750 `Authorization: Bearer`, RFC 9068 access tokens,
 * Kubernetes projected service-account tokens). One entry per issuer: a token whose
 * unverified `iss` names another issuer is "not mine", as is an opaque (non-JWS) bearer.
 * Everything else is verified against the issuer's keys with pinned algorithms, issuer and
 * audience, a required `exp` and a small clock skew. Verified tokens are remembered until
 * they expire (LRU, keyed by the token's SHA-256), so a hot token costs no signature check.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import { claimMappingSchema } from './claims.ts';
import { createKeySource, KeysUnavailableError } from './jwks.ts';
import { compileMapping } from './oidc-principal.ts';
import type { AuthResult, IdentityProvider, Principal } from './principal.ts';
import { reasonFor, type OidcReason } from './jwt-reasons.ts';

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const int = (def: number, min: number, text: string) => z.number().int().min(min).default(def).describe(text);

export const oidcBearerSchema = z
  .strictObject({
    type: z.literal('oidc'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('oidc').describe('Provider id, used in principal ids (`<id>:<subject>`), audit and metrics.'),
    issuer: z
      .string()
      .min(1)
      .describe('The issuer, exactly as it appears in `iss` (tokens of other issuers are left to other providers). Discovery needs it to be an http(s) URL.'),
    discovery: z.boolean().default(true).describe('Find the JWKS URL through `<issuer>/.well-known/openid-configuration`.'),
    jwksUri: z.url().optional().describe('Explicit JWKS URL; when set, discovery is not used.'),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('Accepted `aud` value(s); required, so tokens minted for other services are refused.'),
    algorithms: z.array(z.enum(ASYMMETRIC)).min(1).default(['RS256', 'ES256']).describe('Accepted signature algorithms (asymmetric only).'),
    clockSkewSeconds: z.number().int().min(0).max(300).default(30).describe('Tolerance for `exp` and `nbf` (seconds).'),
    claims: claimMappingSchema,
    serviceAccount: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe('`auto`: a client-credentials token (`sub` equals `client_id`/`azp`) or one without email and name claims is a service account.'),
    admin: z
      .strictObject({
        groups: z.array(z.string()).default([]).describe('Group names that make the principal a platform administrator.'),
        roles: z.array(z.string()).default([]).describe('Role names (after mapping) that make the principal a platform administrator.'),
      })
      .prefault({})
      .describe('Platform administrators by IdP group or role.'),
    jwksRefetchMinIntervalSeconds: int(30, 0, 'Least time between two JWKS fetches caused by an unknown `kid` (seconds).'),
    jwksMaxAgeSeconds: int(600, 1, 'Refresh the JWKS when it is older than this (seconds).'),
    httpTimeoutMs: int(5000, 100, 'Timeout of the discovery and JWKS requests (milliseconds).'),
    caFile: z.string().optional().describe('PEM CA bundle for the discovery and JWKS requests (e.g. the Kubernetes cluster CA).'),
    authTokenFile: z.string().optional().describe('File with a bearer token sent with the discovery and JWKS requests (re-read each time).'),
    cacheSize: int(10_000, 0, 'Verified tokens remembered until they expire (entries; 0 disables).'),
  })
  .refine((c) => c.jwksUri !== undefined || (c.discovery && /^https?:\/\//.test(c.issuer)), {
    message: 'set jwksUri, or enable discovery with an http(s) issuer',
    path: ['jwksUri'],
  })
  .describe('OAuth2/OIDC bearer JWTs from one issuer (an OIDC IdP, an OAuth2 server, the Kubernetes API server).');

export type OidcBearerConfig = z.infer<typeof oidcBearerSchema>;

export interface OidcBearerDeps {
  readonly log: Logger;
  readonly realm: string;
  readonly now: () => number;
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function oidcBearerProvider(config: OidcBearerConfig, deps: OidcBearerDeps): IdentityProvider {
  const { now } = deps;
  const keys = createKeySource({
    issuer: config.issuer,
    ...(config.jwksUri !== undefined && { jwksUri: config.jwksUri }),
    refetchMinIntervalMs: config.jwksRefetchMinIntervalSeconds * 1000,
    maxAgeMs: config.jwksMaxAgeSeconds * 1000,
    timeoutMs: config.httpTimeoutMs,
    ...(config.caFile !== undefined && { caFile: config.caFile }),
    ...(config.authTokenFile !== undefined && { authTokenFile: config.authTokenFile }),
    now,
    log: deps.log,
  });
  const toPrincipal = compileMapping(config);
  const cache = new Map<string, { principal: Principal; expires: number }>();
  const invalid = (reason: OidcReason): AuthResult => ({ kind: 'invalid', reason });
  void keys.load();

  return {
    id: config.id,
    challenge: `Bearer realm="${deps.realm}"`,
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const match = /^bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
      if (!match || !JWS_COMPACT.test(match[1]!)) return { kind: 'not-mine' };
      const token = match[1]!;
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = cache.get(key);
      if (hit) {
        cache.delete(key);
        if (hit.expires > now()) {
          cache.set(key, hit);
          return { kind: 'principal', principal: hit.principal };
        }
      }
      let alg: unknown;
      let iss: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
        iss = decodeJwt(token).iss;
      } catch {
        return invalid('malformed');
      }
      // Routing only: the unverified issuer picks the provider; the verification pins it again.
      // If no other provider claims the token, the reason makes it a 401 "wrong-issuer".
      if (typeof iss === 'string' && iss !== config.issuer) return { kind: 'not-mine', reason: 'wrong-issuer' };
      if (typeof alg !== 'string') return invalid('malformed');
      if (alg.toLowerCase() === 'none') return invalid('alg-none');
      if (!(config.algorithms as readonly string[]).includes(alg)) return invalid('alg-not-allowed');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys.getKey, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: config.algorithms,
          clockTolerance: config.clockSkewSeconds,
          currentDate: new Date(now()),
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        if (err instanceof KeysUnavailableError) return { kind: 'unavailable', reason: 'jwks-unavailable' };
        const reason = reasonFor(err);
        if (!reason) throw err;
        return invalid(reason);
      }
      const principal = toPrincipal(payload);
      if (!principal) return invalid('malformed');
      if (config.cacheSize > 0) {
        if (cache.size >= config.cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(key, { principal, expires: payload.exp! * 1000 });
      }
      return { kind: 'principal', principal };
    },
    async ready() {
      if (!keys.loaded()) await keys.load();
      return keys.loaded() ? { ok: true } : { ok: false, detail: `${config.id}: signing keys of ${config.issuer} not loaded` };
    },
    close: () => keys.close(),
  };
}
