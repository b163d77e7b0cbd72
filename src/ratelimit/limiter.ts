/**
 * Token buckets behind one small interface, so the back end can change without touching the
 * pipeline: in memory on one machine (here); shared through Redis across replicas later
 * (issue 7, the scale-out issue, implements `RateLimiter` over Redis with the same semantics).
 */

export interface RateVerdict {
  readonly allowed: boolean;
  /** When `allowed` is false: milliseconds until the request would be allowed. 0 otherwise. */
  readonly retryAfterMs: number;
}

/**
 * One family of token buckets with the same rate and burst, one bucket per key. `consume`
 * takes `cost` tokens when the key's bucket holds that many, else refuses without taking any.
 * A `cost` of 0 asks without taking: allowed while the bucket holds at least one token (how
 * lockouts are checked before a password is looked at).
 */
export interface RateLimiter {
  consume(key: string, cost: number): Promise<RateVerdict>;
}

export interface BucketSpec {
  /** Tokens added per second (may be fractional: 0.05 is one every 20 s). */
  readonly rate: number;
  /** Bucket size: the most requests allowed at once after a quiet period. */
  readonly burst: number;
}

export interface MemoryLimiterOptions extends BucketSpec {
  /** The most keys held at once; beyond it the least recently used bucket is dropped. */
  readonly maxKeys: number;
  /** Milliseconds clock; injected so tests can move time. */
  readonly now: () => number;
}

export interface MemoryLimiter extends RateLimiter {
  /** Buckets held right now (tests, memory bounds). */
  size(): number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

const ALLOWED: RateVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * In-memory buckets with bounded memory. A Map keeps buckets in least-recently-used order
 * (each use moves its key to the end), so the oldest entries are the idlest: a bucket that
 * has refilled to `burst` is the same as no bucket and is dropped for free; past `maxKeys`,
 * the least recently used one is dropped even if not full (its key then starts afresh, which
 * can only be more lenient).
 */
export function createMemoryLimiter(options: MemoryLimiterOptions): MemoryLimiter {
  const { rate, burst, maxKeys, now } = options;
  if (!(rate > 0) || !(burst >= 1) || !(maxKeys >= 1)) throw new TypeError('rate > 0, burst >= 1 and maxKeys >= 1 are required');
  const buckets = new Map<string, Bucket>();
  const perMs = rate / 1000;
  const level = (b: Bucket, t: number) => Math.min(burst, b.tokens + Math.max(0, t - b.at) * perMs);

  function evictIdle(t: number): void {
    // Oldest first; stop at the first bucket still refilling (the ones after it were used later).
    for (const [key, b] of buckets) {
      if (level(b, t) < burst && buckets.size <= maxKeys) return;
      buckets.delete(key);
    }
  }

  return {
    async consume(key, cost) {
      if (!(cost >= 0)) throw new TypeError('cost must be >= 0');
      const t = now();
      const found = buckets.get(key);
      const tokens = found ? level(found, t) : burst;
      const needed = Math.max(cost, cost === 0 ? 1 : 0);
      const allowed = tokens >= needed;
      // Refused requests leave the bucket as it was (a client retrying fast is not punished further).
      if (found) buckets.delete(key);
      buckets.set(key, { tokens: allowed ? tokens - cost : tokens, at: t });
      evictIdle(t);
      if (allowed) return ALLOWED;
      return { allowed: false, retryAfterMs: Math.ceil((needed - tokens) / perMs) };
    },
    size: () => buckets.size,
  };
}
