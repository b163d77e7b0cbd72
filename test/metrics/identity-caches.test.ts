/**
 * The LDAP and local password caches report every lookup to the metrics sink they are given
 * (against a real slapd for LDAP): a first successful check misses, a repeat hits, a failed
 * check is never cached, and a disabled cache (TTL 0) reports nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ldapProvider, type LdapConfig } from '../../src/identity/ldap.ts';
import { ldapSchema } from '../../src/identity/ldap-schema.ts';
import { localBasicProvider, localBasicSchema } from '../../src/identity/local-basic.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { CacheMetrics, CacheName } from '../../src/metrics/definitions.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic } from '../harness/gatehouse.ts';
import { GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, startSlapd, USERS, type Slapd } from '../harness/slapd.ts';

const req = (auth: string) => ({ headers: { authorization: auth } }) as IncomingMessage;

function recorder(): CacheMetrics & { seen: string[] } {
  const seen: string[] = [];
  return { seen, lookup: (cache: CacheName, hit: boolean) => void seen.push(`${cache}:${hit ? 'hit' : 'miss'}`) };
}

let ldap: Slapd;
before(async () => {
  ldap = await startSlapd();
});
after(async () => {
  await ldap?.close();
});

test('LDAP: a repeated successful check hits, a wrong password always misses, TTL 0 reports nothing', async () => {
  const metrics = recorder();
  const raw = { type: 'ldap', url: ldap.ldapsUrl, tlsCaFile: ldap.caFile, search: { bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, base: PEOPLE }, groups: { base: GROUPS } };
  const p = ldapProvider({ config: ldapSchema.parse(raw) as LdapConfig, realm: 'gatehouse', log: createLogger('silent'), metrics });
  const off = recorder();
  const uncached = ldapProvider({ config: ldapSchema.parse({ ...raw, cacheTtlMs: 0 }) as LdapConfig, realm: 'gatehouse', log: createLogger('silent'), metrics: off });
  try {
    const alice = basic('alice', USERS.alice.password);
    assert.equal((await p.authenticate(req(alice))).kind, 'principal');
    assert.equal((await p.authenticate(req(alice))).kind, 'principal');
    assert.equal((await p.authenticate(req(basic('alice', 'wrong-password-0123')))).kind, 'invalid');
    assert.equal((await p.authenticate(req(basic('alice', 'wrong-password-0123')))).kind, 'invalid');
    assert.deepEqual(metrics.seen, ['ldap:miss', 'ldap:hit', 'ldap:miss', 'ldap:miss']);
    for (let i = 0; i < 2; i++) assert.equal((await uncached.authenticate(req(alice))).kind, 'principal');
    assert.deepEqual(off.seen, []);
  } finally {
    await p.close?.();
    await uncached.close?.();
  }
});

test('local: a repeated successful check hits; requests without Basic credentials are not lookups', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cache-'));
  let store: Store | undefined;
  try {
    store = await openStore({ driver: 'sqlite', dataDir: dir });
    const scrypt = { cost: 1024, blockSize: 8, parallelization: 1 };
    await store.createUser({ username: 'dana', passwordHash: await hashPassword('dana-password-123', scrypt), admin: false });
    const metrics = recorder();
    const p = localBasicProvider({ config: localBasicSchema.parse({ type: 'local', scrypt }), store, realm: 'gatehouse', metrics });
    const dana = basic('dana', 'dana-password-123');
    assert.equal((await p.authenticate(req(dana))).kind, 'principal');
    assert.equal((await p.authenticate(req(dana))).kind, 'principal');
    assert.equal((await p.authenticate(req(basic('dana', 'wrong-password-0123')))).kind, 'invalid');
    assert.equal((await p.authenticate(req('Bearer abc.def.ghi'))).kind, 'not-mine');
    assert.deepEqual(metrics.seen, ['local-password:miss', 'local-password:hit', 'local-password:miss']);
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
