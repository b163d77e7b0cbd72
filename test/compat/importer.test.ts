/**
 * `gatehouse import mlflow-basic-auth` on a basic_auth.db produced by the REAL MLflow basic-auth
 * app (`mlflow server --app-name basic-auth`, seeded through its REST API with the stock
 * AuthServiceClient): the dry run writes nothing, the import keeps old passwords working and the
 * permissions holding through a gateway in front of a normal MLflow, and a re-run changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { runPython } from '../harness/python-client.ts';
import { childEnv, MLFLOW_VENV, ROOT, requireMlflowVenv } from '../harness/paths.ts';
import { freePort, waitFor } from '../harness/ports.ts';
import { policyRepository } from '../../src/store/policy.ts';
import type { ImportPlan } from '../../src/cli/import-mlflow.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-import-'));
const authDb = join(dir, 'basic_auth.db');
const dataDir = join(dir, 'gatehouse');
const MLFLOW_ADMIN = ['admin', 'mlflow-admin-password-1'] as const;
let seeded: { experiments: { shared: string; secret: string }; check: { allowed: boolean; permission: string }; frank_secret: string };
let mlflow: MlflowServer;
let gh: InProcess;

/** MLflow's own basic-auth app on a free port, with its auth database in `dir`. */
async function withBasicAuthMlflow<T>(fn: (url: string) => Promise<T>): Promise<T> {
  requireMlflowVenv();
  const port = await freePort();
  const ini = join(dir, 'basic_auth.ini');
  writeFileSync(
    ini,
    ['[mlflow]', 'default_permission = NO_PERMISSIONS', `database_uri = sqlite:///${authDb}`, `admin_username = ${MLFLOW_ADMIN[0]}`, `admin_password = ${MLFLOW_ADMIN[1]}`, 'authorization_function = mlflow.server.auth:authenticate_request_basic_auth', ''].join('\n'),
  );
  const log = join(dir, 'basic-auth-mlflow.log');
  const child = spawn(
    join(MLFLOW_VENV, 'bin/mlflow'),
    ['server', '--app-name', 'basic-auth', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', `sqlite:///${join(dir, 'auth-mlflow.db')}`, '--workers', '1'],
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
      env: { ...process.env, MLFLOW_AUTH_CONFIG_PATH: ini, MLFLOW_FLASK_SERVER_SECRET_KEY: 'test-secret-key', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', PYTHONUNBUFFERED: '1' },
    },
  );
  let exited: string | undefined;
  child.once('exit', (code) => (exited = `code ${code}`));
  const stopped = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor('MLflow basic-auth', async () => (await fetch(`${url}/health`)).ok, 120_000, () => exited && `${exited}\n${readFileSync(log, 'utf8').slice(-3000)}`);
    return await fn(url);
  } finally {
    if (!exited) {
      process.kill(-child.pid!, 'SIGTERM');
      await stopped;
    }
  }
}

