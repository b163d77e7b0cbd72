/**
 * The read-body stage's bounds, with a stand-in request stream and a mocked clock: a JSON body
 * must arrive whole within `timeoutMs` (408), and stay within its byte, depth and item limits
 * (413). The same bounds on real sockets: test/feature/slow-clients.test.ts, and the body fuzz
 * (test/adversarial/body-fuzz.test.ts).
 */
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { readBody, type JsonBodyLimits } from '../../src/pipeline/stages/read-body.ts';
import type { Matched } from '../../src/pipeline/context.ts';
import { GatehouseError, type ErrorCode } from '../../src/errors.ts';
import { canonicalizeTarget } from '../../src/lib/target.ts';

const LIMITS: JsonBodyLimits = { maxBytes: 1024, maxDepth: 4, maxElements: 5, timeoutMs: 30_000 };

function request(length: number): { ctx: Matched; body: PassThrough } {
  const body = new PassThrough();
  const req = Object.assign(body, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(length) } }) as unknown as IncomingMessage;
  const ctx = {
    req,
    target: canonicalizeTarget('/api/2.0/mlflow/runs/create'),
    route: { row: { op: 'runs.create', body: 'json' }, params: {} },
    resources: [],
    stageMs: {},
  } as unknown as Matched;
  return { ctx, body };
}

/** The stage's outcome so far: pending, done, or the error code it failed with. */
function watch(p: void | Promise<void>): () => 'pending' | 'done' | ErrorCode | string {
  let state: string = 'pending';
  Promise.resolve(p).then(
    () => (state = 'done'),
    (e: unknown) => (state = e instanceof GatehouseError ? e.code : String(e)),
  );
  return () => state;
}
const settle = () => new Promise((r) => setImmediate(r));

describe('read-body: bounded in time', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('a body still incomplete at the deadline: 408 GATEHOUSE_REQUEST_BODY_TIMEOUT, and the stream is no longer read', async () => {
    const { ctx, body } = request(20);
    const state = watch(readBody(LIMITS).run(ctx));
    body.write('{"experiment');
    mock.timers.tick(29_999);
    await settle();
    assert.equal(state(), 'pending');
    mock.timers.tick(1);
    await settle();
    assert.equal(state(), 'GATEHOUSE_REQUEST_BODY_TIMEOUT');
    assert.equal(body.listenerCount('data'), 0, 'the stage stopped listening');
    assert.equal(ctx.json, undefined);
  });

  test('a body that completes in time is read; the deadline is then disarmed', async () => {
    const { ctx, body } = request(20);
    const state = watch(readBody(LIMITS).run(ctx));
    body.write('{"experiment_id":');
    mock.timers.tick(20_000);
    body.end('"1"}');
    await settle();
    assert.equal(state(), 'done');
    assert.deepEqual(ctx.json, { experiment_id: '1' });
    mock.timers.tick(60_000);
    await settle();
    assert.equal(state(), 'done');
  });

  test('timeoutMs 0: no deadline', async () => {
    const { ctx, body } = request(4);
    const state = watch(readBody({ ...LIMITS, timeoutMs: 0 }).run(ctx));
    body.write('{');
    mock.timers.tick(10 * 60_000);
    await settle();
    assert.equal(state(), 'pending');
    body.end('}');
    await settle();
    assert.equal(state(), 'done');
  });
});

describe('read-body: bounded in size and shape', () => {
  const outcome = async (text: string, limits = LIMITS) => {
    const { ctx, body } = request(Buffer.byteLength(text));
    const state = watch(readBody(limits).run(ctx));
    body.end(text);
    await settle();
    return state();
  };

  test('bytes, nesting and items over their limits: 413 each, with its own code', async () => {
    assert.equal(await outcome(`{"a":"${'x'.repeat(2000)}"}`), 'GATEHOUSE_REQUEST_TOO_LARGE');
    assert.equal(await outcome('{"a":[[[1]]]}'), 'done');
    assert.equal(await outcome('{"a":[[[[1]]]]}'), 'GATEHOUSE_REQUEST_JSON_TOO_COMPLEX');
    assert.equal(await outcome('{"ids":["1","2","3","4","5"]}'), 'done');
    assert.equal(await outcome('{"ids":["1","2","3","4","5","6"]}'), 'GATEHOUSE_REQUEST_JSON_TOO_COMPLEX');
    assert.equal(await outcome('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}'), 'GATEHOUSE_REQUEST_JSON_TOO_COMPLEX');
    // Not a limit: malformed is still 400.
    assert.equal(await outcome('{"ids":[1,]}'), 'GATEHOUSE_REQUEST_BAD_JSON');
  });

  test('what MLflow\'s client sends at most (a full log-batch: 1000 metrics, 100 params, 100 tags) is within the defaults', async () => {
    const batch = {
      run_id: 'r',
      metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `m${i}`, value: i, timestamp: 1, step: i })),
      params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'v' })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'v' })),
    };
    assert.equal(await outcome(JSON.stringify(batch), { maxBytes: 16 * 1024 * 1024, maxDepth: 64, maxElements: 10_000, timeoutMs: 30_000 }), 'done');
  });
});
