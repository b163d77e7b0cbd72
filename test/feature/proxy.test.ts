/**
 * The transparent proxy against a recording stub upstream: what is forwarded, what is not,
 * and how failures look to an MLflow client.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ADMIN_AUTH, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, jsonOk, type StubUpstream } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';

let stub: StubUpstream;
let gh: InProcess;
const forwarded = () => stub.requests.filter((r) => r.url !== '/health' && r.url !== '/api/3.0/mlflow/server-info');

before(async () => {
  stub = await startStub();
  gh = await startInProcess(stub.url, { 'server.trustedProxies': ['127.0.0.2'] });
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword('bob-password-123', { cost: 1024, blockSize: 8, parallelization: 1 }), admin: false });
});
after(async () => {
  await gh.close();
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  stub.handler = jsonOk;
});

async function call(path: string, init: RequestInit & { auth?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set('authorization', init.auth ?? ADMIN_AUTH);
  const res = await fetch(`${gh.url}${path}`, { ...init, headers, redirect: 'manual' });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { res, text, json };
}

/** Sends a request target verbatim (fetch would normalise it). */
function raw(target: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(gh.url);
    const req = httpRequest({ host: u.hostname, port: u.port, method, path: target, headers: { authorization: ADMIN_AUTH, ...headers } }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request to an artifact of run `abc` through the gateway, as the admin; the caller writes the body. */
function artifactRequest(method: 'GET' | 'PUT', file: string, headers: Record<string, string | number> = {}): ClientRequest {
  const u = new URL(gh.url);
  return httpRequest({ host: u.hostname, port: u.port, method, path: `/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/${file}`, headers: { authorization: ADMIN_AUTH, ...headers } });
}

function assertMlflowError(json: Record<string, unknown> | undefined, errorCode: string, gatehouseCode: string) {
  assert.ok(json, 'expected a JSON body');
  assert.equal(json.error_code, errorCode);
  assert.equal(json.gatehouse_code, gatehouseCode);
  assert.equal(typeof json.message, 'string');
}

describe('forwarding', () => {
  test('an allowed GET reaches MLflow with the same target, without client credentials', async () => {
    const { res, json } = await call('/api/2.0/mlflow/experiments/get?experiment_id=12', {
      headers: { cookie: 'a=b', 'x-forwarded-user': 'root', 'x-remote-user': 'root', 'x-forwarded-for': '6.6.6.6', 'x-tenant': 'other' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(json, { ok: true, path: '/api/2.0/mlflow/experiments/get?experiment_id=12' });
    const [r] = forwarded();
    assert.ok(r);
    assert.equal(r.url, '/api/2.0/mlflow/experiments/get?experiment_id=12');
    // Without workspaces on the upstream, no workspace header is sent at all (tenancy.test.ts covers the rest).
    for (const h of ['authorization', 'cookie', 'x-forwarded-user', 'x-remote-user', 'x-tenant', 'x-mlflow-workspace']) assert.equal(r.headers[h], undefined, h);
    assert.equal(r.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(r.headers.host, new URL(stub.url).host);
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-request-id'], id);
  });

  test('the /ajax-api twin and API v3 are forwarded the same way', async () => {
    assert.equal((await call('/ajax-api/2.0/mlflow/experiments/get?experiment_id=1')).res.status, 200);
    assert.equal((await call('/api/3.0/mlflow/traces/get?trace_id=tr-1')).res.status, 200);
    assert.deepEqual(forwarded().map((r) => r.url), ['/ajax-api/2.0/mlflow/experiments/get?experiment_id=1', '/api/3.0/mlflow/traces/get?trace_id=tr-1']);
  });

  test('a JSON body is forwarded byte for byte', async () => {
    const body = '{"run_id":"r1","run_uuid":"r1","key":"loss","value":0.5,"timestamp":1700000000000,"step":3}';
    const { res } = await call('/api/2.0/mlflow/runs/log-metric', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(forwarded()[0]?.body, body);
    assert.equal(forwarded()[0]?.headers['content-length'], String(Buffer.byteLength(body)));
  });

  test('an X-Request-ID is kept only from a trusted proxy', async () => {
    const { res } = await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { headers: { 'x-request-id': 'client-chosen-id-123' } });
    assert.notEqual(res.headers.get('x-request-id'), 'client-chosen-id-123');
    assert.notEqual(forwarded()[0]?.headers['x-request-id'], 'client-chosen-id-123');
  });

  test('public routes need no credentials; /healthz and /readyz answer', async () => {
    assert.equal((await call('/health', { auth: null })).res.status, 200);
    assert.equal((await call('/healthz', { auth: null })).res.status, 200);
    const ready = await call('/readyz', { auth: null });
    assert.equal(ready.res.status, 200);
    assert.deepEqual(ready.json, { status: 'ready', checks: { startup: { ok: true }, store: { ok: true }, mlflow: { ok: true } } });
  });
});

describe('streaming', () => {
  test('an upload with Expect: 100-continue streams through byte for byte', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const status = await new Promise<number>((resolve, reject) => {
      const req = artifactRequest('PUT', 'f.bin', { expect: '100-continue', 'content-length': data.length, 'content-type': 'application/octet-stream' });
      req.on('continue', () => req.end(data));
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
    const [r] = forwarded();
    assert.equal(r?.bytes, data.length);
    assert.equal(r?.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(r?.headers.expect, undefined);
  });

  test('a chunked upload of unknown length arrives whole', async () => {
    const parts = Array.from({ length: 40 }, () => randomBytes(64 * 1024));
    const res = await fetch(`${gh.url}/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/g.bin`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH },
      body: Readable.toWeb(Readable.from(parts)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 200);
    const expected = createHash('sha256');
    parts.forEach((p) => expected.update(p));
    assert.equal(forwarded()[0]?.sha256, expected.digest('hex'));
    assert.equal(forwarded()[0]?.bytes, 40 * 64 * 1024);
  });

  test('a download streams back byte for byte', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    stub.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(data);
    };
    const res = await fetch(`${gh.url}/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/f.bin`, { headers: { authorization: ADMIN_AUTH } });
    const got = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200);
    assert.ok(got.equals(data));
  });
});

describe('streaming: backpressure and cut connections', () => {
  const MIB = 1024 * 1024;
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; !ok(); i++) {
      if (i > 500) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** MLflow's side of a download: `mib` MiB written as fast as its socket takes them. */
  const streamingStub = (mib: number, state: { sent: number; blocked: boolean; closed: boolean }) => {
    const piece = Buffer.alloc(MIB, 7);
    stub.handler = (req, res, r) => {
      if (!req.url!.endsWith('/big.bin')) return jsonOk(req, res, r);
      res.on('close', () => (state.closed = true));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': mib * MIB });
      const go = () => {
        state.blocked = false;
        while (state.sent < mib * MIB && !res.destroyed) {
          state.sent += MIB;
          if (!res.write(piece)) {
            state.blocked = true;
            return void res.once('drain', go);
          }
        }
        res.end();
      };
      go();
    };
  };
  const openDownload = () =>
    new Promise<IncomingMessage>((resolve, reject) => {
      artifactRequest('GET', 'big.bin').on('response', resolve).on('error', reject).end();
    });

  test('a client that stops reading holds MLflow back; reading again delivers every byte', async () => {
    const state = { sent: 0, blocked: false, closed: false };
    streamingStub(256, state);
    const res = await openDownload();
    assert.equal(res.statusCode, 200);
    res.pause();
    // MLflow fills the socket buffers, then waits: the gateway stops reading it while the client's side is full.
    await until('MLflow to be held back', () => state.blocked && state.sent >= 2 * MIB);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(state.sent < 64 * MIB, `MLflow sent ${state.sent / MIB} MiB to a client that read nothing`);
    let got = 0;
    res.on('data', (c: Buffer) => (got += c.length));
    res.resume();
    await new Promise((r) => res.on('end', r));
    assert.equal(got, 256 * MIB);
  });

  test('a client that goes away mid-download: MLflow\'s side of the exchange is closed too', async () => {
    const state = { sent: 0, blocked: false, closed: false };
    streamingStub(256, state);
    const res = await openDownload();
    await new Promise((r) => res.once('data', r));
    res.destroy();
    await until('MLflow\'s response to be closed', () => state.closed);
    assert.ok(state.sent < 256 * MIB);
    const after = await call('/api/2.0/mlflow/experiments/get?experiment_id=1');
    assert.equal(after.res.status, 200);
  });

  test('a client that cuts its upload: MLflow sees the request cut, never a complete one; the gateway goes on', async () => {
    const req = artifactRequest('PUT', 'cut.bin', { 'content-type': 'application/octet-stream', 'content-length': 64 * MIB });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(MIB, 1));
    await until('the upload to reach MLflow', () => stub.arrived.some((url) => url.endsWith('/cut.bin')));
    req.destroy();
    await until('MLflow to record the upload', () => forwarded().some((r) => r.url.endsWith('/cut.bin')));
    const [cut] = forwarded().filter((r) => r.url.endsWith('/cut.bin'));
    assert.equal(cut!.aborted, true);
    assert.ok(cut!.bytes < 64 * MIB);
    const after = await call('/api/2.0/mlflow/experiments/get?experiment_id=1');
    assert.equal(after.res.status, 200);
  });
});

describe('refusals never reach MLflow', () => {
  test('no credentials: 401 with a Basic challenge, in MLflow error shape', async () => {
    const { res, json } = await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth: null });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="gatehouse"/);
    assertMlflowError(json, 'UNAUTHENTICATED', 'GATEHOUSE_AUTHN_REQUIRED');
    assert.equal(forwarded().length, 0);
  });

  test('wrong password and unknown user: 401', async () => {
    for (const auth of [basic('admin', 'wrong-password-1'), basic('nobody', 'whatever-12345'), 'Basic !!!notbase64']) {
      const { res, json } = await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth });
      assert.equal(res.status, 401, auth);
      assert.equal(json?.error_code, 'UNAUTHENTICATED');
    }
    assert.equal(forwarded().length, 0);
  });

  test('a non-admin is denied until the policy engine grants more', async () => {
    const { res, json } = await call('/api/2.0/mlflow/experiments/get?experiment_id=1', { auth: basic('bob', 'bob-password-123') });
    assert.equal(res.status, 403);
    assertMlflowError(json, 'PERMISSION_DENIED', 'GATEHOUSE_AUTHZ_DENIED');
    assert.equal(forwarded().length, 0);
  });

  test('an unknown route: 404, even for an admin', async () => {
    for (const path of ['/api/2.0/mlflow/nope', '/api/2.1/mlflow/runs/get?run_id=1', '/API/2.0/mlflow/runs/get?run_id=1', '/api/2.0/mlflow/runs/get/?run_id=1', '/_internal']) {
      const { res, json } = await call(path);
      assert.equal(res.status, 404, path);
      assertMlflowError(json, 'ENDPOINT_NOT_FOUND', 'GATEHOUSE_ROUTE_UNKNOWN');
    }
    const wrongMethod = await call('/api/2.0/mlflow/runs/get?run_id=1', { method: 'DELETE' });
    assert.equal(wrongMethod.res.status, 404);
    assert.equal(forwarded().length, 0);
  });

  test('ambiguous paths: 400', async () => {
    for (const target of ['/api/2.0/mlflow%2Fexperiments/get?experiment_id=1', '/api/2.0/mlflow/runs/../experiments/get?experiment_id=1', '/api/2.0//mlflow/experiments/get?experiment_id=1', 'http://x/api/2.0/mlflow/experiments/get']) {
      const r = await raw(target);
      assert.equal(r.status, 400, target);
      assert.equal((JSON.parse(r.body) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
    }
    assert.equal(forwarded().length, 0);
  });

  test('a body on GET, a repeated single-valued parameter, run_id vs run_uuid: 400', async () => {
    const cases: [string, string, string | undefined][] = [
      ['GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', '{"experiment_id":"2"}'],
      ['GET', '/api/2.0/mlflow/experiments/get?experiment_id=1&experiment_id=2', undefined],
      ['GET', '/api/2.0/mlflow/experiments/get?experiment_id=1&experimentId=2', undefined],
      ['GET', '/api/2.0/mlflow/runs/get?run_id=a&run_uuid=b', undefined],
    ];
    for (const [method, target, body] of cases) {
      const r = await raw(target, body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}, method, body);
      assert.equal(r.status, 400, `${method} ${target}`);
    }
    assert.equal(forwarded().length, 0);
  });

  test('ambiguous JSON bodies: 400', async () => {
    const bodies = [
      '{"run_id":"a","run_id":"b","key":"k","value":1,"timestamp":1}',
      '{"run_id":"a","runId":"b","key":"k","value":1,"timestamp":1}',
      '{"run_id":"a","run_uuid":"b","key":"k","value":1,"timestamp":1}',
      '{"run_id":"a","key":"k","value":NaN,"timestamp":1}',
      '\ufeff{"run_id":"a"}',
      '[{"run_id":"a"}]',
      '{"run_id":"a"',
    ];
    for (const body of bodies) {
      const { res, json } = await call('/api/2.0/mlflow/runs/log-metric', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400, body);
      assert.equal(json?.error_code, 'INVALID_PARAMETER_VALUE');
    }
    const wrongType = await call('/api/2.0/mlflow/runs/log-metric', { method: 'POST', body: '{"run_id":"a"}', headers: { 'content-type': 'text/plain' } });
    assert.equal(wrongType.res.status, 400);
    const withQuery = await call('/api/2.0/mlflow/runs/log-metric?run_id=b', { method: 'POST', body: '{"run_id":"a"}', headers: { 'content-type': 'application/json' } });
    assert.equal(withQuery.res.status, 400);
    assert.equal(forwarded().length, 0);
  });

  test('a JSON body over the limit: 413 and the connection is closed', async () => {
    const big = `{"run_id":"a","x":"${'y'.repeat(17 * 1024 * 1024)}"}`;
    const { res, json } = await call('/api/2.0/mlflow/runs/log-metric', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
    assert.equal(json?.gatehouse_code, 'GATEHOUSE_REQUEST_TOO_LARGE');
    assert.equal(forwarded().length, 0);
  });

  test('repeated credential headers: 400', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const u = new URL(gh.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/api/2.0/mlflow/experiments/get?experiment_id=1', headers: [['authorization', ADMIN_AUTH], ['authorization', basic('bob', 'bob-password-123')]] as unknown as Record<string, string> }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r, 400);
    assert.equal(forwarded().length, 0);
  });

  test('a state-changing request from a foreign origin: 403', async () => {
    const { res } = await call('/api/2.0/mlflow/experiments/create', { method: 'POST', body: '{"name":"x"}', headers: { 'content-type': 'application/json', origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
    const same = await call('/api/2.0/mlflow/experiments/create', { method: 'POST', body: '{"name":"x"}', headers: { 'content-type': 'application/json', origin: gh.url } });
    assert.equal(same.res.status, 200);
    assert.equal(forwarded().length, 1);
    assert.equal(forwarded()[0]?.headers.origin, undefined);
  });

  test('routes Gatehouse disables are refused even for an admin', async () => {
    const { res, json } = await call('/ajax-api/3.0/mlflow/assistant/config');
    assert.equal(res.status, 403);
    assertMlflowError(json, 'PERMISSION_DENIED', 'GATEHOUSE_ROUTE_DISABLED');
    assert.equal(forwarded().length, 0);
  });
});

describe('upstream failures look like MLflow errors, never a hang', () => {
  test('MLflow closing the connection: 502', async () => {
    stub.handler = (req) => req.socket.destroy();
    const { res, json } = await call('/api/2.0/mlflow/experiments/get?experiment_id=1');
    assert.equal(res.status, 502);
    assertMlflowError(json, 'TEMPORARILY_UNAVAILABLE', 'GATEHOUSE_UPSTREAM_BAD_RESPONSE');
  });
});

describe('upstream unreachable or slow', () => {
  test('MLflow down: 503 with TEMPORARILY_UNAVAILABLE; readiness fails', async () => {
    const down = await startStub();
    const url = down.url;
    await down.close();
    const g = await startInProcess(url);
    try {
      const res = await fetch(`${g.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: ADMIN_AUTH } });
      assert.equal(res.status, 503);
      const json = (await res.json()) as Record<string, unknown>;
      assertMlflowError(json, 'TEMPORARILY_UNAVAILABLE', 'GATEHOUSE_UPSTREAM_UNAVAILABLE');
      const ready = await fetch(`${g.url}/readyz`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as { checks: { mlflow: { ok: boolean } } };
      assert.equal(body.checks.mlflow.ok, false);
    } finally {
      await g.close();
    }
  });

  test('MLflow too slow to answer: 504 with DEADLINE_EXCEEDED', async () => {
    const slow = await startStub((_req, res) => setTimeout(() => jsonOk(_req, res, {} as never), 3000).unref());
    const g = await startInProcess(slow.url, { 'mlflow.headersTimeoutMs': 300 });
    try {
      const res = await fetch(`${g.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: ADMIN_AUTH } });
      assert.equal(res.status, 504);
      assertMlflowError((await res.json()) as Record<string, unknown>, 'DEADLINE_EXCEEDED', 'GATEHOUSE_UPSTREAM_TIMEOUT');
    } finally {
      await g.close();
      await slow.close();
    }
  });
});
