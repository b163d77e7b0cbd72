/**
 * The LDAP identity provider against a real OpenLDAP slapd (ldap:// with StartTLS and ldaps://,
 * certificates from a generated CA), through the real gateway in front of the recording stub.
 * Both bind modes, group mapping, TLS verification, the local/LDAP chain and "directory down
 * means 503, never allow".
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer, type Server, type Socket } from 'node:net';
import { ldapProvider, type LdapConfig } from '../../src/identity/ldap.ts';
import { ldapSchema } from '../../src/identity/ldap-schema.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ADMIN_AUTH, ADMIN_PASSWORD, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { ADMINS_GROUP, GROUPS, PEOPLE, READERS_GROUP, SERVICE_DN, SERVICE_PASSWORD, startSlapd, USERS, type Slapd } from '../harness/slapd.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const LOCAL = { type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } };
const MAPPINGS = [
  { group: ADMINS_GROUP, admin: true },
  { group: READERS_GROUP.toUpperCase(), roles: ['viewer'], tenants: ['team-a'] },
];
const READ = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const alice = basic('alice', USERS.alice.password);
const rita = basic('rita', USERS.rita.password);

let ldap: Slapd;
let stub: StubUpstream;
/** What reached MLflow on a client's behalf (not the gateway's own health and server-info probes). */
const forwarded = () => stub.requests.filter((r) => r.url !== '/health' && !r.url.startsWith('/api/3.0/mlflow/server-info'));

const searchMode = (url: string, extra: Record<string, unknown> = {}) => ({
  type: 'ldap',
  url,
  search: { bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, base: PEOPLE },
  groups: { base: GROUPS },
  groupMappings: MAPPINGS,
  ...extra,
});
const templateMode = (url: string, extra: Record<string, unknown> = {}) => ({
  type: 'ldap',
  url,
  userDnTemplate: `uid={username},${PEOPLE}`,
  groups: { source: 'memberOf' },
  groupMappings: MAPPINGS,
  ...extra,
});
const gateway = (ldapConfig: Record<string, unknown>) => startInProcess(stub.url, { 'auth.providers': [LOCAL, ldapConfig] });

