/**
 * The gateway's rate limits, built once from `rateLimits`: one `RateLimiter` per key kind and
 * operation class, plus the failed-authentication buckets. The pipeline stages
 * (src/pipeline/stages/rate-limit.ts) and the login form ask it; its runner observer charges
 * what can only be known once a request has ended (no principal, a failed authentication).
 */
import type { IncomingMessage } from 'node:http';
import { ERRORS, GatehouseError } from '../errors.ts';
import type { RequestObserver } from '../pipeline/runner.ts';
import { operationClass } from './classes.ts';
import { createMemoryLimiter, type BucketSpec, type RateLimiter, type RateVerdict } from './limiter.ts';
import { OPERATION_CLASSES, type OperationClass, type RateLimitsConfig } from './schema.ts';

/** Whose bucket: request buckets are per principal, tenant or address; failed-auth ones per address or user name. */
export type KeyKind = 'principal' | 'tenant' | 'address' | 'username';
/** The operation classes, plus `failed-auth` for brute-force lockouts (the metric's `class` label). */
export type LimitClass = OperationClass | 'failed-auth';

export interface RateLimits {
  /** Takes `cost` tokens (default 1; 0 only asks) from the `kind` bucket of `id` for class `cls`. */
  take(kind: 'principal' | 'tenant' | 'address', cls: OperationClass, id: string, cost?: number): Promise<RateVerdict>;
  /** Whether the address or the user name is locked out after too many failed attempts; the longer wait wins. */
  lockedOut(address: string, username: string | undefined): Promise<{ kind: 'address' | 'username'; retryAfterMs: number } | undefined>;
  /** Records one failed password attempt from `address`, for `username` when one was given. */
  failed(address: string, username: string | undefined): Promise<void>;
  /** The 429 to answer with (`Retry-After` in whole seconds, rounded up); counts the rejection. */
  rejection(kind: KeyKind, cls: LimitClass, retryAfterMs: number): GatehouseError;
  /** Charges address buckets for requests that ended without a principal, and failed-auth buckets for failed password attempts. */
  readonly observer: RequestObserver;
}

export interface RateLimitsDeps {
  /** Milliseconds clock (tests move it). */
  readonly now: () => number;
  /** Counts a 429 (the `gatehouse_rate_limited_total` metric). */
  readonly onReject?: (cls: LimitClass, key: KeyKind) => void;
  /**
   * Builds the limiter of one bucket family (`name` is unique, e.g. `principal:reads`).
   * Default: in memory. Issue 7 (scale-out) plugs a Redis-backed `RateLimiter` in here.
   */
  readonly limiter?: (name: string, spec: BucketSpec) => RateLimiter;
  /** Told when the `limiter` back end failed and `onBackendError` let the request pass (a warning to log). */
  readonly onBackendError?: (err: Error) => void;
}

const ALLOWED: RateVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * A shared back end (Redis) can fail; the in-memory one cannot. Fail closed by default: 503
 * GATEHOUSE_RATE_LIMIT_UNAVAILABLE, never a silent pass (`rateLimits.onBackendError`).
 */
function guarded(limiter: RateLimiter, mode: RateLimitsConfig['onBackendError'], warn: ((err: Error) => void) | undefined): RateLimiter {
  return {
    async consume(key, cost) {
      try {
        return await limiter.consume(key, cost);
      } catch (err) {
        if (err instanceof TypeError) throw err;
        if (mode === 'deny') throw new GatehouseError('GATEHOUSE_RATE_LIMIT_UNAVAILABLE', (err as Error).message);
        warn?.(err as Error);
        return ALLOWED;
      }
    },
  };
}

/**
 * Whether the request carries an `Authorization: Basic` header (a password attempt), and its
 * user name lower-cased (one lockout per name however it is spelled) when it has one.
 * Undefined: not a password attempt. Tokens are not counted toward lockouts: they cannot be
 * guessed, and a job retrying with an expired token must not lock out its whole address.
 */
export function basicAttempt(req: IncomingMessage): { readonly username: string | undefined } | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !/^basic(\s|$)/i.test(h)) return undefined;
  const m = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(h);
  const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const name = colon < 0 ? '' : decoded.slice(0, colon);
  return { username: name === '' ? undefined : name.toLowerCase() };
}

/** Undefined when `rateLimits.enabled` is false. */
export function createRateLimits(config: RateLimitsConfig, deps: RateLimitsDeps): RateLimits | undefined {
  if (!config.enabled) return undefined;
  const shared = deps.limiter;
  const make = shared
    ? (name: string, spec: BucketSpec) => guarded(shared(name, spec), config.onBackendError, deps.onBackendError)
    : (_name: string, spec: BucketSpec) => createMemoryLimiter({ ...spec, maxKeys: config.maxKeys, now: deps.now });
  const families = (kind: 'principal' | 'tenant' | 'address') =>
    Object.fromEntries(OPERATION_CLASSES.map((c) => [c, make(`${kind}:${c}`, config[kind][c])])) as Record<OperationClass, RateLimiter>;
  const requests = { principal: families('principal'), tenant: families('tenant'), address: families('address') };
  const failedAddress = make('failed-auth:address', config.failedAuth.address);
  const failedUsername = make('failed-auth:username', config.failedAuth.username);

  const limits: RateLimits = {
    take: (kind, cls, id, cost = 1) => requests[kind][cls].consume(id, cost),
    async lockedOut(address, username) {
      const [a, u] = await Promise.all([failedAddress.consume(address, 0), username === undefined ? undefined : failedUsername.consume(username.toLowerCase(), 0)]);
      if (a.allowed && (u === undefined || u.allowed)) return undefined;
      if (!a.allowed && (u === undefined || u.allowed || a.retryAfterMs >= u.retryAfterMs)) return { kind: 'address', retryAfterMs: a.retryAfterMs };
      return { kind: 'username', retryAfterMs: u!.retryAfterMs };
    },
    async failed(address, username) {
      await Promise.all([failedAddress.consume(address, 1), username === undefined ? undefined : failedUsername.consume(username.toLowerCase(), 1)]);
    },
    rejection(kind, cls, retryAfterMs) {
      deps.onReject?.(cls, kind);
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      return new GatehouseError('GATEHOUSE_RATE_LIMITED', `${kind} ${cls}`, { 'retry-after': String(seconds) });
    },
    observer: {
      onDone({ ctx }) {
        // The limiter's own refusals are not charged again: a client retrying early waits the same.
        if (ctx.errorCode === 'GATEHOUSE_RATE_LIMITED') return;
        // Nor is the gateway's own outage (a 5xx it answered itself: the store, the directory or the IdP
        // could not be asked): the client did nothing wrong, and others behind its address must not get 429.
        if (ctx.errorCode !== undefined && ERRORS[ctx.errorCode].status >= 500) return;
        const attempt = ctx.errorCode === 'GATEHOUSE_AUTHN_INVALID' ? basicAttempt(ctx.req) : undefined;
        // A back-end outage here has already answered the request (or let it pass): nothing more to do.
        if (attempt) limits.failed(ctx.peer, attempt.username).catch(() => undefined);
        if (ctx.principal === undefined && ctx.route !== undefined) limits.take('address', operationClass(ctx.route.row), ctx.peer).catch(() => undefined);
      },
    },
  };
  return limits;
}
