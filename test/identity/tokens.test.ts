/**
 * API tokens through the real gateway: minted, listed and revoked with the real `gatehouse`
 * command against the gateway's own store, used as Bearer tokens and as Basic passwords,
 * refused when expired, revoked, tampered or narrowed away — each a 401/403 that never reaches
 * MLflow. The stock MLflow Python client uses a token against a real MLflow.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { apiTokenProvider, apiTokenSchema } from '../../src/identity/api-token.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { hashToken, mintToken } from '../../src/identity/token-format.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { Store } from '../../src/store/store.ts';
import { findTokenForAuth } from '../../src/store/tokens.ts';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { runPython } from '../harness/python-client.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const PROVIDERS = [{ type: 'token' }, { type: 'local', scrypt: FAST }];
const TENANTS = [
  { name: 'team-a', members: { users: [] } },
  { name: 'team-b', members: { users: [] } },
];

/** Runs the real command; asynchronously, so the in-process gateway keeps serving meanwhile. */
function gatehouseCli(configFile: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(ROOT, 'bin/gatehouse'), [...args, '-c', configFile], { encoding: 'utf8', env: childEnv() }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A config file for the CLI that points at the running gateway's store. */
function cliConfig(gh: InProcess, policy: Record<string, unknown>): string {
  const file = join(gh.dataDir, 'cli.yaml');
  writeFileSync(file, JSON.stringify({ dataDir: gh.dataDir, ...policy }));
  return file;
}

describe('API tokens through the gateway (stub MLflow with workspaces)', () => {
  const POLICY = {
    tenants: TENANTS,
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'contributor', user: 'alice', tenant: 'team-b' },
      { role: 'viewer', serviceAccount: 'ci', tenant: 'team-a' },
    ],
  };
  let stub: StubUpstream;
  let gh: InProcess;
  let config: string;
  let skewMs = 0;
  const now = () => Date.now() + skewMs;
  const forwarded = () => stub.requests.filter((r) => r.url.startsWith('/api/2.0/'));
  const cli = (...args: string[]) => gatehouseCli(config, args);

  async function create(...args: string[]): Promise<{ id: string; token: string }> {
    const r = await cli('tokens', 'create', '--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { id: string; token: string };
  }
  async function call(auth: string, init: { workspace?: string; write?: boolean } = {}) {
    const headers: Record<string, string> = { authorization: auth, ...(init.workspace && { 'x-mlflow-workspace': init.workspace }) };
    const res = init.write
      ? await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"name":"e"}' })
      : await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, body, ctx: gh.events.at(-1)!.ctx };
  }
  const bearer = (t: string) => `Bearer ${t}`;

  before(async () => {
    stub = await startStub(withWorkspaces);
    gh = await startInProcess(stub.url, { 'auth.providers': PROVIDERS, ...POLICY }, { now });
    await gh.store.createUser({ username: 'alice', passwordHash: await hashPassword('alice-password-1', FAST), admin: false });
    config = cliConfig(gh, POLICY);
  });
  after(async () => {
    await gh?.close();
    await stub?.close();
  });
  beforeEach(() => {
    stub.requests.length = 0;
    skewMs = 0;
  });

  test('a personal token works as a Bearer token and as the Basic password; no credential reaches MLflow', async () => {
    const { token } = await create('--user', 'alice');
    assert.match(token, /^gth_pat_[0-9a-f]{12}_[A-Za-z0-9_-]{49}$/);
    for (const auth of [bearer(token), basic('alice', token), basic('anything', token)]) {
      const r = await call(auth);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.ctx.principal?.id, 'token:alice');
      assert.equal(r.ctx.principal?.method, 'token');
    }
    assert.equal(forwarded().length, 3);
    for (const f of forwarded()) assert.equal(f.headers.authorization, undefined);
  });

  test('an expired token is refused with 401', async () => {
    const { token } = await create('--user', 'alice', '--expires-in', '1h');
    assert.equal((await call(bearer(token))).status, 200);
    skewMs = 61 * 60_000;
    const r = await call(bearer(token));
    assert.equal(r.status, 401);
    assert.equal(r.body.error_code, 'UNAUTHENTICATED');
    assert.equal(r.ctx.errorDetail, 'token: expired');
    assert.equal(forwarded().length, 1);
  });

  test('a revoked token stops working on the very next request', async () => {
    const { id, token } = await create('--user', 'alice');
    assert.equal((await call(bearer(token))).status, 200);
    const revoked = await cli('tokens', 'revoke', id);
    assert.equal(revoked.code, 0, revoked.stderr);
    const r = await call(bearer(token));
    assert.equal(r.status, 401);
    assert.equal(r.ctx.errorDetail, 'token: revoked');
    assert.equal((await call(basic('alice', token))).status, 401);
    assert.equal(forwarded().length, 1);
    assert.equal((await cli('tokens', 'revoke', 'ffffffffffff')).code, 1);
  });

  test('a tampered or unknown token is refused with 401; a bad checksum never reaches the store', async () => {
    const { token } = await create('--user', 'alice');
    const lastFlipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const secretFlipped = token.slice(0, 30) + (token[30] === 'x' ? 'y' : 'x') + token.slice(31);
    for (const t of [lastFlipped, secretFlipped]) {
      const r = await call(bearer(t));
      assert.equal(r.status, 401);
      assert.equal(r.ctx.errorDetail, 'token: bad-checksum');
    }
    const unknown = await call(bearer(mintToken('personal').token));
    assert.equal(unknown.ctx.errorDetail, 'token: unknown-token');
    assert.equal((await call(bearer('gth_pat_short'))).ctx.errorDetail, 'token: malformed-token');
    assert.equal(forwarded().length, 0);

    // The same check on the provider alone, over a store that fails the test if touched.
    let storeTouched = 0;
    const store = {
      get db(): never {
        storeTouched++;
        throw new Error('the store must not be consulted');
      },
    } as unknown as Store;
    const provider = apiTokenProvider(apiTokenSchema.parse({ type: 'token' }), { store, log: createLogger('silent'), realm: 'gatehouse', now: Date.now });
    const req = (authorization: string) => ({ headers: { authorization }, socket: {} }) as unknown as IncomingMessage;
    assert.deepEqual(await provider.authenticate(req(bearer(lastFlipped))), { kind: 'invalid', reason: 'bad-checksum' });
    assert.deepEqual(await provider.authenticate(req(basic('alice', secretFlipped))), { kind: 'invalid', reason: 'bad-checksum' });
    assert.equal(storeTouched, 0);
    // A bearer without the prefix (an OIDC JWT, anything else) is not this provider's.
    assert.deepEqual(await provider.authenticate(req('Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig')), { kind: 'not-mine' });
    assert.deepEqual(await provider.authenticate(req(basic('alice', 'alice-password-1'))), { kind: 'not-mine' });
  });

  test('a token narrowed to tenant team-a cannot act in team-b', async () => {
    const { token } = await create('--user', 'alice', '--tenant', 'team-a');
    const mine = await call(bearer(token));
    assert.equal(mine.status, 200);
    assert.equal(forwarded()[0]?.headers['x-mlflow-workspace'], 'team-a');
    assert.equal((await call(bearer(token), { workspace: 'team-a', write: true })).status, 200);
    const other = await call(bearer(token), { workspace: 'team-b' });
    assert.equal(other.status, 403);
    assert.equal(other.body.error_code, 'PERMISSION_DENIED');
    assert.equal((await call(bearer(token), { workspace: 'team-b', write: true })).status, 403);
    assert.equal(forwarded().length, 2);
    // Alice herself, with her password, still acts in team-b.
    assert.equal((await call(basic('alice', 'alice-password-1'), { workspace: 'team-b', write: true })).status, 200);
  });

  test("a maxRole=viewer token of a contributor can read but not write", async () => {
    const { token } = await create('--user', 'alice', '--max-role', 'viewer');
    assert.equal((await call(bearer(token), { workspace: 'team-a' })).status, 200);
    const write = await call(bearer(token), { workspace: 'team-a', write: true });
    assert.equal(write.status, 403);
    assert.equal(write.body.error_code, 'PERMISSION_DENIED');
    assert.equal(forwarded().length, 1);
    assert.equal((await cli('tokens', 'create', '--user', 'alice', '--max-role', 'overlord')).code, 2);
    assert.equal((await cli('tokens', 'create', '--user', 'alice', '--tenant', 'team-z')).code, 2);
  });

  test('a service-account token acts as the service account, with its bindings', async () => {
    assert.equal((await cli('service-accounts', 'add', 'ci', '--description', 'CI pipeline')).code, 0);
    assert.match((await cli('service-accounts', 'list')).stdout, /^ci {2}CI pipeline$/m);
    const { token } = await create('--service-account', 'ci');
    assert.match(token, /^gth_sat_/);
    const read = await call(bearer(token), { workspace: 'team-a' });
    assert.equal(read.status, 200);
    assert.equal(read.ctx.principal?.kind, 'service_account');
    assert.equal(read.ctx.principal?.id, 'token:sa:ci');
    assert.equal((await call(bearer(token), { workspace: 'team-a', write: true })).status, 403, 'ci is a viewer');
    assert.equal((await cli('tokens', 'create', '--service-account', 'nobody')).code, 1);
  });

  test('last use is recorded at most once a minute per token, without delaying the request', async () => {
    const { id, token } = await create('--user', 'alice');
    const lastUsed = async () => (await findTokenForAuth(gh.store.db, id))?.lastUsedAt ?? null;
    const waitForLastUsed = async (not: string | null) => {
      for (let i = 0; i < 200; i++) {
        const v = await lastUsed();
        if (v !== not) return v;
        await new Promise((r) => setTimeout(r, 10));
      }
      return not;
    };
    assert.equal(await lastUsed(), null);
    assert.equal((await call(bearer(token))).status, 200);
    const first = await waitForLastUsed(null);
    assert.notEqual(first, null);
    skewMs = 30_000;
    assert.equal((await call(bearer(token))).status, 200);
    await new Promise((r) => setImmediate(r));
    assert.equal(await lastUsed(), first, 'a second use within the minute writes nothing');
    skewMs = 61_000;
    assert.equal((await call(bearer(token))).status, 200);
    const second = await waitForLastUsed(first);
    assert.ok(second !== null && Date.parse(second) - Date.parse(first!) >= 60_000);
  });

  test('tokens list never prints a secret, and the store never holds one', async () => {
    const { id, token } = await create('--user', 'alice', '--description', 'laptop');
    for (const args of [['tokens', 'list'], ['tokens', 'list', '--json']]) {
      const r = await cli(...args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(id), 'the token is listed by id');
      assert.ok(!r.stdout.includes(token.slice(21)), 'no part of the secret is printed');
      assert.ok(!r.stdout.includes(hashToken(token)), 'nor its hash');
    }
    const listed = (JSON.parse((await cli('tokens', 'list', '--json')).stdout) as { id: string; owner: string; status: string; description: string }[]).find((t) => t.id === id);
    assert.deepEqual({ owner: listed?.owner, status: listed?.status, description: listed?.description }, { owner: 'alice', status: 'active', description: 'laptop' });
    const file = join(gh.dataDir, 'gatehouse.db');
    const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    assert.ok(bytes.includes(hashToken(token)), 'the files read hold the token row');
    assert.ok(!bytes.includes(token), 'the token itself is not stored');
    assert.ok(!bytes.includes(token.slice(21, 64)), 'nor its secret part');
  });
});

