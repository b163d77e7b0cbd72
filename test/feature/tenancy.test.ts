/**
 * Workspace tenancy against a recording stub upstream that says it has workspaces: the
 * gateway owns X-MLFLOW-WORKSPACE, lets a client choose only among its own tenants, and
 * filters the workspace list.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, jsonOk, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const withWorkspaces: StubHandler = (req, res, r) => {
  if (req.url === '/api/3.0/mlflow/server-info') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ workspaces_enabled: true }));
  }
  if (req.url?.startsWith('/api/3.0/mlflow/workspaces')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ workspaces: [{ name: 'default' }, { name: 'team-a' }, { name: 'team-b' }, { name: 'secret' }] }));
  }
  return jsonOk(req, res, r);
};

let stub: StubUpstream;
let gh: InProcess;
const forwarded = () => stub.requests.filter((r) => r.url !== '/health' && r.url !== '/api/3.0/mlflow/server-info');
const alice = basic('alice', 'alice-password-1');
const bob = basic('bob', 'bob-password-12');

before(async () => {
  stub = await startStub(withWorkspaces);
  gh = await startInProcess(stub.url, {
    tenants: [
      { name: 'team-a', members: { users: ['alice'] } },
      { name: 'team-b', members: { users: ['alice'] } },
      { name: 'secret', members: { users: [] } },
    ],
    bindings: [
      { role: 'viewer', user: 'alice', tenant: 'team-a' },
      { role: 'contributor', user: 'alice', tenant: 'team-b' },
    ],
  });
  for (const [u, p] of [['alice', 'alice-password-1'], ['bob', 'bob-password-12']] as const) {
    await gh.store.createUser({ username: u, passwordHash: await hashPassword(p, FAST), admin: false });
  }
});
after(async () => {
  await gh.close();
  await stub.close();
});
beforeEach(() => (stub.requests.length = 0));

const get = (path: string, auth: string, workspace?: string) =>
  fetch(`${gh.url}${path}`, { headers: { authorization: auth, ...(workspace !== undefined && { 'x-mlflow-workspace': workspace }) } });

test('without a header the first of the caller\'s tenants applies, and MLflow is told so', async () => {
  const res = await get('/api/2.0/mlflow/experiments/get?experiment_id=1', alice);
  assert.equal(res.status, 200);
  assert.equal(forwarded()[0]?.headers['x-mlflow-workspace'], 'team-a');
});

test('a client may choose another of its own tenants, and its role there applies', async () => {
  const read = await get('/api/2.0/mlflow/experiments/get?experiment_id=1', alice, 'team-b');
  assert.equal(read.status, 200);
  assert.equal(forwarded()[0]?.headers['x-mlflow-workspace'], 'team-b');
  const write = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { authorization: alice, 'x-mlflow-workspace': 'team-b', 'content-type': 'application/json' },
    body: '{"name":"e"}',
  });
  assert.equal(write.status, 200);
  const denied = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { authorization: alice, 'x-mlflow-workspace': 'team-a', 'content-type': 'application/json' },
    body: '{"name":"e"}',
  });
  assert.equal(denied.status, 403, 'viewer in team-a cannot create');
  assert.equal(forwarded().length, 2);
});

test('any other workspace is refused and nothing is forwarded', async () => {
  for (const ws of ['secret', 'default', 'nope', 'Team-A', 'a--b', 'x'.repeat(70)]) {
    const res = await get('/api/2.0/mlflow/experiments/get?experiment_id=1', alice, ws);
    assert.equal(res.status, 403, ws);
    const body = (await res.json()) as { error_code: string };
    assert.equal(body.error_code, 'PERMISSION_DENIED');
  }
  assert.equal(forwarded().length, 0);
});

test('a principal in no tenant is denied; an admin may use any workspace', async () => {
  assert.equal((await get('/api/2.0/mlflow/experiments/get?experiment_id=1', bob)).status, 403);
  assert.equal(forwarded().length, 0);
  assert.equal((await get('/api/2.0/mlflow/experiments/get?experiment_id=1', ADMIN_AUTH, 'secret')).status, 200);
  assert.equal(forwarded()[0]?.headers['x-mlflow-workspace'], 'secret');
});

test('the workspace list shows members only their workspaces; admins see all', async () => {
  const mine = (await (await get('/api/3.0/mlflow/workspaces', alice)).json()) as { workspaces: { name: string }[] };
  assert.deepEqual(mine.workspaces.map((w) => w.name), ['team-a', 'team-b']);
  const all = (await (await get('/api/3.0/mlflow/workspaces', ADMIN_AUTH)).json()) as { workspaces: { name: string }[] };
  assert.equal(all.workspaces.length, 4);
  assert.equal((await get('/api/3.0/mlflow/workspaces/team-b', alice)).status, 200);
  assert.equal((await get('/api/3.0/mlflow/workspaces/secret', alice)).status, 403);
  const create = await fetch(`${gh.url}/api/3.0/mlflow/workspaces`, { method: 'POST', headers: { authorization: alice, 'content-type': 'application/json' }, body: '{"name":"mine"}' });
  assert.equal(create.status, 403);
});

test('a tenant other than default is refused (503) when MLflow has no workspaces', async () => {
  const plain = await startStub();
  const g = await startInProcess(plain.url, { tenants: [{ name: 'team-a', members: { users: ['admin'] } }] });
  try {
    const res = await fetch(`${g.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: ADMIN_AUTH, 'x-mlflow-workspace': 'team-a' } });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_TENANT_UNAVAILABLE');
    assert.equal(plain.requests.filter((r) => r.url.startsWith('/api/2.0')).length, 0);
  } finally {
    await g.close();
    await plain.close();
  }
});
