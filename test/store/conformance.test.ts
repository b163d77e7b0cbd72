/**
 * One store conformance suite, run unchanged against the embedded SQLite store and a real
 * PostgreSQL (test/harness/postgres.ts): users, ownership, audit events, API tokens, sessions
 * and usage counts must behave the same on both. Then what only PostgreSQL has: replicas
 * migrating one database at once, and a PostgreSQL outage failing requests closed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { ADMIN_AUTH, basic, createUsers, startInProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { migrateStore, openStore, schemaStatus, StoreSchemaError, type Store, type StoreOptions } from '../../src/store/store.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { MIGRATION_LOCK_KEY } from '../../src/store/postgres.ts';
import { ownershipRepository } from '../../src/store/ownership.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { usageByDay } from '../../src/store/usage.ts';
import { createSessionRepository } from '../../src/store/sessions.ts';
import { samlReplayCache } from '../../src/store/saml-replay.ts';
import {
  createServiceAccount,
  findServiceAccount,
  findTokenForAuth,
  insertToken,
  listServiceAccounts,
  listTokens,
  revokeToken,
  revokeUnrevokedToken,
  tokenStatus,
  touchToken,
} from '../../src/store/tokens.ts';
import { EMPTY_HEAD, seal } from '../../src/audit/chain.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { mintToken } from '../../src/identity/token-format.ts';
import type { Principal } from '../../src/model/principal.ts';

const execFile = promisify(execFileCb);
const ALL_MIGRATIONS = Object.keys(MIGRATIONS).sort();

let pg: PostgresServer;
const tmp = mkdtempSync(join(tmpdir(), 'gh-store-'));
let sqliteFiles = 0;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Options for a fresh, empty store of each kind (a new SQLite file, a new PostgreSQL database). */
const BACKENDS: Record<string, () => Promise<StoreOptions>> = {
  sqlite: async () => ({ driver: 'sqlite', path: join(tmp, `store-${++sqliteFiles}.db`), dataDir: tmp }),
  postgres: async () => ({ driver: 'postgres', url: pg.url(await pg.createDatabase()), dataDir: tmp }),
};

const principal = (name: string): Principal => ({
  id: `local:${name}`,
  kind: 'user',
  name,
  groups: ['g1'],
  tenants: ['team-a'],
  roles: [],
  admin: false,
  method: 'basic',
  provider: 'local',
});

function auditEvent(i: number, o: { time: string; principal: string; tenant: string | null; operation: string | null; effect: 'allow' | 'deny'; status: number }): AuditEvent {
  return {
    v: 1,
    phase: 'complete',
    time: o.time,
    requestId: `req-${i}`,
    principal: { id: o.principal, kind: 'user', method: 'basic', provider: 'local' },
    tenant: o.tenant,
    client: { address: '127.0.0.1', userAgent: 'test ünïcode' },
    method: 'POST',
    operation: o.operation,
    action: 'write',
    resources: [{ kind: 'experiment', id: String(i), key: {}, from: 'body' }],
    decision: { effect: o.effect, reasons: [] },
    outcome: o.effect === 'allow' ? 'allowed' : 'denied',
    error: null,
    upstreamStatus: o.status,
    status: o.status,
    latencyMs: 1.5,
  };
}

