/**
 * An issuer's signing keys: found through OpenID discovery (OIDC Discovery 1.0 §4, the
 * `issuer` in the document must equal the configured one) or an explicit JWKS URL, cached,
 * refreshed when older than `maxAgeMs`, and refetched when a token names an unknown `kid` —
 * at most once per `refetchMinIntervalMs`, counted from the last attempt of any kind, so a
 * stream of tokens with invented key ids cannot turn the gateway into a fetch cannon.
 * Concurrent refreshes share one request. A failed refresh keeps the keys already held.
 * Keys Node cannot or must not use are left out at load (`usableKeys`), so a token naming one
 * finds no key (401 `unknown-kid`) instead of failing inside the verification (a 500).
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { Logger } from '../lib/logger.ts';

export interface KeySourceOptions {
  readonly issuer: string;
  /** Explicit JWKS URL; when absent, discovery finds it. */
  readonly jwksUri?: string;
  readonly refetchMinIntervalMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  /** PEM CA bundle for the discovery and JWKS requests (e.g. the Kubernetes cluster CA). */
  readonly caFile?: string;
  /** A bearer token file sent with those requests (the Kubernetes API server may require one). */
  readonly authTokenFile?: string;
  readonly now: () => number;
  readonly log: Logger;
  /** Told of every load attempt's outcome (the `gatehouse_jwks_refreshes_total` metric). */
  readonly onRefresh?: (ok: boolean) => void;
  /** Told of every key left out of a load (the `gatehouse_jwks_keys_skipped_total` metric). */
  readonly onSkippedKey?: (reason: SkipReason) => void;
}

/** Why a published key is not used. */
export type SkipReason = 'weak-key' | 'unusable-key' | 'unsupported-kty' | 'malformed';

/** RFC 7518 §3.3: RSA keys of 2048 bits or more (jose refuses smaller ones only when a token is verified). */
const MIN_RSA_BITS = 2048;

/**
 * The keys of a JWKS that can verify signatures: a key type jose verifies with (RSA, EC, OKP)
 * that Node imports (an EC point on its curve, a known curve) and, for RSA, of at least 2048
 * bits. The others are reported with a reason.
 */
export function usableKeys(jwks: unknown, skipped: (kid: string | undefined, reason: SkipReason) => void): JWK[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('the JWKS has no "keys" array');
  const usable: JWK[] = [];
  for (const key of keys as unknown[]) {
    const reason = whyUnusable(key);
    if (reason === undefined) usable.push(key as JWK);
    else skipped(typeof (key as JWK | null)?.kid === 'string' ? (key as JWK).kid : undefined, reason);
  }
  return usable;
}

function whyUnusable(key: unknown): SkipReason | undefined {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) return 'malformed';
  const jwk = key as JWK;
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return 'unsupported-kty';
  let bits: number | undefined;
  try {
    bits = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch {
    return 'unusable-key';
  }
  return jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS) ? 'weak-key' : undefined;
}

/** The keys could not be loaded at all: an outage, not a bad token. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

type Resolver = ReturnType<typeof createLocalJWKSet>;

export interface KeySource {
  /** A jose key resolver (for `jwtVerify`). */
  readonly getKey: (header: JWSHeaderParameters, input: FlattenedJWSInput) => ReturnType<Resolver>;
  /** Loads the keys if allowed by the rate limit; resolves once an attempt has finished. */
  load(): Promise<void>;
  loaded(): boolean;
  close(): Promise<void>;
}

const MAX_DOCUMENT_BYTES = 512 * 1024;

export function createKeySource(options: KeySourceOptions): KeySource {
  const { now, log } = options;
  let jwksUri = options.jwksUri;
  let resolver: Resolver | undefined;
  let loadedAt = -Infinity;
  let attemptedAt = -Infinity;
  /** The last load attempt failed: the keys held may be stale (the IdP rotated and could not be asked). */
  let lastLoadFailed = false;
  let inflight: Promise<void> | undefined;
  let dispatcher: Dispatcher | undefined;

  async function getJson(url: string): Promise<unknown> {
    if (options.caFile && !dispatcher) dispatcher = new Agent({ connect: { ca: await readFile(options.caFile, 'utf8') } });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.authTokenFile) headers.authorization = `Bearer ${(await readFile(options.authTokenFile, 'utf8')).trim()}`;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs), ...(dispatcher && { dispatcher }) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`GET ${url}: document too large`);
    return JSON.parse(text) as unknown;
  }

  async function discover(): Promise<string> {
    const url = `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = (await getJson(url)) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== options.issuer) throw new Error(`discovery document names issuer ${JSON.stringify(doc.issuer)}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
    return doc.jwks_uri;
  }

  async function refresh(why: string): Promise<void> {
    attemptedAt = now();
    try {
      jwksUri ??= await discover();
      const keys = usableKeys(await getJson(jwksUri), (kid, reason) => {
        log.warn({ issuer: options.issuer, kid, reason }, 'jwks key left out: tokens naming it are refused');
        options.onSkippedKey?.(reason);
      });
      resolver = createLocalJWKSet({ keys } satisfies JSONWebKeySet);
      loadedAt = now();
      lastLoadFailed = false;
      log.debug({ issuer: options.issuer, why, keys: keys.length }, 'jwks loaded');
      options.onRefresh?.(true);
    } catch (err) {
      lastLoadFailed = true;
      options.onRefresh?.(false);
      log.warn({ issuer: options.issuer, why, err: err instanceof Error ? err.message : String(err) }, 'jwks load failed');
    }
  }

  /** One refresh at a time, and none within the minimum interval of the previous attempt. */
  function maybeRefresh(why: string): Promise<void> {
    if (inflight) return inflight;
    if (now() - attemptedAt < options.refetchMinIntervalMs) return Promise.resolve();
    inflight = refresh(why).finally(() => (inflight = undefined));
    return inflight;
  }

  async function current(): Promise<Resolver> {
    if (!resolver || now() - loadedAt >= options.maxAgeMs) await maybeRefresh(resolver ? 'max-age' : 'initial');
    if (!resolver) throw new KeysUnavailableError(`keys of ${options.issuer} are not loaded`);
    return resolver;
  }

  const getKey: KeySource['getKey'] = async (header, input) => {
    const before = await current();
    try {
      return await before(header, input);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      await maybeRefresh('unknown-kid');
      // No such key after a failed load is an outage (503, retry), not a bad token (401): the IdP may have rotated.
      if (resolver === before) throw lastLoadFailed ? new KeysUnavailableError(`no key ${JSON.stringify(header.kid)} held, and the keys of ${options.issuer} could not be reloaded`) : err;
      return await resolver!(header, input);
    }
  };

  return {
    getKey,
    load: () => maybeRefresh(resolver ? 'reload' : 'initial'),
    loaded: () => resolver !== undefined,
    async close() {
      await dispatcher?.close();
    },
  };
}
