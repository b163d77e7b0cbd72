/**
 * Instance mode: each tenant has its own real MLflow. The stock client of one tenant writes to
 * its MLflow only; the other tenant's MLflow never sees it; choosing a foreign tenant is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, startInProcess, type InProcess, createUsers } from '../harness/gatehouse.ts';
import { clientActions } from '../harness/python-client.ts';
import { ROOT } from '../harness/paths.ts';

const PASSWORD = 'instance-mode-password';
let a: MlflowServer;
let b: MlflowServer;
let gh: InProcess;

before(async () => {
  [a, b] = await Promise.all([startMlflow(), startMlflow()]);
  gh = await startInProcess(a.url, {
    tenancy: { mode: 'instance' },
    tenants: [
      { name: 'team-a', mlflowUrl: a.url, members: { users: ['alice', 'carol'] } },
      { name: 'team-b', mlflowUrl: b.url, members: { users: ['bob', 'carol'] } },
    ],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
      { role: 'contributor', user: 'carol', tenant: 'team-a' },
      { role: 'contributor', user: 'carol', tenant: 'team-b' },
    ],
  });
  await createUsers(gh, ['alice', 'bob', 'carol'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

const client = clientActions<{ ok: boolean; code?: string; value?: unknown }>(join(ROOT, 'test/e2e/authz_actions.py'), () => gh.url, PASSWORD);
const as = (user: string, actions: unknown[][], workspace?: string) => client.as(user, actions, workspace ? { MLFLOW_WORKSPACE: workspace } : {});

async function namesIn(server: MlflowServer): Promise<string[]> {
  const res = await fetch(`${server.url}/api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"max_results": 100}' });
  return ((await res.json()) as { experiments: { name: string }[] }).experiments.map((e) => e.name).sort();
}

test('each tenant reaches its own MLflow, and only that one', async () => {
  const alice = await as('alice', [['exp', 'create_experiment', 'alice-exp'], ['run', 'create_run', '$exp'], ['metric', 'log_metric', '$run'], ['names', 'experiment_names']]);
  assert.equal(alice.metric?.ok, true, JSON.stringify(alice));
  assert.deepEqual(alice.names?.value, ['Default', 'alice-exp']);
  const bob = await as('bob', [['exp', 'create_experiment', 'bob-exp'], ['names', 'experiment_names']]);
  assert.deepEqual(bob.names?.value, ['Default', 'bob-exp']);
  assert.deepEqual(await namesIn(a), ['Default', 'alice-exp']);
  assert.deepEqual(await namesIn(b), ['Default', 'bob-exp']);
});

test('tenants are presented as workspaces: the stock client picks one with MLFLOW_WORKSPACE', async () => {
  // The client checks server-info before sending the header (docs/mlflow-notes.md); the gateway says yes.
  const carolB = await as('carol', [['exp', 'create_experiment', 'carol-in-b'], ['names', 'experiment_names']], 'team-b');
  assert.equal(carolB.exp?.ok, true, JSON.stringify(carolB));
  const carolA = await as('carol', [['exp', 'create_experiment', 'carol-in-a']], 'team-a');
  assert.equal(carolA.exp?.ok, true, JSON.stringify(carolA));
  assert.ok((await namesIn(b)).includes('carol-in-b') && !(await namesIn(b)).includes('carol-in-a'));
  assert.ok((await namesIn(a)).includes('carol-in-a') && !(await namesIn(a)).includes('carol-in-b'));
  const basicAuth = (u: string) => `Basic ${Buffer.from(`${u}:${PASSWORD}`).toString('base64')}`;
  const list = await fetch(`${gh.url}/ajax-api/3.0/mlflow/workspaces`, { headers: { authorization: basicAuth('carol') } });
  assert.deepEqual(await list.json(), { workspaces: [{ name: 'team-a' }, { name: 'team-b' }] });
  const bobList = await fetch(`${gh.url}/api/3.0/mlflow/workspaces`, { headers: { authorization: basicAuth('bob') } });
  assert.deepEqual(await bobList.json(), { workspaces: [{ name: 'team-b' }] });
  const getB = await fetch(`${gh.url}/api/3.0/mlflow/workspaces/team-b`, { headers: { authorization: basicAuth('bob') } });
  assert.equal(getB.status, 200, await getB.text());
  assert.equal((await fetch(`${gh.url}/api/3.0/mlflow/workspaces/team-a`, { headers: { authorization: basicAuth('bob') } })).status, 403);
  const info = (await (await fetch(`${gh.url}/api/3.0/mlflow/server-info`, { headers: { authorization: basicAuth('bob') } })).json()) as { workspaces_enabled: boolean };
  assert.equal(info.workspaces_enabled, true);
  const create = await fetch(`${gh.url}/api/3.0/mlflow/workspaces`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: '{"name": "team-c"}' });
  assert.equal(create.status, 400, 'tenants are managed in Gatehouse');
});

test('choosing the other tenant is refused; an admin may choose either', async () => {
  const bob = await fetch(`${gh.url}/api/2.0/mlflow/experiments/search`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json', 'x-mlflow-workspace': 'team-a' },
    body: '{"max_results": 100}',
  });
  assert.equal(bob.status, 403);
  assert.equal(((await bob.json()) as { error_code: string }).error_code, 'PERMISSION_DENIED');
  assert.equal((await as('bob', [['names', 'experiment_names']], 'team-a')).names?.code, 'PERMISSION_DENIED', 'the stock client is refused too');
  for (const [ws, expected] of [['team-a', 'alice-exp'], ['team-b', 'bob-exp']] as const) {
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/search`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', 'x-mlflow-workspace': ws },
      body: '{"max_results": 100}',
    });
    assert.equal(res.status, 200);
    const names = ((await res.json()) as { experiments: { name: string }[] }).experiments.map((e) => e.name);
    assert.ok(names.includes(expected), `${ws}: ${names}`);
  }
});

test('readiness covers every tenant\'s MLflow', async () => {
  const ready = (await (await fetch(`${gh.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
  assert.deepEqual(Object.keys(ready.checks).filter((k) => k.startsWith('mlflow')).sort(), ['mlflow', 'mlflow:team-a', 'mlflow:team-b']);
  assert.ok(Object.values(ready.checks).every((c) => c.ok));
});
