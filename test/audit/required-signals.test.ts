/**
 * Honest signals of the required audit trail (issue 18, "Honest signals"), with real sinks:
 * - /readyz fails while a required sink cannot accept events — a file sink whose "file" is
 *   /dev/full, a store sink whose table PostgreSQL keeps locked (every insert waits out the
 *   statement timeout) — and recovers when it can again;
 * - during such a PostgreSQL stall a required write waits one statement timeout, not two: the
 *   second request, queued behind the first's failing batch, fails with it instead of waiting
 *   for an attempt of its own. Measured as the ratio of the two requests' times in one run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const STATEMENT_TIMEOUT_MS = 1500;
let stub: StubUpstream;
before(async () => (stub = await startStub()));
after(() => stub?.close());

type Checks = Record<string, { ok: boolean; detail?: string }>;
async function readiness(gh: InProcess): Promise<{ status: number; checks: Checks }> {
  const res = await fetch(`${gh.url}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Checks }).checks };
}

const create = (gh: InProcess, name: string) =>
  fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });

describe('a required file sink that cannot take a write (/dev/full)', () => {
  let dir: string;
  let gh: InProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-full-'));
    symlinkSync('/dev/full', join(dir, 'audit.jsonl'));
    gh = await startInProcess(stub.url, { 'audit.mode': 'required', 'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl') }] });
  });
  after(async () => {
    await gh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/readyz is 503 and names the sink, before and after a write was refused', async () => {
    const before = await readiness(gh);
    assert.equal(before.status, 503);
    assert.equal(before.checks['audit:file']?.ok, false, JSON.stringify(before.checks));
    assert.equal((await create(gh, 'x')).status, 503);
    assert.equal((await readiness(gh)).status, 503);
  });
});

describe('a required file sink that works', () => {
  test('control: /readyz is 200 with the sink\'s check passing', async () => {
    const gh = await startInProcess(stub.url, { 'audit.mode': 'required', 'audit.sinks': [{ type: 'file' }] });
    try {
      const r = await readiness(gh);
      assert.equal(r.status, 200, JSON.stringify(r.checks));
      assert.deepEqual(r.checks['audit:file'], { ok: true });
    } finally {
      await gh.close();
    }
  });
});

describe('a required store sink on a PostgreSQL that stalls (the audit table locked)', { timeout: 60_000 }, () => {
  let pgServer: PostgresServer;
  let database: string;
  let gh: InProcess;
  let locker: pg.Client;
  before(async () => {
    pgServer = await startPostgres();
    database = await pgServer.createDatabase('required');
    gh = await startInProcess(stub.url, {
      store: { driver: 'postgres', url: pgServer.url(database), statementTimeoutMs: STATEMENT_TIMEOUT_MS },
      'audit.mode': 'required',
      'audit.sinks': [{ type: 'store' }],
      'rateLimits.enabled': false,
    });
    // The administrator's password is checked (and cached) now, so the requests below touch only the audit table.
    assert.equal((await create(gh, 'warm-up')).status, 200);
  });
  after(async () => {
    await locker?.end().catch(() => undefined);
    await gh?.close();
    await pgServer?.close();
  });

  async function lockAuditTable(): Promise<void> {
    locker = new pg.Client({ connectionString: pgServer.url(database) });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table audit_events in access exclusive mode');
  }
  async function unlock(): Promise<void> {
    await locker.query('rollback');
    await locker.end();
  }
  /** Waits (bounded by count) until one of the gateway's inserts is queued behind the lock. */
  async function insertWaiting(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const r = await locker.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where application_name = 'gatehouse' and datname = $1 and wait_event_type = 'Lock'",
        [database],
      );
      if (Number(r.rows[0]!.n) > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('the gateway never waited on the audit table lock');
  }

  test('/readyz turns 503 (audit:store) while inserts cannot complete, 200 again after', async () => {
    assert.equal((await readiness(gh)).status, 200);
    await lockAuditTable();
    try {
      const during = await readiness(gh);
      assert.equal(during.status, 503);
      assert.equal(during.checks['audit:store']?.ok, false, JSON.stringify(during.checks));
      assert.equal(during.checks.store?.ok, true, 'the store itself answers: only the audit sink cannot accept');
    } finally {
      await unlock();
    }
    assert.equal((await readiness(gh)).status, 200);
  });

  test('a required write queued behind a timed-out batch waits one statement timeout, not two', async (t) => {
    await lockAuditTable();
    try {
      const t0 = performance.now();
      const first = create(gh, 'a').then(async (r) => ({ status: r.status, body: await r.text(), ms: performance.now() - t0 }));
      await insertWaiting();
      const t1 = performance.now();
      const second = create(gh, 'b').then(async (r) => ({ status: r.status, body: await r.text(), ms: performance.now() - t1 }));
      const [a, b] = await Promise.all([first, second]);
      for (const r of [a, b]) {
        assert.equal(r.status, 503, r.body);
        assert.equal((JSON.parse(r.body) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_AUDIT_UNAVAILABLE');
      }
      const ratio = b.ms / a.ms;
      t.diagnostic(`first ${a.ms.toFixed(0)} ms, second ${b.ms.toFixed(0)} ms, ratio ${ratio.toFixed(2)} (statement timeout ${STATEMENT_TIMEOUT_MS} ms)`);
      // Serial: the second waits out the first batch's timeout, then its own (≈ 2). Not serial: ≤ 1.
      assert.ok(ratio < 1.5, `the second request took ${ratio.toFixed(2)}× the first`);
    } finally {
      await unlock();
    }
    assert.equal((await create(gh, 'after')).status, 200);
  });
});
