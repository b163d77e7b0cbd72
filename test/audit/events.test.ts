/**
 * The audit events of an allowed, a denied, a malformed and an upstream-failed request, read
 * back from a file sink and the store sink of an in-process gateway with a recording stub.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_AUTH, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { auditRepository } from '../../src/store/audit.ts';
import type { ChainedRequestEvent } from '../../src/audit/event.ts';
import { escapeText } from '../../src/audit/event.ts';
import { waitFor } from '../harness/ports.ts';

let stub: StubUpstream;
let gh: InProcess;
let dir: string;
const BOB = basic('bob', 'bob-password-123');
const SECRET_BODY_MARKER = 'do-not-audit-this-body';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  stub = await startStub();
  gh = await startInProcess(stub.url, {
    'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }, { type: 'store' }],
    'audit.userAgentMaxLength': 40,
  });
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword('bob-password-123', { cost: 1024, blockSize: 8, parallelization: 1 }), admin: false });
});
after(async () => {
  await gh.close();
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends a request over a raw socket (so the user agent can carry a tab and backslashes) and returns status and request id. */
function rawRequest(head: string, body = ''): Promise<{ status: number; requestId: string }> {
  const u = new URL(gh.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => socket.write(`${head}\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n${body}`));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]);
      const requestId = /\r\nx-request-id: ([^\r]+)/i.exec(data)?.[1] ?? '';
      resolve({ status, requestId });
    });
  });
}

