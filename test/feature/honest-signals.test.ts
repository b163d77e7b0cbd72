/**
 * Honest signals (issue 18, finding 8): an MLflow that dies before its answer has started gives
 * the client a 502 in MLflow's shape, whatever the client was doing (still uploading, waiting);
 * once bytes of the answer went out, a cut connection stays the signal. A client that goes away
 * mid-request is audited as `aborted` (status 499) and counted apart, never as a 5xx.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { auth, startWorld, worldHandler, type World } from '../adversarial/world.ts';

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; !ok(); i++) {
    if (i > 500) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The `complete` audit event of `requestId` in the file sink under `dir`, once it is written. */
async function auditIn(dir: string, requestId: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await until(`the audit event of ${requestId}`, () => {
    let text = '';
    try {
      text = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    } catch {
      return false;
    }
    found = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.requestId === requestId && e.phase === 'complete');
    return found !== undefined;
  });
  return found!;
}

/** Sends `head` and then `body` in 64 KiB pieces, reading nothing until all is sent (as urllib3 does); then what came back. */
async function sendThenRead(url: string, head: string, body: number): Promise<{ answer: string; writeError: string | undefined }> {
  const u = new URL(url);
  const s: Socket = connect(Number(u.port), u.hostname);
  await new Promise((r) => s.once('connect', r));
  s.pause();
  let writeError: string | undefined;
  s.on('error', (e: NodeJS.ErrnoException) => (writeError ??= e.code ?? e.message));
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.write(head);
  const piece = Buffer.alloc(64 * 1024, 1);
  for (let sent = 0; sent < body && !s.destroyed; sent += piece.length) {
    await Promise.race([new Promise<void>((r) => s.write(piece, () => r())), closed]);
    await new Promise((r) => setTimeout(r, 5));
  }
  let answer = '';
  s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  s.resume();
  await Promise.race([closed, new Promise((r) => s.once('end', r))]);
  s.destroy();
  return { answer, writeError };
}

