/**
 * The pool gauges report saturation: with one connection to MLflow and a slow answer, a second
 * request waits for the connection (`pending`), and the scrape shows it per upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { METRICS } from '../../src/metrics/definitions.ts';
import { createUpstream } from '../../src/upstream/upstream.ts';
import { jsonOk, startStub } from '../harness/stub-upstream.ts';

test('a saturated pool shows pending requests in the scrape, and drains to idle', async () => {
  const held: Array<() => void> = [];
  let arrived: () => void = () => {};
  const stub = await startStub((req, res, r) => {
    held.push(() => jsonOk(req, res as ServerResponse, r));
    arrived();
  });
  const upstream = createUpstream({ url: stub.url, connections: 1, connectTimeoutMs: 5000, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 });
  const metrics = createMetrics({ providers: [], processMetrics: false, upstreamPools: () => [{ upstream: 'mlflow', stats: upstream.stats() }] });
  const gauge = async (key: 'poolConnected' | 'poolFree' | 'poolPending' | 'poolRunning' | 'poolSize') => {
    const line = (await metrics.render()).split('\n').find((l) => l.startsWith(`${METRICS[key].name}{upstream="mlflow"} `));
    assert.ok(line, `${METRICS[key].name} scraped`);
    return Number(line.split(' ')[1]);
  };
  try {
    const first = new Promise<void>((r) => (arrived = r));
    const a = upstream.get('/a');
    const b = upstream.get('/b');
    await first; // the first request holds the only connection; the second waits in the pool
    assert.equal(await gauge('poolConnected'), 1);
    assert.equal(await gauge('poolFree'), 0);
    assert.equal(await gauge('poolRunning'), 1);
    assert.equal(await gauge('poolPending'), 1);
    assert.equal(await gauge('poolSize'), 2);
    const second = new Promise<void>((r) => (arrived = r));
    held.shift()!();
    await second;
    held.shift()!();
    assert.deepEqual((await Promise.all([a, b])).map((r) => r.status), [200, 200]);
    assert.equal(await gauge('poolPending'), 0);
    assert.equal(await gauge('poolRunning'), 0);
    assert.equal(await gauge('poolSize'), 0);
    assert.equal(await gauge('poolConnected'), 1, 'never more than mlflow.connections');
  } finally {
    await upstream.close();
    await stub.close();
  }
});
