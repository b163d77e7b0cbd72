/**
 * RFC 7662 token introspection for opaque bearer tokens: the `introspection` block of an `oidc`
 * provider. The endpoint is configured or found through discovery (`introspection_endpoint`,
 * RFC 8414 §2 / OIDC Discovery); the gateway authenticates as a client with
 * `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1). Answers are cached by the
 * token's SHA-256 (never the token itself): an active one for at most `cacheTtlSeconds` and never
 * beyond the token's `exp`, an inactive one for the short `negativeCacheTtlSeconds`. Concurrent
 * requests with the same token share one introspection call. An endpoint that is down, slow,
 * refuses our client or answers nonsense is "unavailable" (never an allow) and is not cached.
 */
import { readFile } from 'node:fs/promises';
import { Agent, fetch, type Dispatcher, type RequestInit } from 'undici';
import { z } from 'zod';
import { Secret, type Logger } from '../lib/logger.ts';

export const introspectionSchema = z
  .strictObject({
    endpoint: z.url().optional().describe('Introspection endpoint; default: `introspection_endpoint` from the issuer’s discovery document.'),
    clientId: z.string().min(1).describe('Client id the gateway authenticates with at the introspection endpoint.'),
    clientSecret: z.string().min(1).optional().describe('Client secret (prefer `clientSecretFile`).'),
    clientSecretFile: z.string().optional().describe('File holding the client secret (trailing newline ignored; re-read on each call).'),
    clientAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How the client authenticates (RFC 6749 §2.3.1): HTTP Basic or form parameters.'),
    tokens: z
      .enum(['opaque', 'all'])
      .default('opaque')
      .describe('`opaque`: only non-JWT bearer tokens are introspected. `all`: JWTs of this issuer too, after local verification (catches revocation).'),
    requireAudience: z
      .boolean()
      .default(true)
      .describe('Refuse an active token whose introspection response has no `aud` (one with an `aud` must always match `audience`).'),
    cacheTtlSeconds: z
      .number()
      .int()
      .min(0)
      .default(60)
      .describe('Remember an active answer this long at most, never beyond the token’s `exp` (0 disables). A revoked token is refused at the latest after this.'),
    negativeCacheTtlSeconds: z.number().int().min(0).default(5).describe('Remember an inactive answer this long (0 disables).'),
  })
  .refine((c) => (c.clientSecret === undefined) !== (c.clientSecretFile === undefined), {
    message: 'set clientSecret or clientSecretFile (exactly one)',
    path: ['clientSecret'],
  })
  .describe('RFC 7662 introspection of opaque bearer tokens (optional).');

export type IntrospectionConfig = z.output<typeof introspectionSchema>;

export type IntrospectionResult =
  | { readonly kind: 'active'; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly kind: 'inactive' }
  | { readonly kind: 'unavailable' };

export interface IntrospectorOptions {
  readonly issuer: string;
  readonly config: IntrospectionConfig;
  readonly timeoutMs: number;
  readonly caFile?: string;
  /** Cache entries at most (0 disables the cache). */
  readonly cacheSize: number;
  readonly now: () => number;
  readonly log: Logger;
}

export interface Introspector {
  /** `key` is the token's SHA-256 (the cache key); the token itself is only ever sent to the endpoint. */
  introspect(token: string, key: string): Promise<IntrospectionResult>;
  close(): Promise<void>;
}

const MAX_RESPONSE_BYTES = 256 * 1024;
/** After a failed discovery, requests answer "unavailable" this long before discovery is tried again. */
const DISCOVERY_RETRY_MS = 5000;

class Unavailable extends Error {
  override readonly name = 'IntrospectionUnavailable';
}

