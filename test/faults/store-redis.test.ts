/**
 * The fault suite for the gateway's shared back ends (issue 18, "Never die of a dependency"):
 * a real PostgreSQL store and a real Redis, dropped again and again WHILE requests hold their
 * connections, under concurrent load, against the gateway as its own process.
 *
 * Holding connections is made certain, not left to luck: before each PostgreSQL disruption the
 * test locks the `api_tokens` table, so every token lookup of the load sits in a query on a
 * checked-out connection (pg_stat_activity shows the gateway's backends waiting on the lock),
 * and only then stops the server (`pg_ctl stop -m immediate`, `-m fast`) or terminates the
 * gateway's backends (`pg_terminate_backend`). Redis is killed (SIGKILL) or frozen (SIGSTOP)
 * while the load's rate-limit calls are in flight.
 *
 * Every round asserts: the process is still up, it answers 503 in MLflow's shape while the
 * dependency is gone, and it serves again once the dependency is back. At the end: every answer
 * of the load was a 200 or an MLflow-shaped 503. The number of rounds is a constant.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ADMIN_AUTH } from '../harness/gatehouse.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { assertUnavailable, call, recovered, spawnWithConfig, startLoad, unavailable, type FaultGateway, type Load } from './load.ts';

/** PostgreSQL disruptions, each while the load holds store connections: this cycle, five times. */
const STORE_ROUNDS = Array.from({ length: 5 }, () => ['immediate', 'terminate', 'fast'] as const).flat();
/** Redis disruptions: this cycle, three times. */
const REDIS_ROUNDS = Array.from({ length: 3 }, () => ['kill', 'stall'] as const).flat();
const WORKERS = 8;

let pgServer: PostgresServer;
let redis: RedisServer;
let stub: StubUpstream;
let gh: FaultGateway;
let token: string;
let load: Load;

const HIGH = { rate: 100_000, burst: 100_000 };
const unlimited = { reads: HIGH, writes: HIGH, artifacts: HIGH, searches: HIGH };

/** A request whose authentication reads the store every time (API tokens are never cached). */
const tokenRequest = () => call(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: `Bearer ${token}` } });

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: pgServer.url('postgres') });
  // The test's own connection dies with the server too: its error is expected.
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

let database: string;

/** The gateway's backends waiting on a lock: the load holds that many checked-out connections. */
async function gatewayWaiting(c: pg.Client): Promise<number> {
  const r = await c.query<{ n: string }>(
    "select count(*) as n from pg_stat_activity where application_name = 'gatehouse' and datname = $1 and wait_event_type = 'Lock'",
    [database],
  );
  return Number(r.rows[0]!.n);
}

