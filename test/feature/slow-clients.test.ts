/**
 * Bounded in time (issue 18, finding 8): slow and idle clients are cut on the schedule of
 * docs/security.md ("Slow and idle clients"), on real sockets. The timeouts are configured small
 * here; each case asserts the outcome (a 408 in MLflow's shape, a closed connection, an aborted
 * upstream exchange, nothing forwarded), never how long it took.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';
import { buildAuditEvent, type RequestAuditEvent } from '../../src/audit/event.ts';

let stub: StubUpstream;
let gh: InProcess;

const TICK_MS = 100;

/** Whether the stub's answer to the last `big.bin` download was cut before it was complete. */
let downloadCut: Promise<boolean> | undefined;

before(async () => {
  stub = await startStub((req, res, r) => {
    if (!req.url!.endsWith('/big.bin')) return jsonOk(req, res, r);
    // 1 GiB, written as fast as the gateway takes it.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1 << 30 });
    const chunk = Buffer.alloc(1 << 16);
    let left = (1 << 30) / chunk.length;
    downloadCut = new Promise((resolve) => res.once('close', () => resolve(!res.writableFinished)));
    const pump = () => {
      while (left-- > 0) if (!res.write(chunk)) return void res.once('drain', pump);
      res.end();
    };
    pump();
  });
  gh = await startInProcess(stub.url, {
    'server.headersTimeoutMs': 500,
    'server.keepAliveTimeoutMs': 500,
    'server.jsonBodyTimeoutMs': 500,
    'server.clientIdleTimeoutMs': 500,
    'server.timeoutCheckIntervalMs': 50,
    'rateLimits.enabled': false,
  });
});
after(async () => {
  await gh?.close();
  await stub?.close();
});

const forwarded = () => stub.requests.filter((r) => r.headers['x-forwarded-for'] !== undefined);

interface Conversation {
  readonly socket: Socket;
  /** Everything the gateway sent, as text. */
  received(): string;
  /** Resolves when the gateway closed the connection (or it was reset). */
  readonly closed: Promise<void>;
}

function open(gateway = gh): Promise<Conversation> {
  const u = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {
      /* a reset is a close too */
    });
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), closed }));
    socket.once('error', reject);
  });
}

/**
 * Sends `total` body bytes one per tick until the gateway answers or closes, or the body is
 * complete. Returns how many were sent by then: fewer than `total` means the gateway cut it short.
 */
