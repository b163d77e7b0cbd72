/**
 * Config as code, live: `gatehouse serve -c file` reloads the declared tenants, roles, groups and
 * bindings when the file changes (an editor's rename) and on SIGHUP, logs the diff, keeps the
 * policy in force when the new file is invalid, and keeps its listeners (same URL throughout).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ADMIN_PASSWORD, basic } from '../harness/gatehouse.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-reload-'));
const file = join(dir, 'gatehouse.yaml');
const alice = basic('alice', 'alice-password-1');
const ALICE_VIEWER = 'allow viewer to user:alice at tenant default';
let stub: StubUpstream;
let child: ChildProcess;
let url: string;
const logs: Record<string, unknown>[] = [];
const env = childEnv({ GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD });

function configText(policy: string[]): string {
  return [
    `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
    `mlflow: { url: ${JSON.stringify(stub.url)} }`,
    'server: { public: { host: 127.0.0.1, port: 0 }, internal: { host: 127.0.0.1, port: 0 } }',
    'auth: { providers: [ { type: local, scrypt: { cost: 1024 } } ] }',
    'log: { requests: false }',
    'audit: { sinks: [] }',
    ...policy,
  ].join('\n');
}
const TENANT = ['tenants:', '  - { name: default, members: { users: [alice] } }'];
const NO_GRANT = [...TENANT, 'bindings: []'];
const GRANT = [...TENANT, 'bindings:', '  - { role: viewer, user: alice, tenant: default }'];

/** As an editor saves: write a temporary file, then rename it over the old one. */
function save(text: string): void {
  const tmp = join(dir, '.gatehouse.yaml.swp');
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 15_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const aliceStatus = async () =>
  (await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: alice } })).status;
const logged = (msg: string, match: (l: Record<string, unknown>) => boolean = () => true) => logs.find((l) => l.msg === msg && match(l));

before(async () => {
  stub = await startStub(withWorkspaces);
  writeFileSync(file, configText(NO_GRANT));
  const add = spawnSync(join(ROOT, 'bin/gatehouse'), ['users', 'add', 'alice', '--password-stdin', '-c', file], { env, input: 'alice-password-1', encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  child = spawn(join(ROOT, 'bin/gatehouse'), ['serve', '-c', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gatehouse exited ${code}:\n${stderr.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'gatehouse listening') resolve(entry.url as string);
    });
  });
});

after(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a binding added to the file applies without a restart, and the diff is logged', async () => {
  assert.equal(await aliceStatus(), 403, 'no grant yet');
  save(configText(GRANT));
  await until('alice allowed', async () => (await aliceStatus()) === 200);
  const line = await until('the added binding in the log', () =>
    logged('declared policy reloaded', (l) => (l.diff as { bindings: { added: string[] } }).bindings.added.includes(ALICE_VIEWER)),
  );
  assert.deepEqual((line.diff as { tenants: unknown }).tenants, { added: [], removed: [], changed: [] });
  assert.equal(line.reason, 'file changed');
});

test('after a reload, the admin API still refuses to override a declared grant and lists it as source config', async () => {
  const admin = { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' };
  const post = await fetch(`${url}/_gatehouse/api/v1/grants`, { method: 'POST', headers: admin, body: JSON.stringify({ role: 'contributor', user: 'alice', tenant: 'default' }) });
  const body = (await post.json()) as { gatehouse_code: string };
  assert.equal(post.status, 409);
  assert.equal(body.gatehouse_code, 'GATEHOUSE_ADMIN_DECLARED');
  const list = (await (await fetch(`${url}/_gatehouse/api/v1/grants`, { headers: admin })).json()) as { grants: { id: string; source: string; user?: string }[] };
  assert.deepEqual(list.grants.map((g) => [g.id, g.source, g.user]), [['config:0', 'config', 'alice']]);
});

test('an invalid file is refused with every problem logged; the policy in force stays', async () => {
  save(configText([...TENANT, 'bindings:', '  - { role: no-such-role, user: alice, tenant: nowhere }', 'typo: 1']));
  const refused = await until('the refusal', () => logged('configuration reload refused: the file is invalid; keeping the policy in force'));
  const problems = (refused.problems as string[]).join('\n');
  for (const path of ['bindings.0.role', 'bindings.0.tenant', 'typo']) assert.match(problems, new RegExp(`${path.replaceAll('.', '\\.')}:`), problems);
  assert.equal(await aliceStatus(), 200, 'the previous policy still applies');
});

test('changes outside the policy sections are reported as needing a restart and ignored', async () => {
  save(configText(GRANT).replace('log: { requests: false }', 'log: { requests: false, level: debug }'));
  const line = await until('the restart notice', () => logged('configuration changes outside the policy sections need a restart; ignored'));
  assert.deepEqual(line.needsRestart, ['log.level']);
  assert.equal(await aliceStatus(), 200);
});

test('SIGHUP reloads: the binding removed from the file is revoked', async () => {
  writeFileSync(file, configText(NO_GRANT));
  child.kill('SIGHUP');
  await until('alice denied', async () => (await aliceStatus()) === 403);
  // The log is read from the child's stdout, which may trail the HTTP answer a little.
  await until('the SIGHUP reload in the log', () => logs.some((l) => l.reason === 'SIGHUP'));
  await until('the removal in the diff', () =>
    logged('declared policy reloaded', (l) => (l.diff as { bindings: { removed: string[] } }).bindings.removed.includes(ALICE_VIEWER)),
  );
  assert.equal(child.exitCode, null, 'SIGHUP does not stop the gateway');
});
