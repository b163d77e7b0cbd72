/**
 * Grants, tenants and groups made with the CLI against the store of a running gateway take
 * effect there within a second (policy version polling), and config-declared ones are protected.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { hashPassword } from '../../src/identity/password.ts';

const run = promisify(execFile);
let stub: StubUpstream;
let gh: InProcess;
const DANA = basic('dana', 'dana-password-123');

/** An MLflow with workspaces: `tenants add` makes the tenant's workspace there (the stub answers 200). */
const withWorkspaces: StubHandler = (req, res, r) => {
  if (req.url !== '/api/3.0/mlflow/server-info') return jsonOk(req, res, r);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ workspaces_enabled: true }));
};

before(async () => {
  stub = await startStub(withWorkspaces);
  gh = await startInProcess(stub.url, { bindings: [{ role: 'viewer', user: 'root-viewer' }] });
  await gh.store.createUser({ username: 'dana', passwordHash: await hashPassword('dana-password-123', { cost: 1024, blockSize: 8, parallelization: 1 }), admin: false });
});
after(async () => {
  await gh.close();
  await stub.close();
});

async function cli(...args: string[]) {
  try {
    const r = await run(join(ROOT, 'bin/gatehouse'), args, { env: childEnv({ GATEHOUSE_DATA_DIR: gh.dataDir, GATEHOUSE_MLFLOW__URL: stub.url, GATEHOUSE_BINDINGS: '[{role: viewer, user: root-viewer}]' }) });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const status = async () => (await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: DANA } })).status;

async function eventually(expected: number): Promise<void> {
  const deadline = Date.now() + 5000;
  let last = 0;
  while (Date.now() < deadline) {
    last = await status();
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, expected);
}

test('a grant made with the CLI reaches the running gateway, and its removal too', async () => {
  assert.equal(await status(), 403);
  const add = await cli('grants', 'add', '--role', 'viewer', '--user', 'dana', '--tenant', 'default', '--json');
  assert.equal(add.code, 0, add.stderr);
  const id = (JSON.parse(add.stdout) as { id: string }).id;
  assert.match(id, /^api:/);
  await eventually(200);
  const list = await cli('grants', 'list', '--json');
  const grants = JSON.parse(list.stdout) as { id: string; role: string }[];
  // The CLI reads its own configuration (the gateway's declared grant, from the environment here) and the store's.
  assert.deepEqual(grants.map((g) => g.id), ['config:0', id]);
  assert.equal((await cli('grants', 'remove', id)).code, 0);
  await eventually(403);
});

test('dangling references are refused with their path; declared entries cannot be changed here', async () => {
  const badRole = await cli('grants', 'add', '--role', 'nope', '--user', 'dana');
  assert.equal(badRole.code, 2);
  assert.match(badRole.stderr, /role: unknown role nope/);
  const badTenant = await cli('grants', 'add', '--role', 'viewer', '--user', 'dana', '--tenant', 'team-x');
  assert.equal(badTenant.code, 2);
  assert.match(badTenant.stderr, /unknown tenant team-x/);
  assert.equal((await cli('grants', 'remove', 'config:0')).code, 2);
  assert.equal((await cli('tenants', 'remove', 'default')).code, 2);
});

test('tenants, members and custom roles made with the CLI', async () => {
  assert.equal((await cli('tenants', 'add', 'team-z', '--default-role', 'viewer')).code, 0);
  assert.ok(stub.requests.some((r) => r.method === 'POST' && r.url === '/api/3.0/mlflow/workspaces' && JSON.parse(r.body).name === 'team-z'), 'the MLflow workspace was made too');
  assert.equal((await cli('tenants', 'add-member', 'team-z', '--group', 'zeds')).code, 0);
  assert.equal((await cli('groups', 'add-member', 'zeds', 'dana')).code, 0);
  assert.equal((await cli('roles', 'add', '--json-role', '{"name":"tagger","levels":{"experiment":"READ"},"operations":["runs.setTag"]}')).code, 0);
  const tenants = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as { name: string; source: string; members: { groups: string[] } }[];
  // `access`: who is in the tenant through grants and groups (the console's member list reads the same service answer).
  assert.deepEqual(tenants.find((t) => t.name === 'team-z'), {
    name: 'team-z',
    defaultRole: 'viewer',
    members: { users: [], groups: ['zeds'] },
    source: 'store',
    access: { users: [], groups: [], serviceAccounts: [], groupMembers: ['dana'] },
  });
  const explain = await cli('policy', 'explain', '--principal', 'dana', '--op', 'runs.get', '--tenant', 'team-z', '--json');
  assert.equal(explain.code, 0, explain.stdout + explain.stderr);
  assert.deepEqual((JSON.parse(explain.stdout) as { reasons: string[] }).reasons, ['tenant-default-role']);
  const roles = JSON.parse((await cli('roles', 'list', '--json')).stdout) as { name: string; source: string }[];
  assert.equal(roles.find((r) => r.name === 'tagger')?.source, 'store');
  assert.equal((await cli('roles', 'add', '--json-role', '{"name":"viewer"}')).code, 2, 'a built-in name');
  // Flags that name a tenant or role accept the ones made in the store, not only the configuration's.
  const token = await cli('tokens', 'create', '--user', 'dana', '--tenant', 'team-z', '--max-role', 'tagger', '--json');
  assert.equal(token.code, 0, token.stderr);
  assert.deepEqual((({ tenant, maxRole }) => ({ tenant, maxRole }))(JSON.parse(token.stdout) as { tenant: string; maxRole: string }), { tenant: 'team-z', maxRole: 'tagger' });
  assert.equal((await cli('tokens', 'revoke', (JSON.parse(token.stdout) as { id: string }).id)).code, 0);
  const grant = await cli('grants', 'add', '--role', 'tagger', '--group', 'zeds', '--tenant', 'team-z', '--json');
  assert.equal(grant.code, 0, grant.stderr);
  assert.equal((await cli('grants', 'remove', (JSON.parse(grant.stdout) as { id: string }).id)).code, 0);
  const tenant = await cli('tenants', 'add', 'team-y', '--default-role', 'tagger');
  assert.equal(tenant.code, 0, tenant.stderr);
  assert.equal((await cli('tenants', 'remove', 'team-y')).code, 0);
  const removed = await cli('roles', 'remove', 'tagger');
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(!(JSON.parse((await cli('roles', 'list', '--json')).stdout) as { name: string }[]).some((r) => r.name === 'tagger'));
  assert.equal((await cli('roles', 'remove', 'viewer')).code, 1, 'a built-in role stays');
});