async function trickle(c: Conversation, total: number): Promise<number> {
  let sent = 0;
  let ended = false;
  void c.closed.then(() => (ended = true));
  while (sent < total && !ended && c.received() === '') {
    c.socket.write('x');
    sent++;
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  return sent;
}

const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: gatehouse\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/** The audit event of the last request to `path` on `gateway`, built as the audit observer builds it, once the runner is done with it. */
async function auditOf(gateway: InProcess, path: string): Promise<RequestAuditEvent> {
  let done = gateway.events.findLast((e) => e.ctx.req.url === path);
  while (!done) {
    await new Promise((r) => setTimeout(r, TICK_MS));
    done = gateway.events.findLast((e) => e.ctx.req.url === path);
  }
  return buildAuditEvent(done.ctx, { phase: 'complete', now: new Date(0), status: done.status, durationMs: done.durationMs, userAgentMaxLength: 64 });
}

/** What an audit event says about how the exchange ended. */
const ending = (e: RequestAuditEvent) => ({ outcome: e.outcome, error: e.error, status: e.status });

// A cut that never comes fails the test rather than hanging the suite.
describe('slow and idle clients', { timeout: 20_000 }, () => {
  test('a JSON body trickled a byte at a time: 408 in MLflow\'s shape while it is still arriving, connection closed, nothing forwarded', async () => {
    stub.requests.length = 0;
    const c = await open();
    const total = 200; // 20 s at one byte per tick: far beyond the 500 ms body deadline
    c.socket.write(head('POST', '/api/2.0/mlflow/runs/create', { authorization: ADMIN_AUTH, 'content-type': 'application/json', 'content-length': total }));
    const sent = await trickle(c, total);
    await c.closed;
    assert.ok(sent < total, 'the gateway answered before the body was complete');
    const answer = c.received();
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
    assert.equal(body.error_code, 'DEADLINE_EXCEEDED');
    assert.equal(body.gatehouse_code, 'GATEHOUSE_REQUEST_BODY_TIMEOUT');
    assert.deepEqual(forwarded(), []);
  });

  test('a body trickled to Gatehouse\'s own endpoints (the login form) is cut as well', async () => {
    const c = await open();
    const total = 200;
    c.socket.write(head('POST', '/_gatehouse/login', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': total }));
    const sent = await trickle(c, total);
    await c.closed;
    assert.ok(sent < total, 'the connection was closed before the body was complete');
  });

  test('a streamed upload that stops sending: the connection is closed and MLflow\'s side of the exchange aborted', async () => {
    stub.requests.length = 0;
    const c = await open();
    c.socket.write(head('PUT', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/stalled.bin', { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream', 'content-length': 1000 }));
    c.socket.write('x'.repeat(100));
    await c.closed;
    assert.doesNotMatch(c.received(), /HTTP\/1\.1 2/, 'never answered as a success');
    // The stub records a request once its body ended: here, cut short.
    while (forwarded().length === 0) await new Promise((r) => setTimeout(r, TICK_MS));
    assert.deepEqual(forwarded().map((r) => [r.url, r.bytes, r.aborted]), [['/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/stalled.bin', 100, true]]);
    // Audited as the gateway's cut of an idle client, not as a client that left.
    assert.deepEqual(ending(await auditOf(gh, '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/stalled.bin')), { outcome: 'aborted', error: 'GATEHOUSE_CLIENT_TIMEOUT', status: 408 });
  });

  test('a streamed upload that keeps sending, slower than the JSON deadline but never idle that long, completes', async () => {
    stub.requests.length = 0;
    const c = await open();
    const total = 12; // 1.2 s in all: past the JSON body deadline, never 500 ms without a byte
    c.socket.write(head('PUT', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/slow.bin', { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream', 'content-length': total }));
    const sent = await trickle(c, total);
    assert.equal(sent, total);
    while (!/\r\n\r\n/.test(c.received())) await new Promise((r) => setTimeout(r, TICK_MS));
    assert.match(c.received(), /^HTTP\/1\.1 200 /);
    assert.deepEqual(forwarded().map((r) => [r.bytes, r.aborted]), [[total, false]]);
    c.socket.destroy();
  });

  test('a client that stops reading its download: the connection is closed and MLflow\'s answer aborted', async () => {
    const c = await open();
    c.socket.pause(); // reads nothing: the kernel's buffers fill, then the gateway's writes stall
    c.socket.write(head('GET', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/big.bin', { authorization: ADMIN_AUTH }));
    while (downloadCut === undefined) await new Promise((r) => setTimeout(r, TICK_MS));
    assert.equal(await downloadCut, true, 'MLflow\'s side was aborted, not sent whole');
    // A paused socket notices nothing; reading again, the client finds the connection closed before 1 GiB arrived.
    let bytes = 0;
    c.socket.on('data', (d: Buffer) => (bytes += d.length));
    c.socket.resume();
    await c.closed;
    assert.ok(bytes < 1 << 30, `${bytes} bytes`);
    assert.deepEqual(ending(await auditOf(gh, '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/big.bin')), { outcome: 'aborted', error: 'GATEHOUSE_CLIENT_TIMEOUT', status: 408 });
  });

  test('request headers never finished: 408 from Node, the connection is closed', async () => {
    const c = await open();
    c.socket.write('GET /api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1\r\nHost: gatehouse\r\n');
    await c.closed;
    assert.match(c.received(), /^HTTP\/1\.1 408 /);
  });

  test('a connection that never sends anything is closed', async () => {
    const c = await open();
    await c.closed;
    assert.doesNotMatch(c.received(), /HTTP\/1\.1 2/);
  });

  test('an idle keep-alive connection is closed after its answer', async () => {
    const c = await open();
    c.socket.write(head('GET', '/healthz', {}));
    await c.closed;
    assert.match(c.received(), /^HTTP\/1\.1 200 /);
  });
});

describe('the drain deadline', { timeout: 20_000 }, () => {
  test('a request still in flight when the drain deadline passes is cut, and audited as the drain\'s cut', async () => {
    // An MLflow that answers the gateway's own server-info lookup but never the forwarded request:
    // the request is in flight until the drain cuts it.
    const hanging = await startStub((req, res, r) => (req.headers['x-forwarded-for'] === undefined ? withWorkspaces(req, res, r) : undefined));
    const draining = await startInProcess(hanging.url, { 'rateLimits.enabled': false });
    try {
      const c = await open(draining);
      c.socket.write(head('GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: ADMIN_AUTH }));
      while (!hanging.requests.some((r) => r.headers['x-forwarded-for'] !== undefined)) await new Promise((r) => setTimeout(r, TICK_MS));
      await draining.server.close(200);
      await c.closed;
      assert.deepEqual(ending(await auditOf(draining, '/api/2.0/mlflow/experiments/get?experiment_id=1')), { outcome: 'aborted', error: 'GATEHOUSE_DRAIN_DEADLINE', status: 503 });
    } finally {
      await draining.close();
      await hanging.close();
    }
  });
});
