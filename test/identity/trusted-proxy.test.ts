/**
 * A trusted authentication proxy (oauth2-proxy style) through the real gateway, bound on
 * 127.0.0.1 with only 127.0.0.1 trusted: requests from 127.0.0.1 are the proxy; requests from
 * 127.0.0.3 (a second loopback address as the client's local address) are anyone else. The
 * identity headers and the shared secret never reach the recording stub upstream.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const SECRET = 'proxy-shared-secret-0123456789';
const IDENTITY_HEADERS = ['x-forwarded-user', 'x-forwarded-groups', 'x-proxy-email', 'x-gatehouse-proxy-secret'];
let stub: StubUpstream;
let gh: InProcess;
let secretDir: string;

before(async () => {
  stub = await startStub();
  // The secret comes from a file, as it would from a mounted secret.
  secretDir = mkdtempSync(join(tmpdir(), 'gh-proxy-'));
  const secretFile = join(secretDir, 'proxy-secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  gh = await startInProcess(stub.url, {
    'auth.providers': [
      {
        type: 'trusted-proxy',
        trustedPeers: ['127.0.0.1', '10.0.0.0/8'],
        headers: { email: 'X-Proxy-Email' },
        sharedSecret: { valueFile: secretFile },
        admin: { groups: ['platform-admins'] },
      },
      { type: 'local', scrypt: FAST },
    ],
    tenants: [{ name: 'default', members: { groups: ['ml-users'] } }],
    bindings: [{ role: 'contributor', group: 'ml-users', tenant: 'default' }],
  });
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword('bob-password-123', FAST), admin: false });
});
after(async () => {
  await gh?.close();
  await stub?.close();
  rmSync(secretDir, { recursive: true, force: true });
});
beforeEach(() => (stub.requests.length = 0));

const proxyHeaders = (extra: Record<string, string> = {}) => ({
  'x-forwarded-user': 'alice',
  'x-proxy-email': 'alice@example.com',
  'x-forwarded-groups': 'ml-users, readers',
  'x-gatehouse-proxy-secret': SECRET,
  ...extra,
});

/** GET through the gateway from a chosen local address (127.0.0.1: the proxy; 127.0.0.3: anyone else). */
function get(headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}
const lastCtx = () => gh.events.at(-1)!.ctx;
const forwarded = () => stub.requests.filter((r) => r.url.startsWith('/api/2.0/'));
function assertNoIdentityHeadersForwarded() {
  for (const r of stub.requests) for (const h of IDENTITY_HEADERS) assert.equal(r.headers[h], undefined, `${h} reached MLflow`);
}

test('identity headers from the trusted peer are honoured, and never forwarded', async () => {
  const r = await get(proxyHeaders());
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const p = lastCtx().principal!;
  assert.deepEqual(
    { id: p.id, name: p.name, email: p.email, groups: p.groups, admin: p.admin, method: p.method },
    { id: 'proxy:alice', name: 'alice', email: 'alice@example.com', groups: ['ml-users', 'readers'], admin: false, method: 'trusted-proxy' },
  );
  assert.equal(forwarded().length, 1);
  assertNoIdentityHeadersForwarded();
  const admin = await get(proxyHeaders({ 'x-forwarded-user': 'root', 'x-forwarded-groups': 'platform-admins' }));
  assert.equal(admin.status, 200);
  assert.equal(lastCtx().principal?.admin, true);
});

test('the same headers from an untrusted peer are ignored: 401, nothing forwarded', async () => {
  const r = await get(proxyHeaders(), '127.0.0.3');
  assert.equal(r.status, 401);
  assert.equal(r.body.error_code, 'UNAUTHENTICATED');
  assert.equal(lastCtx().peer.replace(/^::ffff:/, ''), '127.0.0.3');
  assert.equal(forwarded().length, 0);
  // With real credentials of its own, the untrusted client is who its credentials say, not the header.
  const bob = await get({ ...proxyHeaders({ 'x-forwarded-user': 'admin', 'x-forwarded-groups': 'platform-admins' }), authorization: basic('bob', 'bob-password-123') }, '127.0.0.3');
  assert.equal(lastCtx().principal?.id, 'local:bob');
  assert.equal(lastCtx().principal?.admin, false);
  assert.equal(bob.status, 403, 'bob has no grant; the headers gave him none');
  assertNoIdentityHeadersForwarded();
});

test('a wrong or missing shared secret is refused with 401', async () => {
  for (const headers of [proxyHeaders({ 'x-gatehouse-proxy-secret': `${SECRET}x` }), proxyHeaders({ 'x-gatehouse-proxy-secret': 'short' })]) {
    const r = await get(headers);
    assert.equal(r.status, 401);
    assert.equal(lastCtx().errorDetail, 'proxy: bad-proxy-secret');
  }
  const { 'x-gatehouse-proxy-secret': _omitted, ...noSecret } = proxyHeaders();
  assert.equal((await get(noSecret)).status, 401);
  assert.equal(lastCtx().errorDetail, 'proxy: bad-proxy-secret');
  assert.equal(forwarded().length, 0);
});

test('from the trusted peer without a user header, other providers still apply', async () => {
  const r = await get({ authorization: basic('bob', 'bob-password-123') });
  assert.equal(lastCtx().principal?.id, 'local:bob');
  assert.equal(r.status, 403);
  assert.equal((await get({ 'x-forwarded-user': 'alice, mallory', 'x-gatehouse-proxy-secret': SECRET })).status, 401);
  assert.equal(lastCtx().errorDetail, 'proxy: malformed-identity-header');
});

test('trusted peers must be IP addresses or CIDR blocks, and a secret needs exactly one source', () => {
  const load = (provider: Record<string, unknown>) => loadConfig({ env: {}, overrides: { 'auth.providers': [{ type: 'trusted-proxy', ...provider }] } });
  assert.doesNotThrow(() => load({ trustedPeers: ['10.0.0.0/8', 'fd00::/8', '192.168.1.7'] }));
  for (const bad of [{ trustedPeers: ['proxy.internal'] }, { trustedPeers: ['10.0.0.0/33'] }, { trustedPeers: [] }, { trustedPeers: ['10.0.0.1'], sharedSecret: {} }]) {
    assert.throws(() => load(bad), ConfigError, JSON.stringify(bad));
  }
});
