/**
 * audit.mode required: a mutating request is forwarded only after its `pending` event is
 * durably accepted; a sink that cannot accept means 503 and nothing forwarded; and after
 * `kill -9` of the gateway under write load, every request the client saw acknowledged has
 * its event in the audit file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ADMIN_AUTH, spawnGatehouse, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { auditRepository } from '../../src/store/audit.ts';
import type { ChainedRequestEvent } from '../../src/audit/event.ts';
import { verifyFile } from '../../src/audit/verify.ts';

const CREATE = '/api/2.0/mlflow/runs/create';
const createRun = (url: string, i: number) =>
  fetch(`${url}${CREATE}`, {
    method: 'POST',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id: '1', run_name: `r${i}` }),
  });

let stub: StubUpstream;
before(async () => {
  stub = await startStub();
});
after(() => stub.close());

describe('required mode, in process (store sink)', () => {
  let gh: InProcess;
  before(async () => {
    gh = await startInProcess(stub.url, { 'audit.mode': 'required', 'audit.sinks': [{ type: 'store' }] });
  });
  after(() => gh.close());

  test('the pending event is stored before MLflow sees the request; the completion follows', async () => {
    const repo = auditRepository(gh.store.db);
    let seenByUpstream: ChainedRequestEvent[] | undefined;
    stub.handler = (req, res, r) => {
      void repo.query({ operation: 'runs.create', limit: 1000 }).then((page) => {
        seenByUpstream = page.events.filter((e) => e.requestId === req.headers['x-request-id']) as ChainedRequestEvent[];
        jsonOk(req, res, r);
      });
    };
    const res = await createRun(gh.url, 1);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id')!;
    assert.deepEqual(seenByUpstream?.map((e) => [e.phase, e.outcome, e.status]), [['pending', 'pending', null]]);
    const deadline = Date.now() + 5000;
    let phases: string[] = [];
    while (Date.now() < deadline) {
      phases = ((await repo.query({ limit: 1000 })).events as ChainedRequestEvent[]).filter((e) => e.requestId === id).map((e) => e.phase);
      if (phases.length === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(phases, ['pending', 'complete']);
    stub.handler = jsonOk;
  });

  test('a GET is not held back; a store that cannot accept means 503 for writes, not forwarded', async () => {
    await sql`drop table audit_events`.execute(gh.store.db);
    stub.requests.length = 0;
    const res = await createRun(gh.url, 2);
    assert.equal(res.status, 503);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.error_code, 'TEMPORARILY_UNAVAILABLE');
    assert.equal(body.gatehouse_code, 'GATEHOUSE_AUDIT_UNAVAILABLE');
    assert.deepEqual(stub.requests.filter((r) => r.url.includes('runs/create')), [], 'not forwarded');
    const get = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(get.status, 200);
    const scrape = await (await fetch(`${gh.internalUrl}/metrics`)).text();
    assert.match(scrape, /gatehouse_audit_events_lost_total\{sink="store",reason="error"\} [1-9]/);
  });
});

describe('kill -9 under write load (spawned gateway, file sink with fsync)', () => {
  test('every acknowledged write has its audit event in the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-kill9-'));
    const file = join(dir, 'audit', 'audit.jsonl');
    const gh = await spawnGatehouse(stub.url, {
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      GATEHOUSE_AUDIT__MODE: 'required',
      GATEHOUSE_AUDIT__SINKS: `[{type: file, path: "${file}", maxBytes: 65536}]`,
    });
    const exited = new Promise<void>((r) => gh.process.once('exit', () => r()));
    const acknowledged: string[] = [];
    let stop = false;
    let sent = 0;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await createRun(gh.url, sent++);
          await res.arrayBuffer();
          if (res.status !== 200) continue;
          acknowledged.push(res.headers.get('x-request-id')!);
          // Killed right at an acknowledgement, while other writes are in flight.
          if (acknowledged.length === 300) process.kill(gh.pid, 'SIGKILL');
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await exited;
    stop = true;
    await Promise.all(workers);
    try {
      const files = (await verifyFile(file)).sources;
      const recorded = new Set<string>();
      for (const f of files) {
        for (const line of readFileSync(f, 'utf8').split('\n')) if (line) recorded.add((JSON.parse(line) as ChainedRequestEvent).requestId);
      }
      assert.ok(files.length >= 2, 'the load rotated the file at least once');
      const missing = acknowledged.filter((id) => !recorded.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged writes have no audit event`);
      const report = await verifyFile(file);
      assert.deepEqual(report.problems, [], 'the chain is intact after the kill');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