for (const [name, fresh] of Object.entries(BACKENDS)) {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    let options: StoreOptions;
    let clock = new Date('2026-11-22T12:00:00.000Z');
    before(async () => {
      options = await fresh();
      store = await openStore({ ...options, now: () => clock });
    });
    after(() => store?.close());

    test('schema: fully migrated; migrating again applies nothing; a fresh store with migrate never is refused', async () => {
      assert.deepEqual(await schemaStatus(store.db), { pending: [], unknown: [] });
      assert.deepEqual(await migrateStore(options), []);
      const empty = await fresh();
      await assert.rejects(openStore({ ...empty, migrate: 'never' }), (err: Error) => {
        assert.ok(err instanceof StoreSchemaError);
        assert.match(err.message, /schema is behind .* pending .*0001_users.*gatehouse migrate/);
        return true;
      });
      assert.deepEqual(await migrateStore(empty), ALL_MIGRATIONS);
      const migrated = await openStore({ ...empty, migrate: 'never' });
      await migrated.ping();
      // A store migrated by a newer Gatehouse: this one refuses it, whether it would migrate or not.
      await sql`insert into kysely_migration (name, timestamp) values ('9999_future', '2030-01-01T00:00:00.000Z')`.execute(migrated.db);
      await migrated.close();
      for (const migrate of ['on-start', 'never'] as const) {
        await assert.rejects(openStore({ ...empty, migrate }), (err: Error) => err instanceof StoreSchemaError && /newer than this Gatehouse .*9999_future/.test(err.message));
      }
    });

    test('users: create, find, duplicate name refused, set password, count admins, byte-order listing', async () => {
      const alice = await store.createUser({ username: 'alice', passwordHash: 'scrypt$h1', admin: true });
      assert.equal(alice.admin, true);
      assert.deepEqual(await store.findUserByName('alice'), { id: alice.id, username: 'alice', passwordHash: 'scrypt$h1', admin: true, disabled: false, passwordExpiresAt: null, managedBy: null });
      // A user SCIM provisioned is marked so (migration 0013_scim), and reads back marked.
      const provisioned = await store.createUser({ username: 'scim-sam', passwordHash: null, admin: false, managedBy: 'scim' });
      assert.equal((await store.findUserByName('scim-sam'))?.managedBy, 'scim');
      assert.ok(await store.deleteUser(provisioned.username));
      // A break-glass password's expiry (epoch ms, a bigint column) reads back as a number; a plain set clears it.
      await store.setPassword('alice', 'scrypt$h1', 1_800_000_000_123);
      assert.equal((await store.findUserByName('alice'))?.passwordExpiresAt, 1_800_000_000_123);
      await store.setPassword('alice', 'scrypt$h1');
      assert.equal((await store.findUserByName('alice'))?.passwordExpiresAt, null);
      assert.equal(await store.findUserByName('ALICE'), undefined);
      assert.equal(await store.findUserByName('nobody'), undefined);
      await assert.rejects(store.createUser({ username: 'alice', passwordHash: 'other', admin: false }));
      assert.equal((await store.findUserByName('alice'))?.passwordHash, 'scrypt$h1', 'the refused duplicate changed nothing');
      await store.createUser({ username: 'bob', passwordHash: null, admin: false });
      await store.createUser({ username: 'Zed', passwordHash: null, admin: true });
      const admins = await store.countAdmins();
      assert.equal(admins, 2);
      assert.equal(typeof admins, 'number');
      assert.equal(await store.setPassword('bob', 'scrypt$h2'), true);
      assert.equal((await store.findUserByName('bob'))?.passwordHash, 'scrypt$h2');
      assert.equal(await store.setPassword('nobody', 'x'), false);
      // Byte order (as SQLite compares): upper case before lower case, whatever the database's collation.
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['Zed', 'alice', 'bob']);
      await store.ping();
    });

    test('users version: every change to a user moves it, in the same transaction; a change of nobody does not', async () => {
      const start = await store.usersVersion();
      await store.createUser({ username: 'vera', passwordHash: 'scrypt$v1', admin: false });
      const steps: [string, () => Promise<boolean>][] = [
        ['setPassword', () => store.setPassword('vera', 'scrypt$v2')],
        ['setAdmin', () => store.setAdmin('vera', true)],
        ['setDisabled', () => store.setDisabled('vera', true)],
        ['deleteUser', () => store.deleteUser('vera')],
      ];
      let last = start;
      for (const [what, step] of steps) {
        assert.equal(await step(), true, what);
        const v = await store.usersVersion();
        assert.ok(v > last, `${what} moves the users version (${last} -> ${v})`);
        last = v;
      }
      for (const nobody of [() => store.setPassword('vera', 'x'), () => store.setDisabled('vera', true), () => store.deleteUser('vera')]) assert.equal(await nobody(), false);
      assert.equal(await store.usersVersion(), last, 'no row changed, no version moved');
    });

    test("users version inside a service's transaction: it moves with the commit, and not at all with a rollback", async () => {
      await store.createUser({ username: 'tess', passwordHash: 'scrypt$t1', admin: false });
      const start = await store.usersVersion();
      await assert.rejects(
        store.transaction(async (tx) => {
          assert.equal(await tx.setDisabled('tess', true), true);
          throw new Error('refused after the change (as keep-an-admin refuses)');
        }),
        /refused after the change/,
      );
      assert.equal(await store.usersVersion(), start, 'rolled back with the change');
      assert.equal((await store.findUserByName('tess'))?.disabled, false);
      await store.transaction(async (tx) => {
        await tx.setPassword('tess', 'scrypt$t2');
        await tx.deleteUser('tess');
      });
      assert.ok((await store.usersVersion()) >= start + 2, 'both changes of the committed transaction count');
    });

    test('ownership: record, a reused name moves to its new creator, all', async () => {
      const repo = ownershipRepository(store.db, () => clock);
      await repo.record({ tenant: 'team-a', kind: 'experiment', resource: '1', principalId: 'local:alice' });
      await repo.record({ tenant: 'team-a', kind: 'registered_model', resource: 'churn', principalId: 'local:alice' });
      await repo.record({ tenant: 'team-b', kind: 'registered_model', resource: 'churn', principalId: 'local:bob' });
      await repo.record({ tenant: 'team-a', kind: 'registered_model', resource: 'churn', principalId: 'local:carol' });
      const all = (await repo.all()).map((o) => `${o.tenant}/${o.kind}/${o.resource}=${o.principalId}`).sort();
      assert.deepEqual(all, ['team-a/experiment/1=local:alice', 'team-a/registered_model/churn=local:carol', 'team-b/registered_model/churn=local:bob']);
    });

    test('audit: append, filters, cursor pagination, scan in chain order, head, verifiable chain, usage counts', async () => {
      const repo = auditRepository(store.db);
      assert.deepEqual(await repo.head(), EMPTY_HEAD);
      const base = Date.parse('2026-11-22T23:59:58.000Z');
      const events = Array.from({ length: 25 }, (_, i) =>
        auditEvent(i, {
          // Every event 1 s apart, across midnight UTC.
          time: new Date(base + i * 1000).toISOString(),
          principal: i % 3 === 0 ? 'local:alice' : 'local:bob',
          tenant: i % 2 === 0 ? 'team-a' : null,
          operation: i % 5 === 0 ? null : 'runs.create',
          effect: i % 4 === 0 ? 'deny' : 'allow',
          status: i % 4 === 0 ? 403 : 200,
        }),
      );
      const first = seal(EMPTY_HEAD, events.slice(0, 10));
      await repo.append(first.sealed);
      const second = seal(first.head, events.slice(10));
      await repo.append(second.sealed);
      await assert.rejects(repo.append(second.sealed), 'a position in the chain is written once');

      const head = await repo.head();
      assert.deepEqual(head, second.head);
      assert.equal(typeof head.seq, 'number');

      const seqs = async (q: Parameters<typeof repo.query>[0]) => (await repo.query(q)).events.map((e) => e.seq);
      assert.deepEqual(await seqs({ principal: 'local:alice' }), [1, 4, 7, 10, 13, 16, 19, 22, 25]);
      assert.deepEqual(await seqs({ tenant: 'team-a', decision: 'deny' }), [1, 5, 9, 13, 17, 21, 25]);
      assert.deepEqual(await seqs({ operation: 'runs.create', decision: 'deny', principal: 'local:bob' }), [5, 9, 17]);
      // The outcome column: how each request ended (denied here is the decision's deny).
      assert.deepEqual(await seqs({ tenant: 'team-a', outcome: 'denied' }), [1, 5, 9, 13, 17, 21, 25]);
      assert.deepEqual(await seqs({ outcome: 'malformed' }), []);
      // Time bounds: inclusive from, exclusive to; a date-only bound compares as a prefix.
      assert.deepEqual(await seqs({ from: '2026-11-23', to: '2026-11-23T00:00:03.000Z' }), [3, 4, 5]);
      assert.deepEqual(await seqs({ to: '2026-11-23' }), [1, 2]);
      // Times compare as strings (byte order) on both back ends: a bound without milliseconds sorts after that second's events.
      assert.deepEqual(await seqs({ from: '2026-11-23T00:00:20Z' }), [24, 25]);

      // Cursor pagination: complete, in order, no duplicates, the last page says so.
      const paged: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.query({ principal: 'local:bob', limit: 4, cursor });
        paged.push(...page.events.map((e) => e.seq));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor !== undefined);
      assert.deepEqual(paged, [2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24]);
      assert.equal(pages, 4);

      const scanned: number[] = [];
      for await (const e of repo.scan()) scanned.push(e.seq);
      assert.deepEqual(scanned, Array.from({ length: 25 }, (_, i) => i + 1));
      // The stored JSON is exactly what was hashed (unicode included): the chain verifies.
      const report = await verifyStore(repo);
      assert.equal(report.ok, true);
      assert.equal(report.events, 25);

      // Usage per UTC day (events without an operation do not count); counts are numbers on both back ends.
      const usage = (await usageByDay(store.db, { from: '2026-11-22', to: '2026-11-23' })).sort((a, b) =>
        `${a.day}|${a.tenant ?? ''}`.localeCompare(`${b.day}|${b.tenant ?? ''}`),
      );
      assert.deepEqual(usage, [
        { day: '2026-11-22', tenant: null, operation: 'runs.create', calls: 1, succeeded: 1 },
        { day: '2026-11-23', tenant: null, operation: 'runs.create', calls: 9, succeeded: 9 },
        { day: '2026-11-23', tenant: 'team-a', operation: 'runs.create', calls: 10, succeeded: 5 },
      ]);
    });

    test('tokens: service accounts, personal and service tokens with their owners, revocation, last use', async () => {
      const alice = (await store.findUserByName('alice'))!;
      const now = new Date('2026-11-22T12:00:00.000Z');
      const sa = await createServiceAccount(store.db, { name: 'trainer', description: 'nightly', now });
      await createServiceAccount(store.db, { name: 'Zeta', now });
      await assert.rejects(createServiceAccount(store.db, { name: 'trainer', now }));
      assert.deepEqual(await findServiceAccount(store.db, 'trainer'), sa);
      assert.deepEqual((await listServiceAccounts(store.db)).map((s) => s.name), ['Zeta', 'trainer']);

      const pat = mintToken('personal');
      const sat = mintToken('service');
      await insertToken(store.db, { id: pat.id, secretHash: pat.hash, owner: { userId: alice.id }, description: 'laptop', tenant: 'team-a', maxRole: 'viewer', expiresAt: new Date('2027-01-01T00:00:00.000Z'), now });
      await insertToken(store.db, { id: sat.id, secretHash: sat.hash, owner: { serviceAccountId: sa.id }, now: new Date('2026-11-22T12:00:01.000Z') });
      // Exactly one owner (check constraint on both back ends).
      await assert.rejects(
        sql`insert into api_tokens (id, user_id, service_account_id, secret_hash, description, created_at) values ('bad', null, null, 'h', '', 'x')`.execute(store.db),
      );

      const forAuth = await findTokenForAuth(store.db, pat.id);
      assert.deepEqual(forAuth, {
        id: pat.id,
        owner: { kind: 'user', id: alice.id, name: 'alice', admin: true, disabled: false },
        description: 'laptop',
        tenant: 'team-a',
        maxRole: 'viewer',
        createdAt: '2026-11-22T12:00:00.000Z',
        expiresAt: '2027-01-01T00:00:00.000Z',
        lastUsedAt: null,
        revokedAt: null,
        secretHash: pat.hash,
      });
      assert.deepEqual((await findTokenForAuth(store.db, sat.id))?.owner, { kind: 'service_account', id: sa.id, name: 'trainer', disabled: false });
      assert.equal(await findTokenForAuth(store.db, 'ffffffffffff'), undefined);

      await touchToken(store.db, sat.id, new Date('2026-11-22T13:00:00.000Z'));
      assert.equal(await revokeToken(store.db, pat.id, new Date('2026-11-22T14:00:00.000Z')), true);
      assert.equal(await revokeToken(store.db, pat.id, new Date('2026-11-22T15:00:00.000Z')), true);
      assert.equal(await revokeToken(store.db, 'ffffffffffff', now), false);
      const listed = await listTokens(store.db);
      assert.deepEqual(listed.map((t) => [t.id, t.revokedAt, t.lastUsedAt]), [
        [pat.id, '2026-11-22T14:00:00.000Z', null],
        [sat.id, null, '2026-11-22T13:00:00.000Z'],
      ]);
      assert.ok(listed.every((t) => !('secretHash' in t)), 'listing never carries the hash');

      // A rotation's overlap: revoked ahead of time, once; the token works until then; revoking it
      // meanwhile ends it now.
      assert.equal(await revokeUnrevokedToken(store.db, pat.id, new Date('2026-11-22T16:00:00.000Z')), false, 'already revoked');
      assert.equal(await revokeUnrevokedToken(store.db, sat.id, new Date('2026-11-22T16:00:00.000Z')), true);
      assert.equal(await revokeUnrevokedToken(store.db, sat.id, new Date('2026-11-22T17:00:00.000Z')), false, 'a second rotation finds it revoked');
      const scheduled = (await findTokenForAuth(store.db, sat.id))!;
      assert.equal(tokenStatus(scheduled, Date.parse('2026-11-22T15:59:59.999Z')), 'active');
      assert.equal(tokenStatus(scheduled, Date.parse('2026-11-22T16:00:00.000Z')), 'revoked');
      assert.equal(await revokeToken(store.db, sat.id, new Date('2026-11-22T15:30:00.000Z')), true);
      assert.equal((await findTokenForAuth(store.db, sat.id))?.revokedAt, '2026-11-22T15:30:00.000Z', 'revoked now, not at the overlap\'s end');
    });

    test('sessions: create, get, idle and absolute timeouts, update, delete, revoke a principal', async () => {
      // Epoch milliseconds beyond 2^31: bigint columns must come back as numbers.
      let t = Date.parse('2026-11-22T12:00:00.000Z');
      const repo = createSessionRepository(store.db, { idleMs: 60_000, absoluteMs: 3_600_000, pendingMs: 600_000 }, () => t);
      const carol = principal('carol');
      const s1 = await repo.create('user', { csrf: 'x1' }, carol);
      const s2 = await repo.create('user', { csrf: 'x2' }, carol);
      const pending = await repo.create('pending', { state: 'st' });
      const got = await repo.get<{ csrf: string }>(s1, 'user');
      assert.deepEqual(got, { kind: 'user', principal: carol, data: { csrf: 'x1' }, createdAt: t, lastSeenAt: t, expiresAt: t + 3_600_000 });
      assert.equal(await repo.get(s1, 'pending'), undefined, 'a session is only found as its own kind');
      assert.deepEqual((await repo.get(pending, 'pending'))?.data, { state: 'st' });

      await repo.update(s1, { csrf: 'y1' });
      t += 30_000;
      assert.equal((await repo.get<{ csrf: string }>(s1, 'user'))?.data.csrf, 'y1');
      assert.equal((await repo.get(s1, 'user'))?.lastSeenAt, t, 'the idle clock restarted');
      t += 59_000;
      assert.ok(await repo.get(s1, 'user'), 'active within the idle timeout');
      assert.equal(await repo.get(s2, 'user'), undefined, 'idle for 89 s: ended');

      await repo.delete(pending);
      assert.equal(await repo.get(pending, 'pending'), undefined);
      const s3 = await repo.create('user', {}, carol);
      assert.equal(await repo.revokePrincipal(carol.id), 2);
      assert.equal(await repo.get(s1, 'user'), undefined);
      assert.equal(await repo.get(s3, 'user'), undefined);
    });

    test('SAML replay cache: an assertion id is accepted once, by any replica, until it expires', async () => {
      let t = Date.parse('2026-11-22T12:00:00.000Z');
      const replicaA = samlReplayCache(store.db, () => t);
      const other = await openStore({ ...options, now: () => clock });
      try {
        const replicaB = samlReplayCache(other.db, () => t);
        assert.equal(await replicaA.firstUse('corp:_a1', t + 300_000), true);
        assert.equal(await replicaA.firstUse('corp:_a1', t + 300_000), false, 'replayed to the same replica');
        assert.equal(await replicaB.firstUse('corp:_a1', t + 300_000), false, 'replayed to another replica');
        assert.equal(await replicaB.firstUse('corp:_a2', t + 300_000), true);
        // Both at once: exactly one wins.
        const race = await Promise.all([replicaA.firstUse('corp:_a3', t + 300_000), replicaB.firstUse('corp:_a3', t + 300_000)]);
        assert.deepEqual(race.sort(), [false, true]);
        // Past its expiry the row is swept (the assertion itself is expired by then).
        t += 600_000;
        await replicaA.firstUse('corp:_sweep', t + 300_000);
        const left = await store.db.selectFrom('saml_assertions').select('id').execute();
        assert.deepEqual(left.map((r) => r.id).sort(), ['corp:_sweep']);
      } finally {
        await other.close();
      }
    });
  });
}