function fileEvents(): ChainedRequestEvent[] {
  return readFileSync(join(dir, 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ChainedRequestEvent);
}

async function eventOf(requestId: string): Promise<ChainedRequestEvent> {
  assert.ok(requestId, 'the response carried a request id');
  await waitFor(`audit event ${requestId}`, async () => fileEvents().some((e) => e.requestId === requestId), 5000);
  const fromFile = fileEvents().filter((e) => e.requestId === requestId);
  assert.equal(fromFile.length, 1, 'exactly one event per request (no pending events in best-effort mode)');
  await waitFor('store event', async () => (await auditRepository(gh.store.db).query({ limit: 1000 })).events.some((e) => e.requestId === requestId), 5000);
  const fromStore = ((await auditRepository(gh.store.db).query({ limit: 1000 })).events as ChainedRequestEvent[]).filter((e) => e.requestId === requestId);
  // Each sink has its own chain; the event itself is the same.
  const strip = ({ seq: _s, prev: _p, hash: _h, ...rest }: ChainedRequestEvent) => rest;
  assert.deepEqual(strip(fromStore[0]!), strip(fromFile[0]!));
  const raw = JSON.stringify(fromFile[0]);
  for (const secret of ['test-admin-password', 'bob-password', 'Basic ', SECRET_BODY_MARKER]) assert.ok(!raw.includes(secret), `no ${secret} in the event`);
  return fromFile[0]!;
}

function ctxOf(requestId: string) {
  const e = gh.events.find((x) => x.ctx.requestId === requestId);
  assert.ok(e, 'the runner saw the request');
  return e.ctx;
}

function assertCommon(e: ChainedRequestEvent, requestId: string, started: number) {
  assert.equal(e.v, 1);
  assert.equal(e.phase, 'complete');
  assert.equal(e.requestId, requestId);
  const t = Date.parse(e.time);
  assert.ok(t >= started - 1000 && t <= Date.now() + 1000, `time ${e.time} is now`);
  assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(e.client.address, '127.0.0.1');
  assert.equal(e.tenant, ctxOf(requestId).tenant ?? null);
  assert.equal(typeof e.latencyMs, 'number');
  assert.ok(e.latencyMs >= 0);
  assert.match(e.hash, /^[0-9a-f]{64}$/);
  assert.match(e.prev, /^[0-9a-f]{64}$/);
  assert.ok(Number.isInteger(e.seq) && e.seq >= 1);
}

describe('audit events', () => {
  test('allowed: who, what, where from, the decision and both statuses', async () => {
    const started = Date.now();
    const ua = 'curl/8\tinjected\\x-' + 'y'.repeat(100);
    const { status, requestId } = await rawRequest(`GET /api/2.0/mlflow/experiments/get?experiment_id=12 HTTP/1.1\r\nAuthorization: ${ADMIN_AUTH}\r\nUser-Agent: ${ua}\r\nCookie: session=${SECRET_BODY_MARKER}`);
    assert.equal(status, 200);
    const e = await eventOf(requestId);
    assertCommon(e, requestId, started);
    assert.deepEqual(e.principal, { id: 'local:admin', kind: 'user', method: 'basic', provider: 'local' });
    assert.equal(e.client.userAgent, escapeText(ua, 40));
    assert.ok(e.client.userAgent!.startsWith('curl/8\\x09injected\\\\x-'), e.client.userAgent!);
    assert.ok(e.client.userAgent!.length <= 41 && e.client.userAgent!.endsWith('…'));
    assert.equal(e.method, 'GET');
    assert.equal(e.operation, 'experiments.get');
    assert.equal(e.action, 'read');
    assert.deepEqual(
      e.resources.map((r) => [r.kind, r.id, r.from]),
      [['experiment', '12', 'params:experiment_id']],
    );
    assert.equal(e.decision?.effect, 'allow');
    assert.ok(e.decision!.reasons.includes('platform-admin'));
    assert.equal(e.outcome, 'allowed');
    assert.equal(e.error, null);
    assert.equal(e.upstreamStatus, 200);
    assert.equal(e.status, 200);
  });

  test('denied: a non-admin without a grant gets 403, recorded with the reason ids', async () => {
    const started = Date.now();
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=7`, { headers: { authorization: BOB, 'user-agent': 'mlflow-python-client/3.18.0' } });
    assert.equal(res.status, 403);
    const requestId = res.headers.get('x-request-id')!;
    const e = await eventOf(requestId);
    assertCommon(e, requestId, started);
    assert.deepEqual(e.principal, { id: 'local:bob', kind: 'user', method: 'basic', provider: 'local' });
    assert.equal(e.client.userAgent, 'mlflow-python-client/3.18.0');
    assert.equal(e.operation, 'experiments.get');
    assert.equal(e.action, 'read');
    assert.deepEqual(e.resources.map((r) => [r.kind, r.id]), [['experiment', '7']]);
    assert.equal(e.decision?.effect, 'deny');
    assert.deepEqual(e.decision?.reasons, ctxOf(requestId).decision?.reasons);
    assert.ok(e.decision!.reasons.length > 0);
    assert.equal(e.outcome, 'denied');
    assert.equal(e.error, 'GATEHOUSE_AUTHZ_DENIED');
    assert.equal(e.upstreamStatus, null);
    assert.equal(e.status, 403);
  });

  test('malformed: an ambiguous JSON body gets 400, recorded without the body', async () => {
    const started = Date.now();
    const body = `{"experiment_id":"1","experiment_id":"2","tags":[{"key":"k","value":"${SECRET_BODY_MARKER}"}]}`;
    const res = await fetch(`${gh.url}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', 'user-agent': 'ua' },
      body,
    });
    assert.equal(res.status, 400);
    const requestId = res.headers.get('x-request-id')!;
    const e = await eventOf(requestId);
    assertCommon(e, requestId, started);
    assert.deepEqual(e.principal, { id: 'local:admin', kind: 'user', method: 'basic', provider: 'local' });
    assert.equal(e.method, 'POST');
    assert.equal(e.operation, 'runs.create');
    assert.equal(e.action, ctxOf(requestId).route?.row.action);
    assert.deepEqual(e.resources, []);
    assert.equal(e.decision, null);
    assert.equal(e.outcome, 'malformed');
    assert.equal(e.error, 'GATEHOUSE_REQUEST_BAD_JSON');
    assert.equal(e.upstreamStatus, null);
    assert.equal(e.status, 400);
  });

  test('failed: MLflow down gives 503, recorded as failed with the error code', async () => {
    await stub.close();
    const started = Date.now();
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=3`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(res.status, 503);
    const requestId = res.headers.get('x-request-id')!;
    const e = await eventOf(requestId);
    assertCommon(e, requestId, started);
    assert.equal(e.client.userAgent, 'node');
    assert.equal(e.principal?.id, 'local:admin');
    assert.equal(e.operation, 'experiments.get');
    assert.equal(e.decision?.effect, 'allow');
    assert.equal(e.outcome, 'failed');
    assert.equal(e.error, 'GATEHOUSE_UPSTREAM_UNAVAILABLE');
    assert.equal(e.upstreamStatus, null);
    assert.equal(e.status, 503);
  });

  test('the store answers queries by principal, operation, decision and time, page by page', async () => {
    const repo = auditRepository(gh.store.db);
    const requests = async (q: Parameters<typeof repo.query>[0]) => (await repo.query(q)).events as ChainedRequestEvent[];
    const bobs = await requests({ principal: 'local:bob' });
    assert.deepEqual(bobs.map((e) => e.decision?.effect), ['deny']);
    const denied = await requests({ decision: 'deny' });
    assert.ok(denied.every((e) => e.decision?.effect === 'deny') && denied.length >= 1);
    const creates = await requests({ operation: 'runs.create' });
    assert.deepEqual(creates.map((e) => e.error), ['GATEHOUSE_REQUEST_BAD_JSON']);
    assert.equal((await repo.query({ to: '2000-01-01T00:00:00.000Z' })).events.length, 0);
    const all = (await repo.query({ limit: 1000 })).events;
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await repo.query({ limit: 2, ...(cursor && { cursor }) });
      assert.ok(page.events.length <= 2);
      seen.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(seen, all.map((e) => e.seq));
    assert.equal((await repo.query({ tenant: 'no-such-tenant' })).events.length, 0);
  });
});