describe('MLflow dying before or during its answer', { timeout: 60_000 }, () => {
  /** A raw MLflow stand-in that answers the gateway's probes and does `onCall` with the forwarded call's socket. */
  let server: Server;
  let onCall: (s: Socket, bytes: number) => void = () => undefined;
  let gh: InProcess;
  before(async () => {
    const ok = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}';
    server = createServer((s) => {
      let head = '';
      let bytes = 0;
      s.on('error', () => undefined);
      s.on('data', (c: Buffer) => {
        bytes += c.length;
        if (head.length < 8192) head += c.toString('latin1');
        if (/^GET \/(health|api\/3\.0\/mlflow\/server-info)/.test(head)) {
          if (head.includes('\r\n\r\n')) {
            s.write(ok);
            head = '';
            bytes = 0;
          }
          return;
        }
        if (head.includes('\r\n\r\n')) onCall(s, bytes);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    gh = await startInProcess(`http://127.0.0.1:${port}`, { 'rateLimits.enabled': false });
  });
  after(async () => {
    await gh.close();
    server.close();
  });

  test('MLflow sends its head and dies before a body byte: the client gets a 502 in MLflow\'s shape', async () => {
    onCall = (s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n');
      setTimeout(() => s.destroy(), 20);
    };
    const res = await fetch(`${gh.url}/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/f.bin`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(res.status, 502);
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(json.error_code, 'TEMPORARILY_UNAVAILABLE');
    assert.equal(json.gatehouse_code, 'GATEHOUSE_UPSTREAM_BAD_RESPONSE');
  });

  test('once bytes of the answer went out, a cut connection stays the signal (never a completed or padded body)', async () => {
    onCall = (s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\npartial');
      setTimeout(() => s.destroy(), 20);
    };
    const outcome = await new Promise<string>((resolve) => {
      const u = new URL(gh.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/f.bin', headers: { authorization: ADMIN_AUTH } }, (res) => {
        let got = '';
        res.on('data', (d: Buffer) => (got += d.toString()));
        res.on('error', () => resolve(`cut after ${res.statusCode} ${got}`));
        res.on('end', () => resolve(`complete ${res.statusCode} ${got}`));
      });
      req.on('error', (e) => resolve(`error ${e.message}`));
      req.end();
    });
    assert.equal(outcome, 'cut after 200 partial');
  });

  test('MLflow dies mid-upload: a client that reads only after sending its whole body still gets the 502', async () => {
    onCall = (s, bytes) => {
      if (bytes > 100_000) s.destroy();
    };
    for (let round = 0; round < 3; round++) {
      const size = 2 * 1024 * 1024;
      const { answer, writeError } = await sendThenRead(
        gh.url,
        `PUT /api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/up.bin HTTP/1.1\r\nhost: gw\r\nauthorization: ${ADMIN_AUTH}\r\ncontent-length: ${size}\r\n\r\n`,
        size,
      );
      assert.equal(writeError, undefined, 'the gateway kept reading the upload instead of resetting the connection');
      assert.match(answer, /^HTTP\/1\.1 502 /);
      assert.match(answer, /"gatehouse_code":"GATEHOUSE_UPSTREAM_BAD_RESPONSE"/);
      assert.match(answer, /\r\nconnection: close\r\n/i);
    }
  });

  test('MLflow closing the connection before any answer: 502', async () => {
    onCall = (s) => s.destroy();
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as Record<string, unknown>).error_code, 'TEMPORARILY_UNAVAILABLE');
  });
});

describe('clients that go away mid-request: audited as aborted, counted apart', { timeout: 60_000 }, () => {
  let stub: StubUpstream;
  let gh: InProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-aborts-'));
    stub = await startStub();
    gh = await startInProcess(stub.url, {
      'rateLimits.enabled': false,
      'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }],
    });
  });
  after(async () => {
    await gh.close();
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    stub.requests.length = 0;
    stub.arrived.length = 0;
    stub.handler = jsonOk;
  });

  async function scrape(): Promise<string> {
    return (await fetch(`${gh.internalUrl}/metrics`)).text();
  }
  const sample = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);

  /** Opens a request, lets `cut` decide when to destroy the client's socket; resolves with the gateway's request id for it. */
  function cutRequest(method: string, path: string, headers: Record<string, string | number>, cut: (req: import('node:http').ClientRequest, events: () => number) => void): Promise<void> {
    return new Promise((resolve) => {
      const u = new URL(gh.url);
      const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers: { authorization: ADMIN_AUTH, ...headers } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.on('response', (res) => res.on('error', () => undefined));
      cut(req, () => gh.events.length);
    });
  }

  async function lastEvent(before: number) {
    await until('the request to end in the gateway', () => gh.events.length > before);
    return gh.events.at(-1)!;
  }

  async function assertAborted(before: number, phase: 'request' | 'response', metricsBefore: string) {
    const e = await lastEvent(before);
    const event = await auditIn(dir, e.ctx.requestId);
    assert.equal(event.outcome, 'aborted', JSON.stringify(event));
    assert.equal(event.error, 'GATEHOUSE_CLIENT_ABORTED');
    assert.equal(event.status, 499);
    const after = await scrape();
    const op = e.ctx.route!.row.op;
    const aborts = new RegExp(`^gatehouse_client_aborts_total\\{operation="${op.replace('.', '\\.')}",phase="${phase}"\\} (\\d+)$`, 'm');
    assert.equal(sample(after, aborts) - sample(metricsBefore, aborts), 1, 'counted as an abort');
    const fivexx = /^gatehouse_requests_total\{[^}]*status_class="5xx"\} (\d+)$/gm;
    const sum = (t: string) => [...t.matchAll(fivexx)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(sum(after), sum(metricsBefore), 'not counted as a 5xx');
    const upstream = /^gatehouse_upstream_errors_total\{kind="bad_response"\} (\d+)$/m;
    assert.equal(sample(after, upstream), sample(metricsBefore, upstream), 'not counted as MLflow failing');
  }

  test('mid JSON body: aborted, not a 500 internal error', async () => {
    const m = await scrape();
    const n = gh.events.length;
    await cutRequest('POST', '/api/2.0/mlflow/experiments/create', { 'content-type': 'application/json', 'content-length': 1000 }, (req) => {
      req.write('{"name": "half');
      setTimeout(() => req.destroy(), 100);
    });
    await assertAborted(n, 'request', m);
    assert.deepEqual(stub.requests.filter((r) => r.url.includes('experiments/create')), [], 'nothing reached MLflow');
  });

  test('mid streamed upload: aborted; MLflow saw the upload cut, never complete', async () => {
    const m = await scrape();
    const n = gh.events.length;
    await cutRequest('PUT', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/cut.bin', { 'content-length': 8 * 1024 * 1024 }, (req) => {
      req.write(Buffer.alloc(256 * 1024, 1));
      void until('the upload to reach MLflow', () => stub.arrived.some((u) => u.endsWith('/cut.bin'))).then(() => req.destroy());
    });
    await assertAborted(n, 'request', m);
    await until('MLflow to record the upload', () => stub.requests.some((r) => r.url.endsWith('/cut.bin')));
    assert.equal(stub.requests.find((r) => r.url.endsWith('/cut.bin'))!.aborted, true);
  });

  test('waiting for MLflow\'s answer: aborted', async () => {
    stub.handler = (req, res, r) => setTimeout(() => jsonOk(req, res, r), 400).unref();
    const m = await scrape();
    const n = gh.events.length;
    await cutRequest('GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', {}, (req) => {
      req.end();
      void until('the call to reach MLflow', () => stub.arrived.some((u) => u.includes('experiments/get'))).then(() => req.destroy());
    });
    await assertAborted(n, 'request', m);
  });

  test('mid download: aborted in the response phase', async () => {
    stub.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 64 * 1024 * 1024 });
      res.write(Buffer.alloc(1024 * 1024, 1));
      // The rest never comes: the client gives up first.
    };
    const m = await scrape();
    const n = gh.events.length;
    await cutRequest('GET', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/big.bin', {}, (req) => {
      req.on('response', (res) => res.once('data', () => req.destroy()));
      req.end();
    });
    await assertAborted(n, 'response', m);
  });
});