before(async () => {
  [pgServer, redis, stub] = await Promise.all([startPostgres(), startRedis(), startStub()]);
  database = await pgServer.createDatabase('faults');
  gh = await spawnWithConfig(stub.url, {
    store: { driver: 'postgres', url: pgServer.url(database), pool: { max: 4, connectionTimeoutMs: 2000 }, statementTimeoutMs: 20_000 },
    redis: { url: redis.url, connectTimeoutMs: 500, commandTimeoutMs: 300 },
    auth: { providers: [{ type: 'local', scrypt: { cost: 1024 } }, { type: 'token' }] },
    audit: { sinks: [{ type: 'store' }] },
    rateLimits: { principal: unlimited, tenant: unlimited, address: unlimited },
    log: { level: 'info', requests: false },
  });
  const created = await call(`${gh.url}/_gatehouse/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'admin' }),
  });
  assert.equal(created.status, 201, created.body);
  token = (JSON.parse(created.body) as { token: string }).token;
  // The test cluster runs with synchronous_commit off (test/harness/postgres.ts): without a checkpoint
  // the first `stop -m immediate` may take the token's commit with it.
  await admin((c) => c.query('checkpoint'));
  assert.equal((await tokenRequest()).status, 200);
  load = startLoad(WORKERS, tokenRequest);
});

after(async () => {
  await load?.stop();
  if (pgServer && !pgServer.running) await pgServer.start();
  redis?.resume();
  await gh?.close();
  await Promise.all([pgServer?.close(), redis?.close(), stub?.close()]);
});

describe('PostgreSQL dropped while requests hold its connections', { timeout: 120_000 }, () => {
  for (const [i, mode] of STORE_ROUNDS.entries()) {
    test(`round ${i + 1}: ${mode === 'terminate' ? 'pg_terminate_backend of the gateway\'s backends' : `pg_ctl stop -m ${mode}`}; the process stays up, answers 503, recovers`, async (t) => {
      const locker = new pg.Client({ connectionString: pgServer.url(database) });
      locker.on('error', () => undefined);
      await locker.connect();
      await locker.query('begin');
      await locker.query('lock table api_tokens in access exclusive mode');
      // Wait (bounded by count) until the load's token lookups sit on checked-out connections.
      let waiting = 0;
      for (let n = 0; n < 200 && waiting === 0; n++) {
        waiting = await gatewayWaiting(locker);
        if (waiting === 0) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(waiting > 0, 'no gateway connection was ever waiting on the lock');

      if (mode === 'terminate') {
        await admin((c) => c.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gatehouse' and datname = $1", [database]));
        await locker.end().catch(() => undefined);
      } else {
        await pgServer.stop(mode);
        await locker.end().catch(() => undefined);
        gh.assertAlive();
        const down = await unavailable(gh, tokenRequest);
        assertUnavailable(down, 'GATEHOUSE_STORE_UNAVAILABLE');
        const ready = await call(`${gh.url}/readyz`);
        assert.equal(ready.status, 503, ready.body);
        t.diagnostic(`503 in ${down.ms!.toFixed(0)} ms while down; /readyz 503 in ${ready.ms!.toFixed(0)} ms`);
        await pgServer.start();
      }
      t.diagnostic(`serving again ${(await recovered(gh, tokenRequest)).toFixed(0)} ms after ${mode === 'terminate' ? 'the terminations' : 'PostgreSQL was back'}`);
      gh.assertAlive();
      assert.equal((await call(`${gh.url}/readyz`)).status, 200);
    });
  }
});

describe('Redis dropped or frozen while requests are in flight', { timeout: 60_000 }, () => {
  for (const [i, mode] of REDIS_ROUNDS.entries()) {
    test(`round ${i + 1}: redis ${mode === 'kill' ? 'killed (SIGKILL)' : 'frozen (SIGSTOP)'}; the process stays up, answers 503, recovers`, async (t) => {
      if (mode === 'kill') await redis.stop();
      else redis.pause();
      try {
        gh.assertAlive();
        // rateLimits.onBackendError deny (the default): no limit back end, no request.
        const down = await unavailable(gh, tokenRequest);
        assertUnavailable(down, 'GATEHOUSE_RATE_LIMIT_UNAVAILABLE');
        const ready = await call(`${gh.url}/readyz`);
        assert.equal(ready.status, 503);
        t.diagnostic(`503 in ${down.ms!.toFixed(0)} ms while down; /readyz 503 in ${ready.ms!.toFixed(0)} ms`);
      } finally {
        if (mode === 'kill') await redis.start();
        else redis.resume();
      }
      t.diagnostic(`serving again ${(await recovered(gh, tokenRequest)).toFixed(0)} ms after Redis was back`);
      gh.assertAlive();
      assert.equal((await call(`${gh.url}/readyz`)).status, 200);
    });
  }
});

describe('the load through all of it', () => {
  test('every answer was a 200 or an MLflow-shaped 503; none was a 500 or a dropped connection', async (t) => {
    await load.stop();
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries(load.counts))}`);
    gh.assertAlive();
    assert.deepEqual(load.unexpected, []);
    assert.ok((load.counts.get(200) ?? 0) > 0 && (load.counts.get(503) ?? 0) > 0, JSON.stringify([...load.counts]));
  });
});
