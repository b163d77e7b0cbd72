/**
 * Tokens are minted only where a gateway would accept them. The token provider is on by default
 * (the built-in `auth.providers`, `gatehouse init`'s file, docs/config-example.yaml and the Helm
 * values all list it), and a configuration without one refuses to mint — a personal or service
 * account token, through the admin API, `/me/tokens` and the CLI — with a message naming the
 * setting, instead of handing out a token every request would answer 401 to.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { ADMIN_AUTH, basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

let stub: StubUpstream;
let gh: InProcess;
let configFile: string;
const API = '/_gatehouse/api/v1';

before(async () => {
  stub = await startStub();
  // Passwords only: no token provider.
  gh = await startInProcess(stub.url, { 'audit.sinks': [{ type: 'store' }] });
  await createUsers(gh, ['tess'], 'tess-password-123');
  assert.equal((await api('POST', '/service-accounts', ADMIN_AUTH, { name: 'robot' })).status, 201);
  configFile = join(gh.dataDir, 'cli.yaml');
  writeFileSync(configFile, JSON.stringify({ dataDir: gh.dataDir, auth: { providers: [{ type: 'local' }] } }));
});
after(async () => {
  await gh.close();
  await stub.close();
});

async function api(method: string, path: string, authorization: string, body?: unknown) {
  const res = await fetch(`${gh.url}${API}${path}`, {
    method,
    headers: { authorization, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as { gatehouse_code?: string; message?: string } | undefined };
}

test('without a token provider, the admin API refuses to mint, naming the setting', async () => {
  for (const owner of [{ user: 'tess' }, { serviceAccount: 'robot' }]) {
    const r = await api('POST', '/tokens', ADMIN_AUTH, owner);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body?.gatehouse_code, 'GATEHOUSE_ADMIN_NO_TOKEN_PROVIDER');
    assert.match(r.body?.message ?? '', /auth\.providers/);
  }
  const own = await api('POST', '/me/tokens', basic('tess', 'tess-password-123'), {});
  assert.equal(own.status, 409);
  assert.equal(own.body?.gatehouse_code, 'GATEHOUSE_ADMIN_NO_TOKEN_PROVIDER');
  assert.deepEqual((await api('GET', '/tokens', ADMIN_AUTH)).body, { tokens: [] } as unknown, 'nothing was minted');
});

test('without a token provider, the CLI refuses to mint, naming the setting', () => {
  const r = spawnSync(join(ROOT, 'bin/gatehouse'), ['tokens', 'create', '--service-account', 'robot', '-c', configFile], { encoding: 'utf8', env: childEnv() });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /auth\.providers/);
  assert.doesNotMatch(r.stdout, /gth_/);
});

test('the token provider is on by default, in init\'s file, the example configuration and the Helm values', () => {
  assert.ok(loadConfig({ env: {} }).auth.providers.some((p) => p.type === 'token'), 'built-in default');
  const example = readFileSync(join(ROOT, 'docs/config-example.yaml'), 'utf8');
  assert.ok(loadConfig({ file: join(ROOT, 'docs/config-example.yaml'), env: {} }).auth.providers.some((p) => p.type === 'token'), `docs/config-example.yaml:\n${example.slice(0, 200)}`);
  const values = parse(readFileSync(join(ROOT, 'deploy/helm/gatehouse/values.yaml'), 'utf8')) as { config: { auth: { providers: { type: string }[] } } };
  assert.ok(values.config.auth.providers.some((p) => p.type === 'token'), 'Helm values');
});