function gatehouse(args: string[]) {
  const r = spawnSync(join(ROOT, 'bin/gatehouse'), args, { encoding: 'utf8', env: childEnv({ GATEHOUSE_DATA_DIR: dataDir }) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  mkdirSync(dataDir);
  seeded = await withBasicAuthMlflow(async (url) => {
    const py = await runPython(join(ROOT, 'test/compat/seed_basic_auth.py'), {
      MLFLOW_TRACKING_URI: url,
      MLFLOW_TRACKING_USERNAME: MLFLOW_ADMIN[0],
      MLFLOW_TRACKING_PASSWORD: MLFLOW_ADMIN[1],
      GH_AUTH_DB: authDb,
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    });
    assert.equal(py.code, 0, py.stderr.slice(-4000));
    return JSON.parse(py.stdout.trim().split('\n').at(-1)!);
  });
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the real basic-auth app produced the database the importer reads (MLflow 3.18 RBAC tables)', () => {
  assert.deepEqual(seeded.experiments, { shared: '1', secret: '2' });
  assert.deepEqual(seeded.check, { allowed: false, permission: 'READ' });
  assert.equal(seeded.frank_secret, 'DENY', "MLflow resolves the role's DENY");
});

test('dry run: prints the plan, says who needs a password reset, writes nothing', () => {
  const r = gatehouse(['import', 'mlflow-basic-auth', authDb, '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as ImportPlan;
  assert.equal(plan.schema, 'rbac');
  assert.equal(plan.dryRun, true);
  assert.deepEqual(
    plan.users.map((u) => [u.username, u.action, u.admin, u.password]),
    [
      ['admin', 'create', true, 'kept'],
      ['alice', 'create', false, 'kept'],
      ['bob', 'create', false, 'kept'],
      ['carol', 'create', false, 'kept'],
      ['dave', 'create', false, 'reset-required'],
      ['erin', 'create', true, 'kept'],
      ['frank', 'create', false, 'kept'],
    ],
  );
  const grants = plan.grants.filter((g) => g.username !== 'admin').map((g) => [g.username, g.resourceType, g.resourceId, g.permission, g.tenant, g.action]);
  assert.deepEqual(grants, [
    ['alice', 'experiment', '1', 'READ', 'default', 'add'],
    ['alice', 'registered_model', 'model-a', 'EDIT', 'default', 'add'],
    ['bob', 'experiment', '1', 'MANAGE', 'default', 'add'],
    ['bob', 'experiment', '2', 'DENY', 'default', 'add'],
    ['carol', 'experiment', '2', 'EDIT', 'default', 'add'],
    ['carol', 'registered_model', '*', 'READ', 'default', 'add'],
  ]);
  // The named role stays a role (the synthetic __user_<id>__ roles are the per-user grants above).
  assert.deepEqual(plan.mlflowRoles, [
    {
      name: 'analysts',
      tenant: 'default',
      action: 'create',
      permissions: [
        { resourceType: 'experiment', resourcePattern: '1', permission: 'READ', action: 'add' },
        { resourceType: 'registered_model', resourcePattern: '*', permission: 'READ', action: 'add' },
        { resourceType: 'workspace', resourcePattern: '*', permission: 'USE', action: 'add' },
        { resourceType: 'experiment', resourcePattern: '2', permission: 'DENY', action: 'add' },
      ],
      members: [{ username: 'frank', action: 'add' }],
    },
  ]);
  const runs = plan.skipped.find((s) => s.what === 'run * READ of role analysts');
  assert.match(runs?.reason ?? '', /Grant on 'experiment' or 'registered_model' instead/, JSON.stringify(plan.skipped));
  assert.ok(!existsSync(join(dataDir, 'gatehouse.db')), 'the dry run created no store');
  const text = gatehouse(['import', 'mlflow-basic-auth', authDb, '--dry-run']);
  assert.match(text.stdout, /^DRY RUN \(nothing written\)/);
  assert.match(text.stdout, /dave: PASSWORD RESET REQUIRED/);
  assert.match(text.stdout, /ACTION NEEDED: 1 user\(s\) need a new password .*: dave/);
  assert.ok(!text.stdout.includes('scrypt:') && !text.stdout.includes('pbkdf2:'), 'no password hash is printed');
});

test('import writes users and grants, with progress on stderr; a re-run changes nothing', async () => {
  const first = gatehouse(['import', 'mlflow-basic-auth', authDb, '--json', '--progress-every', '2']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /import: users: 2\/7/);
  assert.match(first.stderr, /import: grants: 9\/9/);
  const again = gatehouse(['import', 'mlflow-basic-auth', authDb, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const plan = JSON.parse(again.stdout) as ImportPlan;
  assert.ok(plan.users.every((u) => u.action === 'exists'), 'users exist');
  assert.ok(plan.grants.every((g) => g.action === 'exists'), 'grants exist');
  assert.deepEqual(
    plan.mlflowRoles.map((r) => [r.action, ...r.permissions.map((p) => p.action), ...r.members.map((m) => m.action)]),
    [['exists', 'exists', 'exists', 'exists', 'exists', 'exists']],
    'the role, its permissions and its assignment exist',
  );
  assert.deepEqual(plan.rolesToCreate, []);
});

test('through a gateway in front of a normal MLflow: old passwords work, permissions hold', async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, { dataDir });
  const bindings = (await policyRepository(gh.store.db).load()).bindings.length;
  // 9 per-user grants, and the 4 permissions of the role that Gatehouse can state.
  assert.equal(bindings, 13);
  const as = (user: string, password: string) => ({ authorization: basic(user, password), 'content-type': 'application/json' });
  const admin = as(...MLFLOW_ADMIN);
  // Recreate the experiments and the model (same ids on a fresh MLflow) as the imported MLflow admin.
  for (const name of ['shared-exp', 'secret-exp']) {
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: admin, body: JSON.stringify({ name }) });
    assert.equal(res.status, 200, await res.text());
  }
  assert.equal((await fetch(`${gh.url}/api/2.0/mlflow/registered-models/create`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'model-a' }) })).status, 200);

  const getExp = async (h: Record<string, string>, id: string) => (await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=${id}`, { headers: { authorization: h.authorization! } })).status;
  const setExpTag = async (h: Record<string, string>, id: string) =>
    (await fetch(`${gh.url}/api/2.0/mlflow/experiments/set-experiment-tag`, { method: 'POST', headers: h, body: JSON.stringify({ experiment_id: id, key: 'k', value: 'v' }) })).status;
  const setModelTag = async (h: Record<string, string>) =>
    (await fetch(`${gh.url}/api/2.0/mlflow/registered-models/set-tag`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'model-a', key: 'k', value: 'v' }) })).status;

  const alice = as('alice', 'alice-old-password-1');
  assert.equal(await getExp(alice, '1'), 200, 'alice READ on experiment 1');
  assert.equal(await setExpTag(alice, '1'), 403, 'READ is not EDIT');
  assert.notEqual(await getExp(alice, '2'), 200, 'alice has nothing on experiment 2');
  assert.equal(await setModelTag(alice), 200, 'alice EDIT on model-a');
  assert.equal(await getExp(as('alice', 'wrong-password-123'), '1'), 401);

  const bob = as('bob', 'bob-old-password-12');
  assert.equal(await setExpTag(bob, '1'), 200, 'bob MANAGE on experiment 1');
  assert.notEqual(await getExp(bob, '2'), 200, 'bob DENY on experiment 2');

  // carol's hash was pbkdf2 (older MLflow): it verifies, then is replaced by Gatehouse's own.
  const carol = as('carol', 'carol-old-password-1');
  assert.equal(await setExpTag(carol, '2'), 200, 'carol EDIT on experiment 2');
  assert.match((await gh.store.findUserByName('carol'))!.passwordHash!, /^scrypt\$/);
  assert.equal(await getExp(carol, '2'), 200, 'the rehashed password still works');

  assert.equal(await getExp(as('dave', 'dave-old-password-12'), '1'), 401, 'dave must be given a new password');
  assert.equal((await gh.store.findUserByName('dave'))!.passwordHash, null);

  assert.notEqual(await getExp(carol, '1'), 200, 'carol has nothing on experiment 1');
  const getModel = async (h: Record<string, string>) => (await fetch(`${gh.url}/api/2.0/mlflow/registered-models/get?name=model-a`, { headers: { authorization: h.authorization! } })).status;
  assert.equal(await getModel(carol), 200, 'carol READ on every registered model (a per-user wildcard grant)');

  // frank holds the imported role: its id grant, wildcard, workspace USE and DENY all hold.
  const frank = as('frank', 'frank-old-password-1');
  assert.equal(await getExp(frank, '1'), 200, 'frank READ on experiment 1 through the role');
  assert.equal(await setExpTag(frank, '1'), 403, 'READ is not EDIT');
  assert.equal(await getModel(frank), 200, 'frank READ on every registered model through the role');
  assert.notEqual(await getExp(frank, '2'), 200, "the role's DENY on experiment 2");
  const created = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: frank, body: JSON.stringify({ name: 'franks-exp' }) });
  assert.equal(created.status, 200, `workspace USE lets frank create: ${await created.text()}`);
  // The role is an MLflow role again, as MLflow's own client and UI read it.
  const roles = (await (await fetch(`${gh.url}/api/3.0/mlflow/users/roles/list?username=frank`, { headers: { authorization: frank.authorization! } })).json()) as { roles: { name: string; permissions: unknown[] }[] };
  assert.deepEqual(roles.roles.map((r) => [r.name, r.permissions.length]), [['analysts', 4]]);
  assert.equal(await getExp(as('erin', 'erin-old-password-12'), '2'), 200, 'erin is an administrator');
});
