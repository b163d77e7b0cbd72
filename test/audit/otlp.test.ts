/**
 * The OTLP logs audit sink against a real OpenTelemetry Collector (test/harness/otelcol.ts): the
 * collector receives every event of a run, protobuf and JSON, one log record per event with the
 * event's time and the event as body (the chain verifies from what the collector stored); with the
 * collector stopped, a best-effort gateway keeps serving and the spool delivers everything once it
 * is back; a required one answers mutations 503 until then.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ChainedEvent } from '../../src/audit/event.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ADMIN_AUTH, basic, callJson, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startCollector, type Collector, type StoredRecord } from '../harness/otelcol.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { distinct } from './delivered.ts';

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChainedEvent);
const attr = (r: StoredRecord, key: string) => {
  const v = r.attributes.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined)) : undefined;
};

/** Records of one sink (by its service name), after waiting a bounded number of rounds for `n`. */
async function recordsOf(col: Collector, service: string, n: number): Promise<StoredRecord[]> {
  let got: StoredRecord[] = [];
  for (let i = 0; i < 300; i++) {
    got = col.records().filter((r) => r.resource['service.name'] === service);
    if (got.length >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
}


let stub: StubUpstream;
let col: Collector;
before(async () => {
  stub = await startStub();
  col = await startCollector();
});
after(async () => {
  await col?.close();
  await stub?.close();
});

describe('every event reaches the collector, protobuf and JSON', { timeout: 120_000 }, () => {
  test('one record per event, in chain order, the event as body', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-otlp-'));
    const gh = await startInProcess(stub.url, {
      'audit.sinks': [
        { type: 'file', path: join(dir, 'audit.jsonl'), fsync: false },
        { type: 'otlp', url: col.logsUrl, serviceName: 'gh-protobuf' },
        { type: 'otlp', id: 'otlp-json', url: col.logsUrl, encoding: 'json', serviceName: 'gh-json', format: 'ocsf' },
      ],
    });
    try {
      const auth = { authorization: ADMIN_AUTH };
      await callJson(`${gh.url}/api/2.0/mlflow/runs/create`, 'POST', auth, { experiment_id: '1' });
      await callJson(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, 'GET', { authorization: basic('admin', 'wrong-password') });
      await callJson(`${gh.url}/_gatehouse/api/v1/users`, 'POST', auth, { username: 'ulla' });
      for (let i = 0; i < 60; i++) await callJson(`${gh.url}/api/2.0/mlflow/runs/get?run_id=r${i}`, 'GET', auth);
    } finally {
      await gh.close();
    }
    const made = lines(join(dir, 'audit.jsonl'));
    rmSync(dir, { recursive: true, force: true });
    assert.ok(made.length >= 63 && made.some((e) => e.type === 'admin'), `${made.length} events, an admin one among them`);

    const pb = await recordsOf(col, 'gh-protobuf', made.length);
    assert.equal(pb.length, made.length, 'protobuf: one record per event');
    const native = pb.map((r) => JSON.parse(r.body.stringValue) as ChainedEvent);
    assert.deepEqual(distinct(native).map((e) => [e.requestId, e.outcome]), made.map((e) => [e.requestId, e.outcome]));
    assert.deepEqual(pb.map((r) => attr(r, 'gatehouse.seq')), made.map((_, i) => i + 1));
    assert.deepEqual(pb.map((r) => BigInt(r.timeUnixNano)), made.map((e) => BigInt(Date.parse(e.time)) * 1_000_000n), 'the record\'s time is the event\'s');
    const denied = pb.find((r) => attr(r, 'gatehouse.outcome') === 'denied')!;
    assert.equal(denied.severityText, 'WARN');
    assert.deepEqual(new Set(pb.map((r) => r.eventName)), new Set(['gatehouse.audit.request', 'gatehouse.audit.admin']));

    const json = await recordsOf(col, 'gh-json', made.length);
    assert.equal(json.length, made.length, 'JSON: one record per event');
    const ocsf = json.map((r) => JSON.parse(r.body.stringValue) as { class_uid: number; metadata: { uid: string } });
    assert.deepEqual(ocsf.map((o) => [o.class_uid, o.metadata.uid]), native.map((e) => [6003, e.hash]));
  });
});

describe('the collector down and back', { timeout: 120_000 }, () => {
  test('best effort: requests are served, the spool delivers every event once it is back', async () => {
    const gh = await startInProcess(stub.url, { 'audit.sinks': [{ type: 'otlp', url: col.logsUrl, serviceName: 'gh-outage', retryBaseMs: 50, retryMaxMs: 200 }] });
    const statuses: number[] = [];
    const ids: string[] = [];
    const run = async (i: number) => {
      const r = await callJson(`${gh.url}/api/2.0/mlflow/runs/create`, 'POST', { authorization: ADMIN_AUTH }, { experiment_id: '1', run_name: `r${i}` });
      statuses.push(r.status);
      ids.push(r.headers.get('x-request-id')!);
    };
    try {
      for (let i = 0; i < 10; i++) await run(i);
      await col.stop();
      for (let i = 10; i < 40; i++) await run(i);
      await col.start();
      for (let i = 40; i < 50; i++) await run(i);
    } finally {
      await gh.close();
    }
    assert.deepEqual(new Set(statuses), new Set([200]), 'never held up by the audit trail');
    const events = distinct((await recordsOf(col, 'gh-outage', 50)).map((r) => JSON.parse(r.body.stringValue) as ChainedEvent));
    // The first administrator's creation at the first start is an admin event; the rest are the requests'.
    assert.deepEqual(events.filter((e) => e.type !== 'admin').map((e) => e.requestId), ids, 'every request\'s event, in order');
  });

  test('required: mutations 503 while the collector is down, served once it is back; its header secret never shown', async () => {
    const SECRET = 's3cret-collector-token';
    const logged: string[] = [];
    const log = createLogger('debug', new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(chunk.toString()), done()) }));
    const gh = await startInProcess(
      stub.url,
      {
        'audit.mode': 'required',
        'audit.sinks': [{ type: 'otlp', url: col.logsUrl, headers: { authorization: `Bearer ${SECRET}` }, serviceName: 'gh-required', retryBaseMs: 50, retryMaxMs: 200 }],
        'rateLimits.enabled': false,
      },
      { log },
    );
    const create = () => callJson(`${gh.url}/api/2.0/mlflow/runs/create`, 'POST', { authorization: ADMIN_AUTH }, { experiment_id: '1' });
    let ready: Awaited<ReturnType<typeof callJson>>;
    try {
      assert.equal((await create()).status, 200);
      await col.stop();
      const down = await create();
      assert.equal(down.status, 503);
      assert.equal(down.json.gatehouse_code, 'GATEHOUSE_AUDIT_UNAVAILABLE');
      ready = await callJson(`${gh.url}/readyz`, 'GET');
      assert.equal(ready.status, 503);
      await col.start();
      let back = await create();
      for (let i = 0; i < 100 && back.status !== 200; i++) back = await create();
      assert.equal(back.status, 200);
    } finally {
      await gh.close();
    }
    distinct((await recordsOf(col, 'gh-required', 5)).map((r) => JSON.parse(r.body.stringValue) as ChainedEvent));
    // The outage was logged and shown in /readyz, with the collector's URL and never its header.
    assert.ok(logged.some((l) => l.includes('audit receiver unreachable') && l.includes(col.logsUrl)), logged.join(''));
    assert.match(JSON.stringify(ready.json), /otlp http:\/\/127\.0\.0\.1/);
    assert.ok(!logged.join('').includes(SECRET) && !JSON.stringify(ready.json).includes(SECRET), 'the header secret is neither logged nor in /readyz');
  });
});
