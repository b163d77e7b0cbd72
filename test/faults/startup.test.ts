/**
 * A gateway starting while PostgreSQL or Redis is down (issue 18, "Never die of a dependency"):
 * it starts and listens, is not ready (/readyz 503, naming the dependency), answers what needs
 * the dependency with 503 in MLflow's shape, and becomes ready once the dependency is back —
 * with the store's migrations, the first administrator and the stored policy done then, not
 * skipped. Nothing is decided on half a policy meanwhile: a principal that needs no store to
 * authenticate (dev headers here) still waits for the stored policy (it may hold a deny).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ADMIN_AUTH } from '../harness/gatehouse.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { assertUnavailable, call, recovered, spawnWithConfig, type FaultGateway } from './load.ts';

const READ = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const local = { type: 'local', scrypt: { cost: 1024 } };
let stub: StubUpstream;
before(async () => (stub = await startStub()));
after(() => stub?.close());

/** What reached MLflow on a client's behalf (not the gateway's own health and server-info probes). */
const forwarded = () => stub.requests.filter((r) => r.url.startsWith('/api/2.0/'));

describe('PostgreSQL down when the gateway starts (a database never migrated)', { timeout: 90_000 }, () => {
  let pgServer: PostgresServer;
  let database: string;
  let gh: FaultGateway;
  const admin = () => call(`${gh.url}${READ}`, { headers: { authorization: ADMIN_AUTH } });
  const dana = () => call(`${gh.url}${READ}`, { headers: { 'x-subject': 'dana', 'x-groups': 'platform' } });
  before(async () => {
    pgServer = await startPostgres();
    database = await pgServer.createDatabase('startup');
    await pgServer.stop();
    gh = await spawnWithConfig(stub.url, {
      store: { driver: 'postgres', url: pgServer.url(database), pool: { connectionTimeoutMs: 1000 } },
      auth: { providers: [local, { type: 'dev-headers' }] },
      bindings: [{ role: 'admin', group: 'platform' }],
      audit: { sinks: [{ type: 'store' }] },
      log: { level: 'info', requests: false },
    });
  });
  after(async () => {
    await gh?.close();
    await pgServer?.close();
  });

  test('it listens but is not ready: /readyz 503 names the store', async () => {
    const ready = await call(`${gh.url}/readyz`);
    assert.equal(ready.status, 503, ready.body);
    const checks = (JSON.parse(ready.body) as { checks: Record<string, { ok: boolean }> }).checks;
    assert.equal(checks.store?.ok, false, ready.body);
    assert.equal((await call(`${gh.url}/healthz`)).status, 200);
    gh.assertAlive();
  });

  test('what needs the store gets 503 in MLflow\'s shape: password users, the admin API, and a principal the policy is not loaded for', async () => {
    assertUnavailable(await admin(), 'GATEHOUSE_STORE_UNAVAILABLE');
    assertUnavailable(await dana(), 'GATEHOUSE_STORE_UNAVAILABLE');
    const users = await call(`${gh.url}/_gatehouse/api/v1/users`, { headers: { authorization: ADMIN_AUTH } });
    assertUnavailable(users, 'GATEHOUSE_STORE_UNAVAILABLE');
    assert.deepEqual(forwarded(), [], 'nothing reached MLflow');
  });

  test('once PostgreSQL is back: migrated, the first administrator created and announced, ready, serving', async () => {
    await pgServer.start();
    await recovered(gh, () => call(`${gh.url}/readyz`));
    assert.equal((await admin()).status, 200);
    assert.equal((await dana()).status, 200);
    // Printed before the gateway turned ready; the pipe from the child may deliver it a moment later.
    await recovered(gh, async () => ({ status: /Gatehouse created the first administrator: admin/.test(gh.output.join('\n')) ? 200 : 0, body: 'no banner yet' }));
    // The store sink opened its chain once the store was there: the requests just made are in it.
    // The sink writes in the background (best effort): wait, bounded by count, for both events.
    const c = new pg.Client({ connectionString: pgServer.url(database) });
    await c.connect();
    try {
      await recovered(gh, async () => {
        const r = await c.query<{ n: string }>("select count(*) as n from audit_events where operation = 'experiments.get' and status = 200");
        return { status: Number(r.rows[0]!.n) >= 2 ? 200 : 0, body: `audit events stored: ${r.rows[0]!.n}` };
      });
    } finally {
      await c.end();
    }
    gh.assertAlive();
  });
});

describe('Redis down when the gateway starts', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let gh: FaultGateway;
  const admin = () => call(`${gh.url}${READ}`, { headers: { authorization: ADMIN_AUTH } });
  before(async () => {
    redis = await startRedis();
    await redis.stop();
    gh = await spawnWithConfig(stub.url, {
      redis: { url: redis.url, connectTimeoutMs: 300, commandTimeoutMs: 300 },
      auth: { providers: [local] },
      log: { level: 'info', requests: false },
    });
  });
  after(async () => {
    await gh?.close();
    await redis?.close();
  });

  test('it listens, is not ready (/readyz names redis), and refuses with 503 in MLflow\'s shape (rateLimits.onBackendError deny)', async () => {
    const ready = await call(`${gh.url}/readyz`);
    assert.equal(ready.status, 503, ready.body);
    assert.equal((JSON.parse(ready.body) as { checks: Record<string, { ok: boolean }> }).checks.redis?.ok, false, ready.body);
    assertUnavailable(await admin(), 'GATEHOUSE_RATE_LIMIT_UNAVAILABLE');
  });

  test('once Redis is back: ready and serving', async () => {
    await redis.start();
    await recovered(gh, () => call(`${gh.url}/readyz`));
    await recovered(gh, admin);
    gh.assertAlive();
  });
});
