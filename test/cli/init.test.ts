/** `gatehouse init`: a valid commented starter config, never overwritten by accident, and the first admin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from '../harness/paths.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/store/store.ts';
import { verifyPassword } from '../../src/identity/password.ts';
import { STARTER_CONFIG } from '../../src/cli/init.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-init-'));
function gatehouse(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(join(ROOT, 'bin/gatehouse'), args, {
    encoding: 'utf8',
    cwd: dir,
    env: childEnv({ GATEHOUSE_DATA_DIR: join(dir, 'data'), ...env }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function adminHash(dataDir: string, username: string): Promise<string | null | undefined> {
  const store = await openStore({ ...loadConfig({ env: {} }).store, dataDir });
  try {
    return (await store.findUserByName(username))?.passwordHash;
  } finally {
    await store.close();
  }
}

test('init writes a commented config that config check and loadConfig accept, with the sections an operator needs', () => {
  const file = join(dir, 'fresh.yaml');
  const r = gatehouse(['init', '-c', file, '--json'], { GATEHOUSE_DATA_DIR: join(dir, 'data-fresh') });
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(file, 'utf8');
  assert.equal(text, STARTER_CONFIG);
  const config = loadConfig({ file, env: {} });
  assert.equal(config.mlflow.url, 'http://127.0.0.1:5000');
  assert.deepEqual(config.auth.providers.map((p) => p.type), ['token', 'local']);
  assert.deepEqual(config.tenants.map((t) => t.name), ['default']);
  assert.equal(config.tenancy.defaultTenant, 'default');
  assert.deepEqual(config.audit.sinks.map((s) => s.type), ['file']);
  for (const example of ['type: oidc', 'type: ldap', 'role: contributor']) assert.match(text, new RegExp(`# +-? ?\\{? ?${example}`), example);
  assert.equal(gatehouse(['config', 'check', '-c', file]).code, 0);
});

test('docs/config-example.yaml is the text init writes', () => {
  assert.equal(readFileSync(join(ROOT, 'docs/config-example.yaml'), 'utf8'), STARTER_CONFIG);
});

test('init creates the admin with a generated password shown once, and never overwrites without --force', async () => {
  const file = join(dir, 'first.yaml');
  const dataDir = join(dir, 'data-gen');
  const first = gatehouse(['init', '-c', file, '--json'], { GATEHOUSE_DATA_DIR: dataDir });
  assert.equal(first.code, 0, first.stderr);
  const out = JSON.parse(first.stdout) as { file: string; admin: { created: boolean; username: string; password: string } };
  assert.equal(out.file, file);
  assert.equal(out.admin.created, true);
  assert.equal(out.admin.username, 'admin');
  const hash = await adminHash(dataDir, 'admin');
  assert.ok(hash && (await verifyPassword(out.admin.password, hash)), 'the printed password is the stored one');

  writeFileSync(file, '# edited by the operator\n');
  const again = gatehouse(['init', '-c', file], { GATEHOUSE_DATA_DIR: dataDir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists; pass --force/);
  assert.equal(readFileSync(file, 'utf8'), '# edited by the operator\n', 'the file is untouched');

  const forced = gatehouse(['init', '-c', file, '--force', '--json'], { GATEHOUSE_DATA_DIR: dataDir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(file, 'utf8'), STARTER_CONFIG);
  const second = JSON.parse(forced.stdout) as { admin: { created: boolean; password?: string } };
  assert.deepEqual(second.admin, { created: false }, 'an existing admin is kept and no password is shown again');
  assert.doesNotMatch(forced.stdout + forced.stderr, new RegExp(out.admin.password));
});

test('init takes the admin from GATEHOUSE_ADMIN_USER / GATEHOUSE_ADMIN_PASSWORD_FILE and never prints it', async () => {
  const file = join(dir, 'given.yaml');
  const dataDir = join(dir, 'data-given');
  const secret = join(dir, 'admin-password');
  writeFileSync(secret, 'operator-chosen-pass-42\n');
  const r = gatehouse(['init', '-c', file], { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ADMIN_USER: 'root-admin', GATEHOUSE_ADMIN_PASSWORD_FILE: secret });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created administrator root-admin with the password from GATEHOUSE_ADMIN_PASSWORD/);
  assert.doesNotMatch(r.stdout + r.stderr, /operator-chosen-pass-42/);
  const hash = await adminHash(dataDir, 'root-admin');
  assert.ok(hash && (await verifyPassword('operator-chosen-pass-42', hash)));
});

test('init with the default file name writes ./gatehouse.yaml; --help explains it', () => {
  const r = gatehouse(['init'], { GATEHOUSE_DATA_DIR: join(dir, 'data-default') });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /generated password \(shown once/);
  assert.equal(readFileSync(join(dir, 'gatehouse.yaml'), 'utf8').length > 0, true);
  const help = gatehouse(['init', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--force/);
});