describe('a client gone while the gateway checks access', { timeout: 60_000 }, () => {
  let w: World;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-aborts-'));
    w = await startWorld({ 'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }] });
    // The gateway's own parent lookup of a run (no X-Forwarded-For) is slow; the client gives up meanwhile.
    w.stub.handler = (req, res, r) => {
      if (req.headers['x-forwarded-for'] === undefined && r.url.includes('/runs/get')) return void setTimeout(() => worldHandler(req, res, r), 300).unref();
      worldHandler(req, res, r);
    };
  });
  after(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('audited as aborted, and the call is never forwarded after its client left', async () => {
    const n = w.gh.events.length;
    await new Promise<void>((resolve) => {
      const u = new URL(w.gh.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/api/2.0/mlflow/runs/get?run_id=ra1', headers: { authorization: auth('alice'), 'x-mlflow-workspace': 'team-a' } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
      void until('the lookup to reach MLflow', () => w.stub.arrived.some((url) => url.includes('/runs/get'))).then(() => req.destroy());
    });
    await until('the request to end in the gateway', () => w.gh.events.length > n);
    const e = w.gh.events.at(-1)!;
    const event = await auditIn(dir, e.ctx.requestId);
    assert.equal(event.outcome, 'aborted', JSON.stringify(event));
    assert.equal(event.status, 499);
    await new Promise((r) => setTimeout(r, 100));
    w.nothingForwarded('a call whose client had left');
  });
});