async function call(gh: InProcess, auth: string | undefined, path = READ, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (auth !== undefined) headers.set('authorization', auth);
  const res = await fetch(`${gh.url}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> };
}

function assertDenied(r: { status: number; json: Record<string, unknown> }, status: number, errorCode: string, gatehouseCode: string) {
  assert.equal(r.status, status);
  assert.equal(r.json.error_code, errorCode);
  assert.equal(r.json.gatehouse_code, gatehouseCode);
  assert.equal(forwarded().length, 0, 'nothing may reach MLflow');
}

before(async () => {
  ldap = await startSlapd();
  stub = await startStub();
});
after(async () => {
  await stub?.close();
  await ldap?.close();
});
beforeEach(() => {
  stub.requests.length = 0;
});

describe('provider: principals from the directory', () => {
  const req = (auth: string) => ({ headers: { authorization: auth } }) as IncomingMessage;
  const provider = (raw: Record<string, unknown>) => ldapProvider({ config: ldapSchema.parse(raw) as LdapConfig, realm: 'gatehouse', log: createLogger('silent') });

  test('search-then-bind with a group search maps groups to admin, roles and tenants', async () => {
    const p = provider(searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile }));
    try {
      const a = await p.authenticate(req(alice));
      assert.equal(a.kind, 'principal');
      assert.deepEqual(a.kind === 'principal' && a.principal, {
        id: 'ldap:alice', kind: 'user', name: 'alice', email: 'alice@example.test', emailVerified: true, groups: ['mlflow-admins'],
        tenants: [], roles: [], admin: true, method: 'basic', provider: 'ldap',
      });
      const r = await p.authenticate(req(rita));
      assert.equal(r.kind, 'principal');
      if (r.kind !== 'principal') return;
      assert.deepEqual([r.principal.groups, r.principal.roles, r.principal.tenants, r.principal.admin], [['mlflow-readers'], ['viewer'], ['team-a'], false]);
      assert.deepEqual(await p.authenticate(req(basic('alice', 'wrong-password-0123'))), { kind: 'invalid', reason: 'bad-password' });
      assert.deepEqual(await p.authenticate(req(basic('nobody', 'whatever-0123'))), { kind: 'not-mine', reason: 'unknown-user' });
      assert.deepEqual(await p.authenticate(req('Bearer abc')), { kind: 'not-mine' });
    } finally {
      await p.close?.();
    }
  });

  test('DN template with memberOf: the principal name is the directory\'s spelling, DN values are escaped', async () => {
    const p = provider(templateMode(ldap.ldapUrl, { startTls: true, tlsCaFile: ldap.caFile }));
    const a = await p.authenticate(req(basic('ALICE', USERS.alice.password)));
    assert.equal(a.kind === 'principal' && a.principal.id, 'ldap:alice');
    assert.deepEqual(a.kind === 'principal' && a.principal.groups, ['mlflow-admins']);
    const o = await p.authenticate(req(basic('o,malley', USERS['o,malley'].password)));
    assert.equal(o.kind === 'principal' && o.principal.id, 'ldap:o,malley');
    // Without RFC 4514 escaping this would be the DN `uid=o,malley,...` and fail differently.
    assert.deepEqual(await p.authenticate(req(basic('nobody', 'whatever-0123'))), { kind: 'invalid', reason: 'bad-password' });
  });

  test('an empty password is refused before any unauthenticated bind (RFC 4513 §5.1.2)', async () => {
    const p = provider(templateMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile }));
    assert.deepEqual(await p.authenticate(req(basic('alice', ''))), { kind: 'invalid', reason: 'empty-password' });
  });

  test('filter metacharacters in the user name are escaped (RFC 4515), not interpreted', async () => {
    const p = provider(searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile }));
    try {
      for (const name of ['*', 'al*', 'alice)(uid=*', '*)(|(uid=*']) {
        assert.deepEqual(await p.authenticate(req(basic(name, USERS.alice.password))), { kind: 'not-mine', reason: 'unknown-user' }, name);
      }
    } finally {
      await p.close?.();
    }
  });

  test('tlsVerification false is logged loudly at start (and then connects to any certificate)', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const config = ldapSchema.parse(searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.otherCaFile, tlsVerification: false })) as LdapConfig;
    const p = ldapProvider({ config, realm: 'gatehouse', log: createLogger('info', sink) });
    try {
      assert.ok(lines.some((l) => l.includes('"level":40') && l.includes('tlsVerification is false')), lines.join(''));
      assert.equal((await p.authenticate(req(alice))).kind, 'principal');
      assert.ok(!lines.join('').includes(SERVICE_PASSWORD) && !lines.join('').includes(USERS.alice.password));
    } finally {
      await p.close?.();
    }
  });

  test('a service account the directory refuses (password from a file): unavailable, never "unknown user"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-ldap-'));
    writeFileSync(join(dir, 'pw'), 'not-the-service-password\n');
    const raw = searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile });
    const p = provider({ ...raw, search: { bindDn: SERVICE_DN, bindPasswordFile: join(dir, 'pw'), base: PEOPLE } });
    try {
      assert.deepEqual(await p.authenticate(req(alice)), { kind: 'unavailable', reason: 'directory-unavailable' });
      assert.deepEqual(await p.authenticate(req(basic('nobody', 'whatever-0123'))), { kind: 'unavailable', reason: 'directory-unavailable' });
      assert.equal((await p.ready!()).ok, false);
    } finally {
      await p.close?.();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a directory that accepts connections but never answers: unavailable, not unknown', async () => {
    const sockets: Socket[] = [];
    const blackhole: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as { port: number }).port;
    const p = provider(searchMode(`ldap://127.0.0.1:${port}`, { connectTimeoutMs: 300, timeoutMs: 300 }));
    try {
      assert.deepEqual(await p.authenticate(req(alice)), { kind: 'unavailable', reason: 'directory-unavailable' });
      assert.equal((await p.ready!()).ok, false);
    } finally {
      await p.close?.();
      for (const s of sockets) s.destroy();
      await new Promise((r) => blackhole.close(r));
    }
  });
});

describe('gateway: search-then-bind over LDAPS, after local', () => {
  let gh: InProcess;
  before(async () => (gh = await gateway(searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile }))));
  after(() => gh.close());

  test('a member of the admins group gets through; credentials are not forwarded', async () => {
    const r = await call(gh, alice);
    assert.equal(r.status, 200);
    assert.equal(forwarded().length, 1);
    assert.equal(forwarded()[0]!.headers.authorization, undefined);
  });

  test('a member of the readers group authenticates but is not authorized: 403, not 401', async () => {
    const r = await call(gh, rita, '/api/2.0/mlflow/experiments/create', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    assertDenied(r, 403, 'PERMISSION_DENIED', 'GATEHOUSE_AUTHZ_DENIED');
  });

  test('wrong password, unknown user, empty password and filter injection: 401 with a Basic challenge', async () => {
    for (const auth of [basic('alice', 'wrong-password-0123'), basic('nobody', 'whatever-0123'), basic('alice', ''), basic('*', USERS.alice.password)]) {
      const r = await call(gh, auth);
      assertDenied(r, 401, 'UNAUTHENTICATED', 'GATEHOUSE_AUTHN_INVALID');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="gatehouse"/);
    }
  });

  test('a local user still works with both providers configured', async () => {
    assert.equal((await call(gh, ADMIN_AUTH)).status, 200);
  });

  test('local owns a name it knows: the LDAP password of the same name is not tried against LDAP', async () => {
    // `admin` exists locally and in the directory (with a different password, in the admins group).
    const r = await call(gh, basic('admin', USERS.admin.password));
    assertDenied(r, 401, 'UNAUTHENTICATED', 'GATEHOUSE_AUTHN_INVALID');
    assert.notEqual(USERS.admin.password, ADMIN_PASSWORD);
  });

  test('/readyz reports the directory check', async () => {
    const res = await fetch(`${gh.url}/readyz`);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    assert.deepEqual(body.checks['identity:ldap'], { ok: true });
  });
});

