/**
 * The token-bucket conformance suite (test/ratelimit/limiter-conformance.ts) against both
 * back ends: in memory, and Redis (a real redis-server, test/harness/redis.ts), plus what is
 * Redis's own: buckets shared by two clients (two replicas), idle buckets expiring, and the
 * fail-closed answer when Redis is down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createMemoryLimiter } from '../../src/ratelimit/limiter.ts';
import { createRedisLimiter } from '../../src/redis/limiter.ts';
import { createRateLimits } from '../../src/ratelimit/limits.ts';
import { rateLimitsSchema } from '../../src/ratelimit/schema.ts';
import { GatehouseError } from '../../src/errors.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { limiterConformance } from './limiter-conformance.ts';

describe('token buckets in memory', () => {
  limiterConformance((spec, now) => createMemoryLimiter({ ...spec, maxKeys: 1000, now }));
});

describe('token buckets in Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let n = 0;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });

  limiterConformance((spec, now) => createRedisLimiter({ ...spec, redis, prefix: `test:${++n}:`, now }));

  test('two clients (two replicas) share one bucket; Redis time is used when no clock is injected', async () => {
    const other = new Redis(server.url, { maxRetriesPerRequest: 0, lazyConnect: true });
    await other.connect();
    try {
      const a = createRedisLimiter({ rate: 0.001, burst: 4, redis, prefix: 'shared:' });
      const b = createRedisLimiter({ rate: 0.001, burst: 4, redis: other, prefix: 'shared:' });
      const verdicts = [await a.consume('alice', 1), await b.consume('alice', 1), await a.consume('alice', 1), await b.consume('alice', 1), await b.consume('alice', 1)];
      assert.deepEqual(verdicts.map((v) => v.allowed), [true, true, true, true, false]);
      assert.ok(verdicts[4]!.retryAfterMs > 0 && verdicts[4]!.retryAfterMs <= 1_000_000);
    } finally {
      other.disconnect();
    }
  });

  test('a bucket expires once it would be full again (no idle keys left behind); a refusal writes nothing', async () => {
    let t = 0;
    const l = createRedisLimiter({ rate: 1, burst: 2, redis, prefix: 'ttl:', now: () => t });
    await l.consume('k', 0);
    assert.equal(await redis.exists('ttl:k'), 0, 'a check creates no key');
    await l.consume('k', 2);
    const ttl = await redis.pttl('ttl:k');
    assert.ok(ttl > 2000 && ttl <= 3000, `expires when refilled (+1 s): ${ttl}`);
    const before = await redis.hgetall('ttl:k');
    t = 100;
    assert.equal((await l.consume('k', 1)).allowed, false);
    assert.deepEqual(await redis.hgetall('ttl:k'), before);
  });

  test('Redis down: the limits fail closed (503 GATEHOUSE_RATE_LIMIT_UNAVAILABLE), or pass with a warning when configured', async () => {
    const dead = new Redis('redis://127.0.0.1:1/0', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const build = (onBackendError: 'deny' | 'allow-with-warning', warnings: Error[]) =>
      createRateLimits(rateLimitsSchema.parse({ onBackendError }), {
        now: Date.now,
        limiter: (name, spec) => createRedisLimiter({ ...spec, redis: dead, prefix: `${name}:` }),
        onBackendError: (err) => warnings.push(err),
      })!;
    const warnings: Error[] = [];
    const deny = build('deny', warnings);
    await assert.rejects(deny.take('principal', 'reads', 'alice'), (err: unknown) => err instanceof GatehouseError && err.code === 'GATEHOUSE_RATE_LIMIT_UNAVAILABLE');
    await assert.rejects(deny.lockedOut('127.0.0.1', 'alice'), (err: unknown) => err instanceof GatehouseError && err.code === 'GATEHOUSE_RATE_LIMIT_UNAVAILABLE');
    assert.equal(warnings.length, 0);
    const allow = build('allow-with-warning', warnings);
    assert.deepEqual(await allow.take('principal', 'reads', 'alice'), { allowed: true, retryAfterMs: 0 });
    assert.equal(warnings.length, 1, 'the pass is not silent');
  });
});