describe('the stock MLflow client with an API token, against a real MLflow', () => {
  let mlflow: MlflowServer;
  let gh: InProcess;
  let token: string;

  before(async () => {
    mlflow = await startMlflow();
    const policy = { bindings: [{ role: 'contributor', user: 'alice', tenant: 'default' }] };
    gh = await startInProcess(mlflow.url, { 'auth.providers': PROVIDERS, ...policy });
    await gh.store.createUser({ username: 'alice', passwordHash: await hashPassword('alice-password-1', FAST), admin: false });
    const r = await gatehouseCli(cliConfig(gh, policy), ['tokens', 'create', '--user', 'alice', '--json']);
    assert.equal(r.code, 0, r.stderr);
    token = (JSON.parse(r.stdout) as { token: string }).token;
  });
  after(async () => {
    await gh?.close();
    await mlflow?.stop();
  });

  const script = join(ROOT, 'test/identity/token_client.py');
  const base = () => ({ MLFLOW_TRACKING_URI: gh.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });

  test('MLFLOW_TRACKING_TOKEN works', async () => {
    const r = await runPython(script, { ...base(), MLFLOW_TRACKING_TOKEN: token });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { experiment: true, metric: 1.5, param: 'v', via: 'token' });
  });

  test('the token as MLFLOW_TRACKING_PASSWORD works', async () => {
    const r = await runPython(script, { ...base(), MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: token });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { experiment: true, metric: 1.5, param: 'v', via: 'basic' });
  });

  test('a mistyped token gets a readable 401 in the client', async () => {
    const r = await runPython(script, { ...base(), MLFLOW_TRACKING_TOKEN: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UNAUTHENTICATED|401/);
  });
});