describe('gateway: DN template over ldap:// with StartTLS', () => {
  let gh: InProcess;
  before(async () => (gh = await gateway(templateMode(ldap.ldapUrl, { startTls: true, tlsCaFile: ldap.caFile }))));
  after(() => gh.close());

  test('admins group: 200; readers: 403; wrong password and unknown user: 401', async () => {
    assert.equal((await call(gh, alice)).status, 200);
    assert.equal((await call(gh, basic('o,malley', USERS['o,malley'].password))).status, 200);
    assert.equal(forwarded().length, 2);
    stub.requests.length = 0;
    assertDenied(await call(gh, rita, '/api/2.0/mlflow/experiments/create', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' }), 403, 'PERMISSION_DENIED', 'GATEHOUSE_AUTHZ_DENIED');
    assertDenied(await call(gh, basic('alice', 'wrong-password-0123')), 401, 'UNAUTHENTICATED', 'GATEHOUSE_AUTHN_INVALID');
    assertDenied(await call(gh, basic('nobody', 'whatever-0123')), 401, 'UNAUTHENTICATED', 'GATEHOUSE_AUTHN_INVALID');
  });

  test('/readyz reads the rootDSE over StartTLS', async () => {
    const body = (await (await fetch(`${gh.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
    assert.deepEqual(body.checks['identity:ldap'], { ok: true });
  });
});

describe('gateway: a server certificate from another CA is refused', () => {
  for (const [name, config] of [
    ['ldaps://', () => searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.otherCaFile })],
    ['StartTLS', () => templateMode(ldap.ldapUrl, { startTls: true, tlsCaFile: ldap.otherCaFile })],
  ] as const) {
    test(`${name}: 503 for every user, nothing forwarded, not ready`, async () => {
      const gh = await gateway(config());
      try {
        assertDenied(await call(gh, alice), 503, 'TEMPORARILY_UNAVAILABLE', 'GATEHOUSE_AUTHN_UNAVAILABLE');
        const res = await fetch(`${gh.url}/readyz`);
        assert.equal(res.status, 503);
        const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
        assert.equal(body.checks['identity:ldap']?.ok, false);
      } finally {
        await gh.close();
      }
    });
  }
});

describe('gateway: the directory goes down mid-test', () => {
  let gh: InProcess;
  let cached: InProcess;
  before(async () => {
    gh = await gateway(searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile, cacheTtlMs: 0 }));
    cached = await gateway(searchMode(ldap.ldapsUrl, { tlsCaFile: ldap.caFile }));
  });
  after(async () => {
    await gh.close();
    await cached.close();
    await ldap.start();
  });

  test('deny with 503 (never allow, never "unknown user"); local users unaffected; recovery after restart', async () => {
    assert.equal((await call(gh, alice)).status, 200);
    assert.equal((await call(cached, alice)).status, 200);
    await ldap.stop();
    stub.requests.length = 0;

    for (const auth of [alice, rita, basic('nobody', 'whatever-0123')]) {
      const r = await call(gh, auth);
      assertDenied(r, 503, 'TEMPORARILY_UNAVAILABLE', 'GATEHOUSE_AUTHN_UNAVAILABLE');
      assert.equal(typeof r.json.message, 'string');
    }
    const ready = await fetch(`${gh.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks['identity:ldap']?.ok, false);

    // The positive cache answers for credentials it has already seen, and only for those.
    assert.equal((await call(cached, alice)).status, 200);
    stub.requests.length = 0;
    assertDenied(await call(cached, basic('alice', 'wrong-password-0123')), 503, 'TEMPORARILY_UNAVAILABLE', 'GATEHOUSE_AUTHN_UNAVAILABLE');

    assert.equal((await call(gh, ADMIN_AUTH)).status, 200, 'local users do not depend on the directory');

    await ldap.start();
    assert.equal((await call(gh, alice)).status, 200, 'a fresh connection after the directory came back');
  });
});