export function createIntrospector(options: IntrospectorOptions): Introspector {
  const { config, now, log } = options;
  const cache = new Map<string, { result: IntrospectionResult; expires: number }>();
  const inflight = new Map<string, Promise<IntrospectionResult>>();
  let endpoint = config.endpoint;
  let discovering: Promise<string> | undefined;
  let discoveryFailedAt = -Infinity;
  let dispatcher: Dispatcher | undefined;

  async function init(): Promise<Pick<RequestInit, 'signal' | 'dispatcher'>> {
    if (options.caFile && !dispatcher) dispatcher = new Agent({ connect: { ca: await readFile(options.caFile, 'utf8') } });
    return { signal: AbortSignal.timeout(options.timeoutMs), ...(dispatcher && { dispatcher }) };
  }

  async function secret(): Promise<Secret> {
    if (config.clientSecret !== undefined) return new Secret(config.clientSecret);
    return new Secret((await readFile(config.clientSecretFile!, 'utf8')).replace(/\r?\n$/, ''));
  }

  async function discover(): Promise<string> {
    const url = `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { headers: { accept: 'application/json' }, ...(await init()) });
    if (!res.ok) throw new Unavailable(`discovery: HTTP ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; introspection_endpoint?: unknown };
    if (doc.issuer !== options.issuer) throw new Unavailable(`discovery document names issuer ${JSON.stringify(doc.issuer)}`);
    if (typeof doc.introspection_endpoint !== 'string') throw new Unavailable('discovery document has no introspection_endpoint');
    return doc.introspection_endpoint;
  }

  async function endpointUrl(): Promise<string> {
    if (endpoint) return endpoint;
    if (now() - discoveryFailedAt < DISCOVERY_RETRY_MS) throw new Unavailable('discovery failed recently');
    discovering ??= discover().finally(() => (discovering = undefined));
    try {
      endpoint = await discovering;
      return endpoint;
    } catch (err) {
      discoveryFailedAt = now();
      throw err;
    }
  }

  async function call(token: string): Promise<IntrospectionResult> {
    const url = await endpointUrl();
    const pass = await secret();
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
    if (config.clientAuthMethod === 'client_secret_basic') {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and encoded.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${enc(config.clientId)}:${enc(pass.reveal())}`).toString('base64')}`;
    } else {
      form.set('client_id', config.clientId);
      form.set('client_secret', pass.reveal());
    }
    const res = await fetch(url, { method: 'POST', headers, body: form.toString(), ...(await init()) });
    const text = await res.text();
    if (!res.ok) throw new Unavailable(`HTTP ${res.status}${res.status === 401 ? ' (client authentication refused)' : ''}`);
    if (text.length > MAX_RESPONSE_BYTES) throw new Unavailable('response too large');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Unavailable('response is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Unavailable('response is not a JSON object');
    const active = (body as { active?: unknown }).active;
    if (typeof active !== 'boolean') throw new Unavailable('response has no boolean `active`');
    return active ? { kind: 'active', claims: body as Record<string, unknown> } : { kind: 'inactive' };
  }

  function remember(key: string, result: IntrospectionResult): void {
    if (options.cacheSize <= 0 || result.kind === 'unavailable') return;
    let ttlMs = (result.kind === 'active' ? config.cacheTtlSeconds : config.negativeCacheTtlSeconds) * 1000;
    if (result.kind === 'active') {
      const exp = result.claims.exp;
      if (typeof exp === 'number' && Number.isFinite(exp)) ttlMs = Math.min(ttlMs, exp * 1000 - now());
    }
    if (ttlMs <= 0) return;
    cache.delete(key);
    if (cache.size >= options.cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(key, { result, expires: now() + ttlMs });
  }

  return {
    async introspect(token, key) {
      const hit = cache.get(key);
      if (hit) {
        cache.delete(key);
        if (hit.expires > now()) {
          cache.set(key, hit);
          return hit.result;
        }
      }
      const pending = inflight.get(key);
      if (pending) return pending;
      const p = call(token)
        .then((result) => {
          remember(key, result);
          return result;
        })
        .catch((err: unknown): IntrospectionResult => {
          // Only our own messages and undici's (which never carry the request body) are logged.
          log.warn({ issuer: options.issuer, endpoint, err: err instanceof Error ? err.message : String(err) }, 'token introspection failed');
          return { kind: 'unavailable' };
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    async close() {
      await dispatcher?.close();
    },
  };
}
