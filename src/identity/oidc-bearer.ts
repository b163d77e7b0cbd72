/**
 * OAuth2 / OIDC bearer JWTs (RFC 6750 `Authorization: Bearer`, RFC 9068 access tokens,
 * Kubernetes projected service-account tokens). One entry per issuer: a token whose
 * unverified `iss` names another issuer is "not mine", as is an opaque (non-JWS) bearer.
 * Everything else is verified against the issuer's keys with pinned algorithms, issuer and
 * audience, a required `exp` and a small clock skew. Verified tokens are remembered until
 * they expire (LRU, keyed by the token's SHA-256), so a hot token costs no signature check.
 * A token bound to a client certificate (RFC 8705 `cnf.x5t#S256`) is accepted only over a TLS
 * connection presenting exactly that certificate, cached or not.
 * With an `introspection` block, opaque bearers (not Gatehouse API tokens) are checked at the
 * issuer's RFC 7662 endpoint instead (src/identity/introspection.ts) and mapped with the same
 * claim mapping; `tokens: all` sends this issuer's verified JWTs there too.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import { NO_METRICS, type CacheMetrics, type JwksMetrics } from '../metrics/definitions.ts';
import { claimMappingSchema } from './claims.ts';
import { assertsLocalNamesSchema } from './local-names.ts';
import { linkSchema } from './link.ts';
import { createKeySource, KeysUnavailableError } from './jwks.ts';
import { createIntrospector, introspectionSchema } from './introspection.ts';
import { bearerToken, looksLikeJws, looksLikeToken } from './token-format.ts';
import { compileMapping } from './oidc-principal.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { peerCertificateThumbprint } from './mtls.ts';
import { lifetimeReason, reasonFor, type OidcReason } from './jwt-reasons.ts';
import type { Principal } from '../model/principal.ts';

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
    clockSkewSeconds: z.number().int().min(0).max(300).default(30).describe('Tolerance for `exp`, `nbf` and `iat` (an `iat` further ahead is refused) (seconds).'),
    maxTokenLifetimeSeconds: z
      .number()
      .int()
      .min(60)
      .max(10 * 366 * 86_400)
      .default(86_400)
      .describe(
        'Longest a token may live: `exp - iat`, and `exp` from now (with or without `iat`), plus `clockSkewSeconds`; longer-lived tokens are refused (`lifetime-too-long`) (seconds). The default, one day, covers the access tokens of Entra ID, Okta, Keycloak, Auth0 and Google; Kubernetes service-account tokens of the default projected volume are issued for a year (`--service-account-extend-token-expiration`): raise it, or mount a projected token with its own `expirationSeconds`.',
      ),
    claims: claimMappingSchema,
    serviceAccount: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe('`auto`: a client-credentials token (`sub` equals `client_id`/`azp`) or one without email and name claims is a service account.'),
    assertsLocalNames: assertsLocalNamesSchema,
    link: linkSchema,
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
    introspection: introspectionSchema.optional(),
  })
  .refine((c) => c.jwksUri !== undefined || (c.discovery && /^https?:\/\//.test(c.issuer)), {
    message: 'set jwksUri, or enable discovery with an http(s) issuer',
    path: ['jwksUri'],
  })
  .refine((c) => c.introspection?.endpoint !== undefined || c.introspection === undefined || /^https?:\/\//.test(c.issuer), {
    message: 'set introspection.endpoint, or use an http(s) issuer so discovery can find it',
    path: ['introspection', 'endpoint'],
  })
  .describe('OAuth2/OIDC bearer JWTs from one issuer (an OIDC IdP, an OAuth2 server, the Kubernetes API server).');

export type OidcBearerConfig = z.infer<typeof oidcBearerSchema>;

export interface OidcBearerDeps {
  readonly log: Logger;
  readonly realm: string;
  readonly now: () => number;
  /** Cache lookups (`oidc-token`) and JWKS refreshes; default: not counted. */
  readonly metrics?: CacheMetrics & JwksMetrics;
}

