/**
 * A Prometheus scrape of the internal listener after a mixed workload: the counters and
 * histograms are there with exactly the label sets of src/metrics/definitions.ts, the values
 * match what the workload did, and no label carries an id, a path or a user name. A real
 * OpenID provider signs the bearer tokens; a second OIDC provider points at a dead JWKS URL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_AUTH, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { jsonOk, startStub, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
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
let idp: TestIdp;
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

/** MLflow's answers to the resolver's parent lookups (run 'r1' is in experiment 7, named `shared-7`); anything else as jsonOk. */
const mlflow: StubHandler = (req, res, r) => {
  const path = (req.url ?? '').split('?')[0];
  const answer =
    path === '/api/2.0/mlflow/runs/get' ? { run: { info: { run_id: 'r1', experiment_id: '7' } } }
    : path === '/api/2.0/mlflow/experiments/get' ? { experiment: { experiment_id: '7', name: 'shared-7' } }
    : undefined;
  if (!answer) return jsonOk(req, res, r);
  const body = JSON.stringify(answer);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-metrics-'));
  [stub, idp] = await Promise.all([startStub(mlflow), startIdp()]);
  gh = await startInProcess(stub.url, {
    'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }],
    'auth.providers': [
      { type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } },
      { type: 'oidc', id: 'corp', issuer: idp.issuer, audience: RESOURCE },
      // Its keys can never load: one failed refresh at start (then none within jwksRefetchMinIntervalSeconds).
      { type: 'oidc', id: 'dead', issuer: 'https://dead.invalid', jwksUri: 'http://127.0.0.1:1/jwks', audience: RESOURCE, httpTimeoutMs: 1000 },
    ],
    tenants: [{ name: 'default', members: { users: ['carol'] } }],
    // Experiment-scoped: every request of carol's naming a run makes the resolver look its experiment up.
    bindings: [{ role: 'viewer', user: 'carol', tenant: 'default', experiment: { namePattern: 'shared-*' } }],
  });
  const fast = { cost: 1024, blockSize: 8, parallelization: 1 };
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword('bob-password-123', fast), admin: false });
  await gh.store.createUser({ username: 'carol', passwordHash: await hashPassword('carol-password-123', fast), admin: false });

  const post = (path: string, body: object) => call(path, { method: 'POST', body: JSON.stringify(body) });
  for (let i = 0; i < 3; i++) assert.equal(await post('/api/2.0/mlflow/runs/create', { experiment_id: '1' }), 200);
  for (let i = 0; i < 2; i++) assert.equal(await post('/api/2.0/mlflow/experiments/create', { name: `e${i}` }), 200);
  assert.equal(await post('/api/2.0/mlflow/registered-models/create', { name: 'm' }), 200);
  assert.equal(await post('/api/2.0/mlflow/model-versions/create', { name: 'm', source: 'models:/other-model/1' }), 200);
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
  stub.handler = mlflow;
  // Cache workload: carol twice (a Basic miss then a hit; resolver misses for runs/get and
  // experiments/get, then hits), one bearer token twice (a miss then a hit).
  const carol = basic('carol', 'carol-password-123');
  for (let i = 0; i < 2; i++) assert.equal(await call('/api/2.0/mlflow/runs/get?run_id=r1', { auth: carol }), 200);
  const token = `Bearer ${await idp.clientCredentialsToken()}`;
  for (let i = 0; i < 2; i++) assert.notEqual(await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth: token }), 401);
  // Readiness waits for every provider's first key load, so both JWKS attempts are over.
  await fetch(`${gh.url}/readyz`).then((r) => r.arrayBuffer());

  const res = await fetch(`${gh.internalUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  samples = parse(await res.text());
});
after(async () => {
  await gh.close();
  await Promise.all([stub.close(), idp.close()]);
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
    // Every declared metric has samples after this workload (gauges without labels included);
    // client aborts are counted in test/feature/honest-signals.test.ts, unusable JWKS keys in
    // test/identity/oidc-token-limits.test.ts.
    const elsewhere = new Set<string>([METRICS.auditLost.name, METRICS.clientAborts.name, METRICS.jwksKeysSkipped.name]);
    assert.deepEqual([...seen].sort(), [...byName.keys()].filter((n) => !elsewhere.has(n)).sort());
  });

  test('no label value is an id, a path or a user name', () => {
    for (const s of samples.filter((x) => x.name.startsWith('gatehouse_'))) {
      for (const v of Object.values(s.labels)) {
        assert.ok(!/\/|bob|carol|admin|local:|m-0123abcd|[0-9a-f]{8}-[0-9a-f]{4}/.test(v), `label value ${v} of ${s.name}`);
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
    // bob and the bearer token's service account (no binding, twice): denied.
    assert.equal(value(r, { operation: 'experiments.get', decision: 'deny', status_class: '4xx' }), 3);
    assert.equal(value(r, { operation: 'runs.get', decision: 'allow', status_class: '2xx' }), 2);
    assert.equal(value(r, { operation: 'experiments.get', decision: 'none', status_class: '4xx' }), 2);
    assert.equal(value(r, { operation: 'experiments.get', decision: 'allow', status_class: '5xx' }), 1);
    assert.equal(value(r, { operation: '_unmatched', decision: 'none', status_class: '4xx' }), 1);
    assert.equal(value(r, {}), 20);
  });

  test('latency histograms for the request, the upstream and the decision', () => {
    assert.equal(value(`${METRICS.requestDuration.name}_count`, { operation: 'runs.create' }), 4);
    assert.equal(value(`${METRICS.requestDuration.name}_bucket`, { operation: 'runs.create', le: '+Inf' }), 4);
    assert.ok(value(`${METRICS.requestDuration.name}_sum`, { operation: 'runs.create' }) > 0);
    // Only forwarded requests have an upstream time: 3 creates, not the malformed one.
    assert.equal(value(`${METRICS.upstreamDuration.name}_count`, { operation: 'runs.create' }), 3);
    assert.equal(value(`${METRICS.upstreamDuration.name}_count`, { operation: 'experiments.get' }), 1);
    assert.equal(value(`${METRICS.decisionDuration.name}_count`, { decision: 'deny' }), 3);
    assert.equal(value(`${METRICS.decisionDuration.name}_count`, { decision: 'allow' }), 13);
  });

  test('authentication failures by provider and reason; upstream errors by kind; nothing in flight', () => {
    assert.equal(value(METRICS.authFailures.name, { provider: 'local', reason: 'bad-password' }), 1);
    assert.equal(value(METRICS.authFailures.name, { provider: 'none', reason: 'missing-credentials' }), 1);
    assert.equal(value(METRICS.upstreamErrors.name, { kind: 'bad_response' }), 1);
    assert.equal(value(METRICS.inFlight.name, {}), 0);
    assert.equal(value(METRICS.auditQueueDepth.name, { sink: 'file' }), 0);
  });

  test('cache lookups by cache and result', () => {
    const c = (cache: string, result: string) => value(METRICS.cacheLookups.name, { cache, result });
    // Basic checks: admin's first request, bob, admin's wrong password and carol's first miss;
    // admin's 11 later authenticated requests (the unmatched one is not authenticated) and carol's second hit.
    assert.equal(c('local-password', 'miss'), 4);
    assert.equal(c('local-password', 'hit'), 12);
    // carol's first runs.get looks up the run's experiment and that experiment's name; her second finds both cached.
    assert.equal(c('resource', 'miss'), 2);
    assert.equal(c('resource', 'hit'), 2);
    assert.equal(c('oidc-token', 'miss'), 1);
    assert.equal(c('oidc-token', 'hit'), 1);
    // No LDAP provider configured: nothing counted for it.
    assert.equal(value(METRICS.cacheLookups.name, { cache: 'ldap' }), 0);
    assert.deepEqual(new Set(samples.filter((s) => s.name === METRICS.cacheLookups.name).map((s) => s.labels.cache)), new Set(['local-password', 'resource', 'oidc-token']));
  });

  test('JWKS refreshes by provider and outcome', () => {
    assert.equal(value(METRICS.jwksRefreshes.name, { provider: 'corp', outcome: 'ok' }), 1);
    assert.equal(value(METRICS.jwksRefreshes.name, { provider: 'corp', outcome: 'error' }), 0);
    assert.equal(value(METRICS.jwksRefreshes.name, { provider: 'dead', outcome: 'error' }), 1);
    assert.equal(value(METRICS.jwksRefreshes.name, { provider: 'dead', outcome: 'ok' }), 0);
  });

  test('upstream pool gauges for the MLflow upstream, read at scrape time', () => {
    for (const k of ['poolConnected', 'poolFree', 'poolPending', 'poolRunning', 'poolSize'] as const) {
      assert.deepEqual(samples.filter((s) => s.name === METRICS[k].name).map((s) => s.labels), [{ upstream: 'mlflow' }], METRICS[k].name);
    }
    // Nothing in flight: nothing waits or runs; idle connections are among the open ones.
    assert.ok(value(METRICS.poolFree.name, {}) <= value(METRICS.poolConnected.name, {}));
    assert.ok(value(METRICS.poolConnected.name, {}) >= 1, 'keep-alive connections of the workload');
    assert.equal(value(METRICS.poolPending.name, {}), 0);
    assert.equal(value(METRICS.poolRunning.name, {}), 0);
    assert.equal(value(METRICS.poolSize.name, {}), 0);
  });

  test('usage per tenant matches the workload', () => {
    const tenants = new Set(gh.events.filter((e) => e.ctx.route).map((e) => e.ctx.tenant ?? NO_TENANT));
    const usage = (k: keyof typeof METRICS) => [...tenants].reduce((a, tenant) => a + value(METRICS[k].name, { tenant }), 0);
    assert.deepEqual(
      samples.filter((s) => s.name === METRICS.usageApiCalls.name).map((s) => s.labels.tenant).sort(),
      [...tenants].sort(),
    );
    assert.equal(usage('usageApiCalls'), 19, 'every request that matched a route');
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
