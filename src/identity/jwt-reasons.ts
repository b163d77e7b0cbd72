/**
 * Why a bearer JWT was refused, as stable reason ids for logs and audit, from jose's error
 * codes (https://github.com/panva/jose/blob/main/docs/util/errors). Anything that is not the
 * token's fault maps to undefined and is rethrown (an internal error, never an allow).
 */

/** Reason ids for refused tokens (audit-ready). */
export type OidcReason =
  | 'alg-none' | 'alg-not-allowed' | 'bad-signature' | 'unknown-kid' | 'expired' | 'not-yet-valid'
  | 'wrong-issuer' | 'wrong-audience' | 'missing-exp' | 'malformed'
  /** RFC 8705: bound to another client certificate than the connection's (or to one, over none). */
  | 'cnf-mismatch'
  /** A `cnf` confirmation method Gatehouse cannot check (e.g. DPoP `jkt`): not usable as a plain bearer. */
  | 'cnf-unsupported'
  /** RFC 7662: the issuer's introspection endpoint says the token is not active (revoked, expired, unknown). */
  | 'inactive-token'
  /** `exp - iat`, or `exp` from now, beyond the provider's `maxTokenLifetimeSeconds`. */
  | 'lifetime-too-long'
  /** `iat` later than now plus `clockSkewSeconds`. */
  | 'issued-in-future';

/**
 * RFC 7519 §4.1.4 and §4.1.6 leave it to the relying party to bound a token's life: a token
 * issued in the future (beyond the clock skew), or living longer than `maxS` — by `exp - iat`,
 * or, with or without `iat`, by `exp` from now — is refused, so a leaked or forged-by-mistake
 * token cannot stay valid for years (and no cache keeps it that long). Times in seconds;
 * `exp` and `iat` were already checked to be numbers when present.
 */
export function lifetimeReason(claims: { readonly exp?: unknown; readonly iat?: unknown }, nowS: number, skewS: number, maxS: number): OidcReason | undefined {
  const { exp, iat } = claims;
  if (typeof iat === 'number' && iat - skewS > nowS) return 'issued-in-future';
  if (typeof exp !== 'number') return undefined;
  if (typeof iat === 'number' && exp - iat > maxS) return 'lifetime-too-long';
  return exp - nowS > maxS + skewS ? 'lifetime-too-long' : undefined;
}

/** jose error codes → reason ids; undefined for anything that is not the token's fault. */
export function reasonFor(err: unknown): OidcReason | undefined {
  const e = err as { code?: string; claim?: string; reason?: string };
  switch (e.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad-signature';
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg-not-allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown-kid';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'nbf') return 'not-yet-valid';
      if (e.claim === 'iss') return 'wrong-issuer';
      if (e.claim === 'aud') return 'wrong-audience';
      if (e.claim === 'exp' && e.reason === 'missing') return 'missing-exp';
      return 'malformed';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWK_INVALID':
      return 'malformed';
    default:
      return undefined;
  }
}
