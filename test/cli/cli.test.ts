/** The `gatehouse` command as an operator runs it: exit codes, --json, every config problem at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from '../harness/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
function gatehouse(args: string[], options: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {}) {
  const r = spawnSync(join(ROOT, 'bin/gatehouse'), args, {
    encoding: 'utf8',
    input: options.input ?? '',
    cwd: options.cwd ?? dir,
    env: childEnv({ GATEHOUSE_DATA_DIR: join(dir, 'data'), ...options.env }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const policyFile = join(dir, 'policy.yaml');
writeFileSync(
  policyFile,
  [
    'tenants:',
    '  - { name: team-a, members: { groups: [team-a] } }',
    'bindings:',
    '  - { role: viewer, group: readers, tenant: team-a }',
    '  - { role: contributor, user: carl, tenant: team-a }',
  ].join('\n'),
);

test('the store of these tests is made by a command that writes (migrate)', () => {
  const r = gatehouse(['migrate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`store sqlite ${join(dir, 'data', 'gatehouse.db')}`));
});

test('--help lists the commands; an unknown command is a usage error', () => {
  const help = gatehouse(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['serve', 'config check', 'routes check', 'policy explain', 'users add']) assert.match(help.stdout, new RegExp(c));
  assert.equal(gatehouse(['frobnicate']).code, 2);
  // Each command's name, then at least two spaces, then its summary: the longest name too.
  const listed = help.stdout.split('Commands:\n')[1]!.split('\n\n')[0]!.split('\n');
  assert.ok(listed.length > 20, help.stdout);
  for (const line of listed) assert.match(line, /^  [a-z-]+(?: [a-z-]+)* {2,}\S/, line);
  assert.match(help.stdout, /^  import mlflow-basic-auth {2,}migrate users/m);
});

test('config check: valid file exits 0; an invalid one exits 2 listing every problem with its path', () => {
  assert.equal(gatehouse(['config', 'check', '-c', policyFile]).code, 0);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, ['mlflow: { url: "ftp://x" }', 'server: { public: { port: -1 } }', 'bindings:', '  - { role: nope, user: x, tenant: team-z }', 'typo: 1'].join('\n'));
  const r = gatehouse(['config', 'check', '-c', bad]);
  assert.equal(r.code, 2);
  for (const path of ['mlflow.url', 'server.public.port', 'bindings.0.role', 'bindings.0.tenant', 'typo']) assert.match(r.stderr, new RegExp(`${path.replaceAll('.', '\\.')}:`), r.stderr);
});

test('routes list --json gives the route table', () => {
  const r = gatehouse(['routes', 'list', '--json']);
  assert.equal(r.code, 0);
  const rows = JSON.parse(r.stdout) as { op: string }[];
  assert.ok(rows.some((row) => row.op === 'runs.logMetric'));
});

test('policy explain answers with the engine\'s decision, reasons and exit code', () => {
  const allow = gatehouse(['policy', 'explain', '-c', policyFile, '--principal', 'rita', '--groups', 'readers,team-a', '--op', 'runs.get', '--json']);
  assert.equal(allow.code, 0, allow.stderr);
  const a = JSON.parse(allow.stdout) as { effect: string; reasons: string[]; tenant: string; bindings: { role: string }[] };
  assert.equal(a.effect, 'allow');
  assert.equal(a.tenant, 'team-a');
  assert.deepEqual(a.bindings.map((b) => b.role), ['viewer']);
  const deny = gatehouse(['policy', 'explain', '-c', policyFile, '--principal', 'rita', '--groups', 'readers,team-a', '--op', 'runs.logMetric']);
  assert.equal(deny.code, 1);
  assert.match(deny.stdout, /DENY.*runs\.logMetric/);
  assert.match(deny.stdout, /reason no-grant/);
  assert.equal(gatehouse(['policy', 'explain', '-c', policyFile, '--principal', 'x', '--op', 'nope.nope']).code, 2);
});

test('policy explain names a principal by identity (<provider id>:<subject>) or by local name, never by display name', () => {
  const file = join(dir, 'identities.yaml');
  writeFileSync(
    file,
    [
      'auth:',
      '  providers:',
      '    - { type: local }',
      '    - { type: oidc, id: corp, issuer: "https://corp.example", jwksUri: "https://corp.example/jwks", audience: mlflow }',
      '    - { type: oidc, id: sso, issuer: "https://sso.example", jwksUri: "https://sso.example/jwks", audience: mlflow, assertsLocalNames: true }',
      'tenants:',
      '  - { name: team-a, members: { users: ["corp:8f2c", carl] } }',
      'bindings:',
      '  - { role: contributor, user: "corp:8f2c", tenant: team-a }',
      '  - { role: viewer, user: carl, tenant: team-a }',
    ].join('\n'),
  );
  const explain = (...args: string[]) => gatehouse(['policy', 'explain', '-c', file, '--op', 'runs.logMetric', '--json', ...args]);
  const byId = explain('--principal', 'corp:8f2c');
  assert.equal(byId.code, 0, byId.stderr);
  assert.deepEqual((JSON.parse(byId.stdout) as { bindings: { id: string }[] }).bindings.map((b) => b.id), ['config:0']);
  assert.equal(explain('--principal', 'corp:other', '--name', 'carl').code, 1, 'corp does not assert local names');
  assert.match(explain('--principal', 'corp:other', '--name', 'carl').stderr, /--name carl is ignored/);
  const asserted = gatehouse(['policy', 'explain', '-c', file, '--op', 'runs.get', '--json', '--principal', 'sso:x1', '--name', 'carl']);
  assert.equal(asserted.code, 0, 'sso asserts local names: its carl is the local carl');
  assert.equal(gatehouse(['policy', 'explain', '-c', file, '--op', 'runs.get', '--principal', 'carl']).code, 0);
});

test('users add generates a password shown once; users list never shows hashes', () => {
  const add = gatehouse(['users', 'add', 'dora', '--json']);
  assert.equal(add.code, 0, add.stderr);
  const created = JSON.parse(add.stdout) as { username: string; password: string };
  assert.equal(created.username, 'dora');
  assert.ok(created.password.length >= 24);
  const list = gatehouse(['users', 'list', '--json']);
  assert.equal(list.code, 0);
  assert.doesNotMatch(list.stdout, /scrypt\$/);
  assert.deepEqual((JSON.parse(list.stdout) as { username: string }[]).map((u) => u.username), ['dora']);
  assert.equal(gatehouse(['users', 'add', 'dora']).code, 1, 'duplicate user');
  const weak = gatehouse(['users', 'set-password', 'dora', '--password-stdin'], { input: 'short\n' });
  assert.equal(weak.code, 2);
  assert.equal(gatehouse(['users', 'set-password', 'dora', '--password-stdin'], { input: 'a-much-longer-password\n' }).code, 0);
});

test('users update and delete: an administrator made, then refused as the last one, then kept; a plain user deleted', () => {
  assert.equal(gatehouse(['users', 'add', 'ivy', '--admin']).code, 0);
  const demoted = gatehouse(['users', 'update', 'ivy', '--admin', 'false']);
  assert.equal(demoted.code, 1, 'the only administrator stays one');
  assert.match(demoted.stderr, /no enabled platform administrator/);
  const made = gatehouse(['users', 'update', 'dora', '--admin', 'true', '--json']);
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(JSON.parse(made.stdout), { username: 'dora', admin: true, disabled: false, hasPassword: true });
  assert.equal(gatehouse(['users', 'update', 'ivy', '--disabled', 'true']).code, 0, 'dora is an administrator now');
  assert.equal(gatehouse(['users', 'update', 'ivy', '--disabled', 'maybe']).code, 2);
  assert.equal(gatehouse(['users', 'delete', 'dora']).code, 1, 'ivy is disabled: dora is the last enabled administrator');
  const deleted = gatehouse(['users', 'delete', 'ivy']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /user ivy deleted/);
  assert.deepEqual((JSON.parse(gatehouse(['users', 'list', '--json']).stdout) as { username: string }[]).map((u) => u.username), ['dora']);
  assert.equal(gatehouse(['users', 'delete', 'ivy']).code, 1, 'no such user');
});

test('sessions revoke: a handle or --all, not both, not neither (exit 2); an unknown user is not found (exit 1)', () => {
  for (const args of [['sessions', 'revoke', 'dora'], ['sessions', 'revoke', 'dora', 'ab'.repeat(32), '--all'], ['sessions', 'list']]) {
    const r = gatehouse(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  const unknown = gatehouse(['sessions', 'list', 'nobody-here']);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /user nobody-here does not exist/);
  const none = gatehouse(['sessions', 'revoke', 'dora', 'ab'.repeat(32)]);
  assert.equal(none.code, 1, none.stderr);
  assert.match(none.stderr, /session abab.* of user dora does not exist/);
  const all = gatehouse(['sessions', 'revoke', 'dora', '--all']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /0 session\(s\) of dora ended/);
});

test('a read-only command on a store that does not exist is an error naming it, and creates nothing', () => {
  const empty = join(dir, 'never-started');
  for (const args of [['users', 'list'], ['tokens', 'list'], ['audit', 'verify', '--store'], ['policy', 'explain', '--principal', 'x', '--op', 'runs.get']]) {
    const r = gatehouse(args, { env: { GATEHOUSE_DATA_DIR: empty } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`no store at ${join(empty, 'gatehouse.db')} .*nothing was ever stored there`), args.join(' '));
  }
  assert.equal(existsSync(join(empty, 'gatehouse.db')), false, 'no empty store was made');
});

test('the CLI finds the configuration without flags: GATEHOUSE_CONFIG, then ./gatehouse.yaml, then the quickstart data directory; a change names file and store', () => {
  const quickstart = join(dir, 'qs');
  const elsewhere = join(dir, 'elsewhere');
  const cwd = join(dir, 'cwd');
  for (const d of [quickstart, elsewhere, cwd]) mkdirSync(d, { recursive: true });
  // As scripts/quickstart writes it: the data directory holds the file and the store.
  writeFileSync(join(quickstart, 'gatehouse.yaml'), `dataDir: ${quickstart}\n`);
  writeFileSync(join(elsewhere, 'gatehouse.yaml'), `dataDir: ${join(elsewhere, 'store')}\n`);
  const users = (r: { stdout: string }) => (JSON.parse(r.stdout) as { username: string }[]).map((u) => u.username);
  // The quickstart's data directory (GATEHOUSE_DATA_DIR names it here; unset, .data/quickstart of the checkout).
  const qs = gatehouse(['users', 'add', 'quinn'], { cwd, env: { GATEHOUSE_DATA_DIR: quickstart } });
  assert.equal(qs.code, 0, qs.stderr);
  assert.match(qs.stderr, new RegExp(`^gatehouse: configuration ${join(quickstart, 'gatehouse.yaml')} \\(GATEHOUSE_DATA_DIR\\); store sqlite ${join(quickstart, 'gatehouse.db')}$`, 'm'));
  const listed = gatehouse(['users', 'list', '--json'], { cwd, env: { GATEHOUSE_DATA_DIR: quickstart } });
  assert.deepEqual(users(listed), ['quinn']);
  assert.doesNotMatch(listed.stderr, /configuration/, 'a read-only command says nothing extra');
  // ./gatehouse.yaml comes first when there is one.
  writeFileSync(join(cwd, 'gatehouse.yaml'), `dataDir: ${join(elsewhere, 'store')}\n`);
  const local = gatehouse(['users', 'add', 'lou'], { cwd, env: { GATEHOUSE_DATA_DIR: undefined } });
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stderr, new RegExp(`configuration ${join(cwd, 'gatehouse.yaml')} \\(\\./gatehouse\\.yaml\\); store sqlite ${join(elsewhere, 'store', 'gatehouse.db')}`));
  // GATEHOUSE_CONFIG comes before ./gatehouse.yaml; -c before everything.
  const named = gatehouse(['users', 'add', 'gil'], { cwd, env: { GATEHOUSE_DATA_DIR: undefined, GATEHOUSE_CONFIG: join(quickstart, 'gatehouse.yaml') } });
  assert.match(named.stderr, new RegExp(`\\(GATEHOUSE_CONFIG\\); store sqlite ${join(quickstart, 'gatehouse.db')}`));
  const flagged = gatehouse(['users', 'list', '--json', '-c', join(elsewhere, 'gatehouse.yaml')], { cwd, env: { GATEHOUSE_DATA_DIR: undefined, GATEHOUSE_CONFIG: join(quickstart, 'gatehouse.yaml') } });
  assert.deepEqual(users(flagged), ['lou']);
  assert.deepEqual(users(gatehouse(['users', 'list', '--json'], { cwd: dir, env: { GATEHOUSE_DATA_DIR: quickstart } })), ['gil', 'quinn']);
});