export function oidcBearerProvider(config: OidcBearerConfig, deps: OidcBearerDeps): IdentityProvider {
  const { now } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
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
    onRefresh: (ok) => metrics.jwksRefresh(config.id, ok),
    onSkippedKey: (reason) => metrics.jwksKeySkipped(config.id, reason),
  });
  const toPrincipal = compileMapping(config);
  // Keyed by the token's SHA-256 as 32 one-byte characters (48 bytes, not 64 for base64url), with
  // `exp` in seconds (a small integer, not a boxed millisecond number): at 100k cached tokens each
  // byte per entry is 100 KB (docs/performance.md, footprint).
  const cache = new Map<string, { principal: Principal; exp: number; x5t: string | undefined }>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('binary');
  const invalid = (reason: OidcReason): AuthResult => ({ kind: 'invalid', reason });
  const introspector =
    config.introspection &&
    createIntrospector({
      issuer: config.issuer,
      config: config.introspection,
      timeoutMs: config.httpTimeoutMs,
      ...(config.caFile !== undefined && { caFile: config.caFile }),
      cacheSize: config.cacheSize,
      now,
      log: deps.log,
    });
  const introspectAll = config.introspection?.tokens === 'all';
  const audiences = new Set(typeof config.audience === 'string' ? [config.audience] : config.audience);
  void keys.load();

  /** RFC 7662: an opaque token, by the issuer's word; the answer is checked like a JWT's claims. */
  async function introspected(req: IncomingMessage, token: string, key: string): Promise<AuthResult> {
    const answer = await introspector!.introspect(token, key);
    if (answer.kind === 'unavailable') return { kind: 'unavailable', reason: 'introspection-unavailable' };
    if (answer.kind === 'inactive') return invalid('inactive-token');
    const claims = answer.claims;
    const reason =
      checkIntrospected(claims, config.issuer, audiences, config.introspection!.requireAudience, now(), config.clockSkewSeconds) ??
      lifetimeReason(claims, now() / 1000, config.clockSkewSeconds, config.maxTokenLifetimeSeconds);
    if (reason) return invalid(reason);
    // RFC 9068 §2.2: a client-credentials token's subject is the client (RFC 7662 makes `sub` optional).
    const payload = (claims.sub === undefined && typeof claims.client_id === 'string' ? { ...claims, sub: claims.client_id } : claims) as JWTPayload;
    const principal = toPrincipal(payload);
    if (!principal) return invalid('malformed');
    const x5t = certificateBinding(payload);
    if (typeof x5t === 'object') return invalid(x5t.refused);
    if (x5t !== undefined && x5t !== peerCertificateThumbprint(req)) return invalid('cnf-mismatch');
    return { kind: 'principal', principal };
  }

  /** `tokens: all`: a locally verified JWT must also be active at the issuer (not revoked). */
  async function stillActive(token: string, key: string, ok: AuthResult): Promise<AuthResult> {
    if (!introspectAll || ok.kind !== 'principal') return ok;
    const answer = await introspector!.introspect(token, key);
    if (answer.kind === 'unavailable') return { kind: 'unavailable', reason: 'introspection-unavailable' };
    return answer.kind === 'active' ? ok : invalid('inactive-token');
  }

  return {
    id: config.id,
    challenge: `Bearer realm="${deps.realm}"`,
    publicReasons: true,
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const token = bearerToken(req.headers.authorization);
      if (token === undefined) return { kind: 'not-mine' };
      if (!looksLikeJws(token)) {
        // Opaque: ours to introspect, unless it is a Gatehouse API token (the token provider's).
        if (!introspector || looksLikeToken(token)) return { kind: 'not-mine' };
        return introspected(req, token, keyOf(token));
      }
      const key = keyOf(token);
      const hit = cache.get(key);
      const fresh = hit !== undefined && hit.exp * 1000 > now();
      if (config.cacheSize > 0) metrics.lookup('oidc-token', fresh);
      if (hit) {
        cache.delete(key);
        if (fresh) {
          cache.set(key, hit);
          if (hit.x5t !== undefined && hit.x5t !== peerCertificateThumbprint(req)) return invalid('cnf-mismatch');
          return stillActive(token, key, { kind: 'principal', principal: hit.principal });
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
      // RFC 7519 §4.1.2-3: sub is a string, aud a string or an array of strings. jose accepts an
      // array with one matching entry whatever the others are; a token of the wrong shape is refused.
      const { aud, sub } = payload as { aud?: unknown; sub?: unknown };
      if (!(typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) || (sub !== undefined && typeof sub !== 'string')) {
        return invalid('malformed');
      }
      const lifetime = lifetimeReason(payload, now() / 1000, config.clockSkewSeconds, config.maxTokenLifetimeSeconds);
      if (lifetime) return invalid(lifetime);
      const principal = toPrincipal(payload);
      if (!principal) return invalid('malformed');
      const x5t = certificateBinding(payload);
      if (typeof x5t === 'object') return invalid(x5t.refused);
      if (config.cacheSize > 0) {
        if (cache.size >= config.cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(key, { principal, exp: payload.exp!, x5t });
      }
      if (x5t !== undefined && x5t !== peerCertificateThumbprint(req)) return invalid('cnf-mismatch');
      return stillActive(token, key, { kind: 'principal', principal });
    },
    async ready() {
      if (!keys.loaded()) await keys.load();
      return keys.loaded() ? { ok: true } : { ok: false, detail: `${config.id}: signing keys of ${config.issuer} not loaded` };
    },
    close: async () => {
      await Promise.all([keys.close(), introspector?.close()]);
    },
  };
}

/**
 * The checks RFC 7662 §4 leaves to the resource server, on an active answer: `iss` (when given)
 * is this issuer, `exp`/`nbf` (when given) hold with the clock skew, `aud` matches the configured
 * audience (and must be present unless `requireAudience` is off). Undefined when all hold.
 */
function checkIntrospected(
  claims: Readonly<Record<string, unknown>>,
  issuer: string,
  audiences: ReadonlySet<string>,
  requireAudience: boolean,
  nowMs: number,
  skewS: number,
): OidcReason | undefined {
  const { iss, exp, nbf, aud, sub } = claims;
  if (iss !== undefined && iss !== issuer) return typeof iss === 'string' ? 'wrong-issuer' : 'malformed';
  if (sub !== undefined && typeof sub !== 'string') return 'malformed';
  const nowS = nowMs / 1000;
  if (exp !== undefined) {
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'malformed';
    if (exp + skewS <= nowS) return 'expired';
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) return 'malformed';
    if (nbf - skewS > nowS) return 'not-yet-valid';
  }
  if (aud === undefined) return requireAudience ? 'wrong-audience' : undefined;
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (!list) return 'malformed';
  return list.some((a) => audiences.has(a)) ? undefined : 'wrong-audience';
}

/**
 * RFC 8705 §3.1 / RFC 7800: the certificate thumbprint a token is bound to (`cnf.x5t#S256`),
 * undefined for a token without `cnf` (a plain bearer), or why a `cnf` cannot be honoured.
 */
function certificateBinding(payload: JWTPayload): string | undefined | { refused: OidcReason } {
  const cnf = payload.cnf;
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return { refused: 'malformed' };
  const x5t = (cnf as Record<string, unknown>)['x5t#S256'];
  if (x5t === undefined) return { refused: 'cnf-unsupported' };
  return typeof x5t === 'string' && /^[A-Za-z0-9_-]{43}$/.test(x5t) ? x5t : { refused: 'malformed' };
}
