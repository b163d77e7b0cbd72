/**
 * The conformance suite every `RateLimiter` back end must pass (in memory, Redis): the same
 * token-bucket semantics, with the clock injected. Called by test/ratelimit/limiter.test.ts
 * once per back end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BucketSpec, RateLimiter } from '../../src/ratelimit/limiter.ts';

/** Builds a fresh limiter (its own keys) with the given bucket spec and clock. */
export type LimiterFactory = (spec: BucketSpec, now: () => number) => RateLimiter;

export function limiterConformance(make: LimiterFactory): void {
  test('a bucket allows its burst, refuses with the wait until the next token, and refills with time', async () => {
    let t = 0;
    const l = make({ rate: 2, burst: 3 }, () => t);
    for (let i = 0; i < 3; i++) assert.deepEqual(await l.consume('k', 1), { allowed: true, retryAfterMs: 0 });
    assert.deepEqual(await l.consume('k', 1), { allowed: false, retryAfterMs: 500 }, 'one token every 500 ms');
    assert.equal((await l.consume('other', 1)).allowed, true, 'keys have their own buckets');
    t = 250;
    assert.deepEqual(await l.consume('k', 1), { allowed: false, retryAfterMs: 250 }, 'a refusal takes nothing: the wait shrinks');
    t = 500;
    assert.equal((await l.consume('k', 1)).allowed, true);
    assert.equal((await l.consume('k', 1)).allowed, false);
    t = 100_500;
    for (let i = 0; i < 3; i++) assert.equal((await l.consume('k', 1)).allowed, true, 'refilled to burst, never beyond');
    assert.equal((await l.consume('k', 1)).allowed, false);
  });

  test('cost 0 asks without taking: allowed while one token is left', async () => {
    let t = 0;
    const l = make({ rate: 0.1, burst: 2 }, () => t);
    assert.equal((await l.consume('k', 0)).allowed, true);
    assert.equal((await l.consume('k', 0)).allowed, true);
    await l.consume('k', 1);
    assert.equal((await l.consume('k', 0)).allowed, true);
    await l.consume('k', 1);
    assert.deepEqual(await l.consume('k', 0), { allowed: false, retryAfterMs: 10_000 });
    t = 10_000;
    assert.equal((await l.consume('k', 0)).allowed, true);
  });

  test('a cost above one takes that many or none; fractional rates wait the exact fraction', async () => {
    let t = 0;
    const l = make({ rate: 0.3, burst: 5 }, () => t);
    assert.equal((await l.consume('k', 4)).allowed, true);
    assert.deepEqual(await l.consume('k', 2), { allowed: false, retryAfterMs: 3334 }, 'one more token in 1/0.3 s, rounded up');
    assert.equal((await l.consume('k', 1)).allowed, true, 'the refused cost 2 took nothing');
    t = 3334;
    assert.equal((await l.consume('k', 1)).allowed, true);
    assert.equal((await l.consume('k', 1)).allowed, false);
  });

  test('concurrent calls never spend the same token', async () => {
    const l = make({ rate: 0.001, burst: 10 }, () => 0);
    const verdicts = await Promise.all(Array.from({ length: 25 }, () => l.consume('k', 1)));
    assert.equal(verdicts.filter((v) => v.allowed).length, 10);
  });

  test('misuse is a TypeError', async () => {
    assert.throws(() => make({ rate: 0, burst: 1 }, Date.now), TypeError);
    await assert.rejects(make({ rate: 1, burst: 1 }, Date.now).consume('k', -1), TypeError);
  });
}
