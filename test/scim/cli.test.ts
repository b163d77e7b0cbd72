/**
 * `gatehouse scim-tokens create|list|rotate|revoke` as an operator runs them (docs/identity.md,
 * "SCIM provisioning"), against the store a gateway then serves: the printed token opens the
 * SCIM door, the list never prints a secret, rotation and revocation take effect there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from '../harness/paths.ts';
import { callJson, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, jsonOk, type StubUpstream } from '../harness/stub-upstream.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-scim-cli-'));
const dataDir = join(dir, 'data');
function gatehouse(args: string[]) {
  const r = spawnSync(join(ROOT, 'bin/gatehouse'), args, { encoding: 'utf8', cwd: dir, env: childEnv({ GATEHOUSE_DATA_DIR: dataDir }) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let stub: StubUpstream;
let gh: InProcess;
const config = async (token: string) => (await callJson(`${gh.url}/_gatehouse/scim/v2/ServiceProviderConfig`, 'GET', { authorization: `Bearer ${token}` })).status;

before(async () => {
  assert.equal(gatehouse(['migrate']).code, 0);
  stub = await startStub(jsonOk);
  gh = await startInProcess(stub.url, { dataDir, scim: { enabled: true } });
});
after(async () => {
  await gh.close();
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

test('scim-tokens create prints the token once (--json: {"token": ...}); it opens the SCIM door', async () => {
  const r = gatehouse(['scim-tokens', 'create', 'entra', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { token, name, id } = JSON.parse(r.stdout) as { token: string; name: string; id: string };
  assert.match(token, /^gth_sct_[0-9a-f]{12}_/);
  assert.equal(name, 'entra');
  assert.equal(await config(token), 200);

  const plain = gatehouse(['scim-tokens', 'create', 'okta']);
  assert.equal(plain.code, 0);
  assert.match(plain.stdout.split('\n')[1]!, /^gth_sct_/);

  const list = gatehouse(['scim-tokens', 'list']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, new RegExp(`^${id}  active +entra`, 'm'));
  assert.ok(!list.stdout.includes('gth_sct_'), 'no secret listed');

  const rotated = gatehouse(['scim-tokens', 'rotate', 'entra', '--overlap-seconds', '0', '--json']);
  assert.equal(rotated.code, 0, rotated.stderr);
  const next = JSON.parse(rotated.stdout) as { token: string; replaces: string[] };
  assert.deepEqual(next.replaces, [id]);
  assert.equal(await config(token), 401, 'the old token stopped (no overlap)');
  assert.equal(await config(next.token), 200);

  const nextId = /^gth_sct_([0-9a-f]{12})_/.exec(next.token)![1]!;
  assert.equal(gatehouse(['scim-tokens', 'revoke', nextId]).code, 0);
  assert.equal(await config(next.token), 401, 'revoked');
  assert.equal(gatehouse(['scim-tokens', 'revoke', 'nope']).code, 2);
});
