/**
 * A Prometheus scrape of the internal listener after a mixed workload: the counters and
 * histograms are there with exactly the label sets of src/metrics/definitions.ts, the values
 * match what the workload did, and no label carries an id, a path or a user name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_AUTH, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { METRICS, NO_TENANT } from '../../src/metrics/definitions.ts';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text format's sample lines (label values here never hold `"` or `,`). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

let stub: StubUpstream;
let gh: InProcess;
let dir: string;
let samples: Sample[];

const value = (name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

async function call(path: string, init: RequestInit & { auth?: string | null } = {}): Promise<number> {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set('authorization', init.auth ?? ADMIN_AUTH);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(`${gh.url}${path}`, { ...init, headers });
  await res.arrayBuffer();
  return res.status;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-metrics-'));
  stub = await startStub();
  gh = await startInProcess(stub.url, { 'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }] });
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword('bob-password-123', { cost: 1024, blockSize: 8, parallelization: 1 }), admin: false });

  const post = (path: string, body: object) => call(path, { method: 'POST', body: JSON.stringify(body) });
  for (let i = 0; i < 3; i++) assert.equal(await post('/api/2.0/mlflow/runs/create', { experiment_id: '1' }), 200);
  for (let i = 0; i < 2; i++) assert.equal(await post('/api/2.0/mlflow/experiments/create', { name: `e${i}` }), 200);
  assert.equal(await post('/api/2.0/mlflow/registered-models/create', { name: 'm' }), 200);
  assert.equal(await post('/api/2.0/mlflow/model-versions/create', { name: 'm', source: 'models:/m-0123abcd' }), 200);
  assert.equal(await call('/model-versions/get-artifact?name=m&version=1&path=model.pkl'), 200);
  assert.equal(await call('/api/2.0/mlflow-artifacts/artifacts/1/models/m-0123abcd/artifacts/model.pkl'), 200);
  assert.equal(await call('/api/2.0/mlflow-artifacts/artifacts/1/0a1b2c/artifacts/plot.png'), 200, 'not a model artifact');
  assert.equal(await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth: basic('bob', 'bob-password-123') }), 403);
  assert.equal(await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth: basic('admin', 'wrong-password-000') }), 401);
  assert.equal(await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth: null }), 401);
  assert.equal(await call('/api/2.0/mlflow/runs/create', { method: 'POST', body: '{"a":1,"a":1}' }), 400);
  assert.equal(await call('/api/2.0/mlflow/no-such-route'), 404);
  stub.handler = (req) => req.socket.destroy();
  assert.equal(await call('/api/2.0/mlflow/experiments/get?experiment_id=2'), 502);
  stub.handler = jsonOk;

  const res = await fetch(`${gh.internalUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  samples = parse(await res.text());
});
after(async () => {
  await gh.close();
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/metrics after a mixed workload', () => {
  test('every Gatehouse metric is exported with exactly its declared labels', () => {
    const byName = new Map<string, (typeof METRICS)[keyof typeof METRICS]>(Object.values(METRICS).map((d) => [d.name, d]));
    const seen = new Set<string>();
    for (const s of samples.filter((x) => x.name.startsWith('gatehouse_'))) {
      const base = s.name.replace(/_(bucket|sum|count)$/, '');
      const def = byName.get(s.name) ?? byName.get(base);
      assert.ok(def, `undeclared metric ${s.name}`);
      seen.add(def.name);
      const expected = [...def.labels, ...(s.name.endsWith('_bucket') && def.type === 'histogram' ? ['le'] : [])].sort();
      assert.deepEqual(Object.keys(s.labels).sort(), expected, `labels of ${s.name}`);
    }
    // Every declared metric has samples after this workload (gauges without labels included).
    assert.deepEqual([...seen].sort(), [...byName.keys()].filter((n) => n !== METRICS.auditLost.name).sort());
  });

  test('no label value is an id, a path or a user name', () => {
    for (const s of samples.filter((x) => x.name.startsWith('gatehouse_'))) {
      for (const v of Object.values(s.labels)) {
        assert.ok(!/\/|bob|admin|local:|m-0123abcd|[0-9a-f]{8}-[0-9a-f]{4}/.test(v), `label value ${v} of ${s.name}`);
      }
    }
    const ops = new Set(samples.filter((s) => s.name === METRICS.requests.name).map((s) => s.labels.operation));
    assert.ok(ops.has('_unmatched'));
  });

  test('request counters by operation, decision and status class', () => {
    const r = METRICS.requests.name;
    assert.equal(value(r, { operation: 'runs.create', decision: 'allow', status_class: '2xx' }), 3);
    assert.equal(value(r, { operation: 'runs.create', decision: 'none', status_class: '4xx' }), 1);
    assert.equal(value(r, { operation: 'experiments.create', decision: 'allow', status_class: '2xx' }), 2);
    assert.equal(value(r, { operation: 'experiments.get', decision: 'deny', status_class: '4xx' }), 1);
    assert.equal(value(r, { operation: 'experiments.get', decision: 'none', status_class: '4xx' }), 2);
    assert.equal(value(r, { operation: 'experiments.get', decision: 'allow', status_class: '5xx' }), 1);
    assert.equal(value(r, { operation: '_unmatched', decision: 'none', status_class: '4xx' }), 1);
    assert.equal(value(r, {}), 16);
  });

  test('latency histograms for the request, the upstream and the decision', () => {
    assert.equal(value(`${METRICS.requestDuration.name}_count`, { operation: 'runs.create' }), 4);
    assert.equal(value(`${METRICS.requestDuration.name}_bucket`, { operation: 'runs.create', le: '+Inf' }), 4);
    assert.ok(value(`${METRICS.requestDuration.name}_sum`, { operation: 'runs.create' }) > 0);
    // Only forwarded requests have an upstream time: 3 creates, not the malformed one.
    assert.equal(value(`${METRICS.upstreamDuration.name}_count`, { operation: 'runs.create' }), 3);
    assert.equal(value(`${METRICS.upstreamDuration.name}_count`, { operation: 'experiments.get' }), 1);
    assert.equal(value(`${METRICS.decisionDuration.name}_count`, { decision: 'deny' }), 1);
    assert.equal(value(`${METRICS.decisionDuration.name}_count`, { decision: 'allow' }), 11);
  });

  test('authentication failures by provider and reason; upstream errors by kind; nothing in flight', () => {
    assert.equal(value(METRICS.authFailures.name, { provider: 'local', reason: 'bad-password' }), 1);
    assert.equal(value(METRICS.authFailures.name, { provider: 'none', reason: 'missing-credentials' }), 1);
    assert.equal(value(METRICS.upstreamErrors.name, { kind: 'bad_response' }), 1);
    assert.equal(value(METRICS.inFlight.name, {}), 0);
    assert.equal(value(METRICS.auditQueueDepth.name, { sink: 'file' }), 0);
  });

  test('usage per tenant matches the workload', () => {
    const tenants = new Set(gh.events.filter((e) => e.ctx.route).map((e) => e.ctx.tenant ?? NO_TENANT));
    const usage = (k: keyof typeof METRICS) => [...tenants].reduce((a, tenant) => a + value(METRICS[k].name, { tenant }), 0);
    assert.deepEqual(
      samples.filter((s) => s.name === METRICS.usageApiCalls.name).map((s) => s.labels.tenant).sort(),
      [...tenants].sort(),
    );
    assert.equal(usage('usageApiCalls'), 15, 'every request that matched a route');
    assert.equal(usage('usageRunsCreated'), 3);
    assert.equal(usage('usageExperimentsCreated'), 2);
    assert.equal(usage('usageModelsRegistered'), 1);
    assert.equal(usage('usageModelVersionsCreated'), 1);
    assert.equal(usage('usageModelArtifactsDownloaded'), 2);
  });

  test('metrics are served only on the internal listener', async () => {
    assert.equal((await fetch(`${gh.internalUrl}/other`)).status, 404);
    assert.equal(await call('/metrics'), 404);
    assert.match(new URL(gh.internalUrl).hostname, /^127\.0\.0\.1$/);
  });
});
