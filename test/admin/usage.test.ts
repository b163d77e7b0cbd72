/**
 * Usage analytics: a workload through an in-process gateway (workspace tenancy, recording stub
 * that says it has workspaces) with the store audit sink, then `GET /_gatehouse/api/v1/usage`
 * returns exactly what was done, per tenant, day and operation. Administrators only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, basic, startInProcess, type InProcess, mlflowStatus } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { waitFor } from '../harness/ports.ts';
import type { UsageResponse } from '../../src/admin/usage.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const handler: StubHandler = (req, res, r) => {
  if (req.url === '/api/3.0/mlflow/server-info') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ workspaces_enabled: true }));
  }
  // One create fails upstream: it is an API call but no run was created.
  if (r.body.includes('"experiment_id":"404"')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such experiment' }));
  }
  return jsonOk(req, res, r);
};

let stub: StubUpstream;
let gh: InProcess;
const bob = basic('bob', 'bob-password-12');

before(async () => {
  stub = await startStub(handler);
  gh = await startInProcess(stub.url, {
    'audit.sinks': [{ type: 'store' }],
    tenants: [
      { name: 'team-a', members: { users: ['bob'] } },
      { name: 'team-b', members: { users: [] } },
    ],
    bindings: [{ role: 'contributor', user: 'bob', tenant: 'team-a' }],
  });
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword('bob-password-12', FAST), admin: false });
});
after(async () => {
  await gh.close();
  await stub.close();
});

const call = (method: string, path: string, auth: string, workspace: string, body?: unknown) => mlflowStatus(gh.url, method, path, auth, workspace, body);

const usage = (query: string, auth?: string) => fetch(`${gh.url}/_gatehouse/api/v1/usage${query}`, { headers: auth ? { authorization: auth } : {} });
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const sum = (xs: readonly number[] | undefined) => (xs ?? []).reduce((a, b) => a + b, 0);

test('the usage series count what the workload did, per tenant and operation', async () => {
  const statuses = [
    // team-a, as the administrator
    await call('POST', '/api/2.0/mlflow/runs/create', ADMIN_AUTH, 'team-a', { experiment_id: '1' }),
    await call('POST', '/api/2.0/mlflow/runs/create', ADMIN_AUTH, 'team-a', { experiment_id: '1' }),
    await call('POST', '/api/2.0/mlflow/runs/create', ADMIN_AUTH, 'team-a', { experiment_id: '404' }),
    await call('POST', '/api/2.0/mlflow/registered-models/create', ADMIN_AUTH, 'team-a', { name: 'm' }),
    await call('POST', '/api/2.0/mlflow/model-versions/create', ADMIN_AUTH, 'team-a', { name: 'm', source: 'models:/other-model/1' }),
    await call('GET', '/api/2.0/mlflow/logged-models/m-0123abcd', ADMIN_AUTH, 'team-a'),
    // team-a, as bob (a contributor there)
    await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', bob, 'team-a'),
    // team-b, as the administrator
    await call('POST', '/api/2.0/mlflow/runs/create', ADMIN_AUTH, 'team-b', { experiment_id: '2' }),
    await call('GET', '/api/2.0/mlflow/model-versions/get-download-uri?name=m&version=1', ADMIN_AUTH, 'team-b'),
    // bob in a tenant that is not his: refused, still an API call (with no tenant resolved)
    await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', bob, 'team-b'),
  ];
  assert.deepEqual(statuses, [200, 200, 404, 200, 200, 200, 200, 200, 200, 403]);
  await waitFor(
    'audit events in the store',
    async () => Number((await gh.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n) >= statuses.length,
    5000,
  );

  const res = await usage(`?from=${day(-1)}&to=${day(1)}&interval=day`, ADMIN_AUTH);
  assert.equal(res.status, 200);
  const body = (await res.json()) as UsageResponse;
  assert.equal(body.interval, 'day');
  assert.deepEqual(body.days, [day(-1), day(0), day(1)]);
  const of = (tenant: string | null) => body.tenants.find((t) => t.tenant === tenant);
  const a = of('team-a')!;
  const b = of('team-b')!;
  assert.ok(a && b, 'both tenants have series');
  for (const t of body.tenants) for (const s of [t.apiCalls, t.runsCreated, t.modelRegistrations, t.modelReferences]) assert.equal(s.length, 3, 'one count per day');
  assert.equal(a.apiCalls[1], 7, 'every call of the day is on today');
  assert.deepEqual(a.runsCreated, [0, 2, 0], 'the failed create is not a run');
  assert.equal(sum(a.operations['runs.create']), 3, 'but it is a call');
  assert.equal(sum(a.modelRegistrations), 2, 'a registered model and a version');
  assert.equal(sum(a.modelReferences), 1, 'the logged model fetched');
  assert.equal(sum(a.operations['experiments.get']), 1);
  assert.deepEqual(Object.keys(a.operations).sort(), ['experiments.get', 'loggedModels.get', 'modelVersions.create', 'registeredModels.create', 'runs.create']);
  assert.equal(sum(b.apiCalls), 2);
  assert.equal(sum(b.runsCreated), 1);
  assert.equal(sum(b.modelReferences), 1, 'the download location of a version');
  assert.equal(sum(b.modelRegistrations), 0);
  const total = sum(body.tenants.flatMap((t) => t.apiCalls));
  assert.equal(total, statuses.length, 'every call is counted once, in some tenant (or none)');

  const onlyB = (await (await usage(`?from=${day(0)}&to=${day(0)}&tenant=team-b`, ADMIN_AUTH)).json()) as UsageResponse;
  assert.deepEqual(onlyB.tenants.map((t) => t.tenant), ['team-b']);
  assert.deepEqual(onlyB.tenants[0]!.apiCalls, [2]);
  assert.equal(onlyB.tenant, 'team-b');
});

test('only platform administrators: others get 403, anonymous callers 401, in MLflow\'s error shape', async () => {
  const denied = await usage('', bob);
  assert.equal(denied.status, 403);
  assert.equal(((await denied.json()) as { error_code: string }).error_code, 'PERMISSION_DENIED');
  const anonymous = await usage('');
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
  assert.equal(((await anonymous.json()) as { error_code: string }).error_code, 'UNAUTHENTICATED');
  const wrong = await usage('', basic('admin', 'not-the-password'));
  assert.equal(wrong.status, 401);
});

test('bad parameters are refused', async () => {
  for (const q of ['?interval=week', '?from=2026-13-01', '?to=2026-02-30', `?from=${day(1)}&to=${day(0)}`, '?from=2020-01-01&to=2026-01-01', '?limit=3', '?to=2026-01-01&to=2026-01-02']) {
    const res = await usage(q, ADMIN_AUTH);
    assert.equal(res.status, 400, q);
    assert.equal(((await res.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
  }
});