describe('PostgreSQL: several replicas migrating one database at once', () => {
  test('the advisory lock serializes them: every migration is applied exactly once and all succeed', async () => {
    const url = pg.url(await pg.createDatabase('race'));
    const options: StoreOptions = { driver: 'postgres', url, dataDir: tmp };
    // Hold Gatehouse's migration lock, so that every migrator below is provably waiting on it at once.
    const holder = new Client({ connectionString: url });
    await holder.connect();
    await holder.query(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    const cli = (n: number) =>
      execFile(join(ROOT, 'bin/gatehouse'), ['migrate'], {
        env: childEnv({ GATEHOUSE_STORE__DRIVER: 'postgres', GATEHOUSE_STORE__URL: url, GATEHOUSE_DATA_DIR: join(tmp, `cli-${n}`) }),
      }).then((r) => r.stdout);
    const inProcess = [migrateStore(options), migrateStore(options)];
    const processes = [cli(1)];
    try {
      // Three sessions (two pools here, one `gatehouse migrate` process) queue on the lock.
      for (let waiting = 0; waiting < 3; ) {
        const r = await holder.query<{ n: string }>(`select count(*) as n from pg_locks where locktype = 'advisory' and not granted`);
        waiting = Number(r.rows[0]!.n);
        if (waiting < 3) await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await holder.query(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
      await holder.end();
    }
    const applied = await Promise.all(inProcess);
    const outputs = await Promise.all(processes);
    const fromCli = outputs.map((o) => {
      const m = /applied \d+ migration\(s\): (.*)/.exec(o);
      if (!m) assert.match(o, /store schema is up to date/);
      return m ? m[1]!.trim().split(', ') : [];
    });
    const all = [...applied, ...fromCli];
    assert.equal(all.filter((a) => a.length > 0).length, 1, `exactly one migrator applied: ${JSON.stringify(all)}`);
    assert.deepEqual(all.flat().sort(), ALL_MIGRATIONS);

    const store = await openStore({ ...options, migrate: 'never' });
    try {
      const rows = await sql<{ name: string; n: number }>`select name, count(*) as n from kysely_migration group by name order by name`.execute(store.db);
      assert.deepEqual(rows.rows, ALL_MIGRATIONS.map((name) => ({ name, n: 1 })));
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL down: readiness fails and requests fail closed', () => {
  let stub: StubUpstream;
  let gh: Awaited<ReturnType<typeof startInProcess>>;
  before(async () => {
    stub = await startStub();
    const database = await pg.createDatabase('outage');
    gh = await startInProcess(stub.url, {
      store: { driver: 'postgres', host: pg.host, port: pg.port, user: pg.user, database, pool: { max: 4, connectionTimeoutMs: 2000 } },
    });
  });
  after(async () => {
    if (!pg.running) await pg.start();
    await gh?.close();
    await stub?.close();
  });

  test('ping rejects, /readyz is 503, a local user gets 503 GATEHOUSE_STORE_UNAVAILABLE and nothing is forwarded; back when PostgreSQL is', async () => {
    const forwarded = () => stub.requests.filter((r) => r.url.startsWith('/api/2.0/mlflow/experiments/search'));
    await gh.store.ping();
    assert.equal((await fetch(`${gh.url}/readyz`)).status, 200);
    // A user whose password this process checked before the outage (docs/deployment.md).
    await createUsers(gh, ['cached'], 'cached-password-0123');
    const cached = { authorization: basic('cached', 'cached-password-0123') };
    assert.equal((await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: cached })).status, 403, 'authenticated (no grant)');

    await pg.stop();
    const during = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: cached });
    assert.equal(during.status, 403, 'a remembered password check still authenticates while the store is down');
    await assert.rejects(gh.store.ping());
    const ready = await fetch(`${gh.url}/readyz`);
    assert.equal(ready.status, 503);
    const readyBody = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(readyBody.checks.store?.ok, false);

    // The administrator's password was never checked by this process: no cached principal.
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error_code: string; gatehouse_code: string };
    assert.equal(body.gatehouse_code, 'GATEHOUSE_STORE_UNAVAILABLE');
    assert.equal(body.error_code, 'TEMPORARILY_UNAVAILABLE');
    assert.deepEqual(forwarded(), [], 'nothing reached MLflow');

    await pg.start();
    await gh.store.ping();
    const back = await fetch(`${gh.url}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(back.status, 200);
    assert.equal(forwarded().length, 1);
    assert.equal((await fetch(`${gh.url}/readyz`)).status, 200);
  });
});
