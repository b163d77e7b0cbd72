/**
 * `gatehouse admin restore`, the break-glass command of docs/identity.md, run as the operator runs
 * it: straight on the store with no gateway running, it re-enables (or creates) an administrator
 * with a one-time password that expires, in one transaction with its admin event in the store's
 * audit journal — and when that event cannot be written, nothing changes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/load.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { basic, startInProcess } from '../harness/gatehouse.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

let dir: string;
let dataDir: string;
let configFile: string;
let stub: StubUpstream;

function gatehouse(args: string[]) {
  const r = spawnSync(join(ROOT, 'bin/gatehouse'), args, { encoding: 'utf8', env: childEnv({ GATEHOUSE_DATA_DIR: dataDir }) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const store = (): Promise<Store> => openStore({ ...loadConfig({ env: { GATEHOUSE_DATA_DIR: dataDir } }).store, dataDir });

async function journal(): Promise<{ action: string; target: { id: string }; actor: { id: string }; changes: Record<string, unknown> }[]> {
  const s = await store();
  try {
    return (await s.db.selectFrom('audit_journal').select('event').orderBy('id').execute()).map((r) => JSON.parse(r.event));
  } finally {
    await s.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-restore-'));
  dataDir = join(dir, 'data');
  configFile = join(dir, 'gatehouse.yaml');
  writeFileSync(configFile, `dataDir: ${JSON.stringify(dataDir)}\n`);
  stub = await startStub();
  // The only administrator is disabled: nobody can sign in to fix it.
  const s = await store();
  await s.createUser({ username: 'admin', passwordHash: null, admin: true });
  await s.setDisabled('admin', true);
  await s.close();
});
after(async () => {
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('refuses, changing nothing, when its audit event cannot be recorded', async () => {
  const s = await store();
  await sql`create trigger no_journal before insert on audit_journal begin select raise(abort, 'journal is read-only'); end`.execute(s.db);
  await s.close();
  try {
    const r = gatehouse(['admin', 'restore', 'admin']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /audit/);
    assert.doesNotMatch(r.stdout, /password/);
    const after = await store();
    assert.equal((await after.findUserByName('admin'))!.disabled, true, 'still disabled: the change went with the event');
    await after.close();
  } finally {
    const t = await store();
    await sql`drop trigger no_journal`.execute(t.db);
    await t.close();
  }
});

test('re-enables the administrator with a one-time password that works until it expires', async () => {
  // docs/identity.md, "Break-glass", word for word:
  const r = gatehouse(['admin', 'restore', 'admin', '-c', configFile]);
  assert.equal(r.code, 0, r.stderr);
  const m = /one-time password \(expires (\S+), shown once\): (\S+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const [, expires, password] = m;
  const expiresAt = Date.parse(expires!);
  assert.ok(expiresAt > Date.now() + 55 * 60_000 && expiresAt <= Date.now() + 60 * 60_000, `one hour by default: ${expires}`);

  const events = await journal();
  const restore = events.find((e) => e.action === 'user.restore');
  assert.ok(restore, 'the admin event is in the journal');
  assert.equal(restore.target.id, 'admin');
  assert.match(restore.actor.id, /^cli:/);
  assert.deepEqual(restore.changes.disabled, { before: true, after: false });
  assert.equal(JSON.stringify(events).includes(password!), false, 'never the password');

  // A gateway on that store: the password works now, and not once its expiry has passed.
  let clock = Date.now();
  const gh = await startInProcess(stub.url, { dataDir }, { now: () => clock });
  try {
    const me = () => fetch(`${gh.url}/_gatehouse/api/v1/users`, { headers: { authorization: basic('admin', password!) } }).then((res) => res.status);
    assert.equal(await me(), 200);
    // Ten seconds before the expiry the check succeeds and is remembered (cacheTtlMs: 60 s)...
    clock = expiresAt - 10_000;
    assert.equal(await me(), 200);
    // ...yet one millisecond after it the password is refused: nothing outlives it.
    clock = expiresAt + 1;
    assert.equal(await me(), 401, 'expired, though a successful check was remembered moments ago');
  } finally {
    await gh.close();
  }
});

test('creates the administrator when there is none of that name; --expires-minutes shortens the password\'s life', async () => {
  const r = gatehouse(['admin', 'restore', 'rescue', '--expires-minutes', '10', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { username: string; created: boolean; password: string; expiresAt: string };
  assert.equal(out.username, 'rescue');
  assert.equal(out.created, true);
  assert.ok(Date.parse(out.expiresAt) <= Date.now() + 10 * 60_000);
  const s = await store();
  const user = await s.findUserByName('rescue');
  await s.close();
  assert.equal(user?.admin, true);
  assert.equal(user?.disabled, false);
  assert.equal(gatehouse(['admin', 'restore', 'rescue', '--expires-minutes', '0']).code, 2, 'a usage error');
});
