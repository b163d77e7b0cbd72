/**
 * A `RateLimiter` over Redis: the same token buckets as the in-memory limiter
 * (src/ratelimit/limiter.ts), shared by every replica. One Lua script per call reads, refills
 * and takes atomically, so two replicas can never spend the same token. A refused call and a
 * cost-0 check write nothing (as in memory: the bucket is left as it was). A bucket expires
 * once it would have refilled to `burst` (a full bucket is the same as none), which bounds
 * Redis memory the way `maxKeys` bounds the in-memory one.
 *
 * Time: by default Redis's own clock (TIME), so replicas with skewed clocks still agree; tests
 * inject `now`. Numbers cross as shortest round-trip strings and tokens are stored with 17
 * significant digits, so the arithmetic is the in-memory limiter's, bit for bit.
 */
import type { Redis } from 'ioredis';
import type { BucketSpec, RateLimiter, RateVerdict } from '../ratelimit/limiter.ts';

const SCRIPT = `
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[4])
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if b[1] then
  tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * perMs)
end
local needed = cost
if cost == 0 then needed = 1 end
if tokens >= needed then
  if cost > 0 then
    tokens = tokens - cost
    redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
    redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / perMs) + 1000)
  end
  return {1, 0}
end
return {0, math.ceil((needed - tokens) / perMs)}
`;

export interface RedisLimiterOptions extends BucketSpec {
  readonly redis: Redis;
  /** Key prefix of this bucket family (`gatehouse:rl:principal:reads:`); the bucket key follows it. */
  readonly prefix: string;
  /** Milliseconds clock for tests; default Redis's TIME. */
  readonly now?: () => number;
}

const ALLOWED: RateVerdict = Object.freeze({ allowed: true, retryAfterMs: 0 });

export function createRedisLimiter(options: RedisLimiterOptions): RateLimiter {
  const { rate, burst, redis, prefix, now } = options;
  if (!(rate > 0) || !(burst >= 1)) throw new TypeError('rate > 0 and burst >= 1 are required');
  if (typeof redis.gatehouseBucket !== 'function') redis.defineCommand('gatehouseBucket', { numberOfKeys: 1, lua: SCRIPT });
  const perMs = String(rate / 1000);
  return {
    async consume(key, cost) {
      if (!(cost >= 0)) throw new TypeError('cost must be >= 0');
      const [allowed, retryAfterMs] = (await redis.gatehouseBucket(`${prefix}${key}`, perMs, String(burst), String(cost), now ? String(now()) : '')) as [number, number];
      return allowed === 1 ? ALLOWED : { allowed: false, retryAfterMs };
    },
  };
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatehouseBucket(key: string, perMs: string, burst: string, cost: string, now: string): Promise<unknown>;
  }
}
