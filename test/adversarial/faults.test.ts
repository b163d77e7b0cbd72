/**
 * Faults: each dependency failing has one defined, fail-closed behaviour (docs/security.md,
 * "Fault behaviours"). Here: MLflow answering 500 or garbage to the gateway's own lookups,
 * MLflow failing mid-answer, the store closed under the gateway, and the audit file on a full
 * disk (a file sink whose file is /dev/full: every write fails with ENOSPC). MLflow down/slow,
 * IdP/JWKS down and LDAP down have their own suites (test/feature/proxy.test.ts,
 * test/identity/oidc-bearer.test.ts, test/identity/ldap.test.ts with a real slapd).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_AUTH, startInProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
import { auth, errorCode, post, send, startWorld, worldHandler, type World } from './world.ts';

describe('MLflow misbehaving on the gateway\'s own lookups (alice needs resolution)', { timeout: 20_000 }, () => {
  let w: World;
  let mode: 'ok' | '500' | 'garbage' | 'html' | 'empty' | 'close' | 'wrong-shape' = 'ok';
  before(async () => {
    w = await startWorld();
    const normal = w.stub.handler;
    w.stub.handler = (req, res, r) => {
      if (mode === 'ok' || !req.url!.includes('/runs/get?') || req.headers['x-forwarded-for'] !== undefined) return normal(req, res, r);
      if (mode === '500') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error_code":"INTERNAL_ERROR"}');
      if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"run": {"info": ');
      if (mode === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>');
      if (mode === 'empty') return void res.writeHead(200).end();
      if (mode === 'wrong-shape') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"run":{"info":{"experiment_id":["1"]}}}');
      req.socket.destroy();
    };
  });
  after(() => w.close());
  beforeEach(() => w.reset());

  for (const m of ['500', 'garbage', 'html', 'empty', 'close', 'wrong-shape'] as const) {
    // A connection MLflow drops is a broken upstream (502); any answer that is not a usable parent is "unresolvable" (503).
    const want = m === 'close' ? 502 : 503;
    test(`lookup answered ${m}: ${want} TEMPORARILY_UNAVAILABLE (never allow), not forwarded`, async () => {
      mode = m;
      try {
        const res = await send(w.gh.url, 'GET', '/api/2.0/mlflow/runs/get?run_id=ra1', { authorization: auth('alice') });
        assert.equal(res.status, want, res.body);
        assert.equal(errorCode(res), 'TEMPORARILY_UNAVAILABLE');
        assert.deepEqual(w.forwarded(), []);
      } finally {
        mode = 'ok';
      }
    });
  }

  test('a filtered search answered with garbage: 502, no page made of it', async () => {
    const normal = w.stub.handler;
    w.stub.handler = (req, res, r) =>
      req.url!.includes('/experiments/search') ? void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>') : normal(req, res, r);
    try {
      const res = await post(w.gh.url, '/api/2.0/mlflow/experiments/search', auth('ella'), { max_results: 10 });
      assert.equal(res.status, 502, res.body);
      assert.equal(errorCode(res), 'TEMPORARILY_UNAVAILABLE');
    } finally {
      w.stub.handler = normal;
    }
  });

  test('control: with MLflow healthy again the same call is forwarded', async () => {
    const res = await send(w.gh.url, 'GET', '/api/2.0/mlflow/runs/get?run_id=ra1', { authorization: auth('alice') });
    assert.equal(res.status, 200);
    assert.equal(w.forwarded().length, 1);
  });
});

describe('MLflow failing on the forwarded call', { timeout: 20_000 }, () => {
  let stub: StubUpstream;
  let gh: Awaited<ReturnType<typeof startInProcess>>;
  let handler: StubHandler = jsonOk;
  before(async () => {
    stub = await startStub((req, res, r) => handler(req, res, r));
    gh = await startInProcess(stub.url, { 'rateLimits.enabled': false });
  });
  after(async () => {
    await gh.close();
    await stub.close();
  });
  const get = () => send(gh.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: ADMIN_AUTH });

  test('MLflow\'s server-info failing (the workspace probe): 502, the call is not forwarded blind', async () => {
    handler = (_q, res) => void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error_code":"INTERNAL_ERROR"}');
    const res = await get();
    assert.equal(res.status, 502, res.body);
    assert.equal(stub.requests.filter((r) => r.headers['x-forwarded-for'] !== undefined).length, 0);
  });

  test('MLflow\'s server-info answering 200 with something not JSON: 502, not an internal error, not forwarded', async () => {
    handler = (req, res, r) =>
      req.url!.endsWith('/server-info') ? void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>') : jsonOk(req, res, r);
    const res = await get();
    assert.equal(res.status, 502, res.body);
    assert.equal(errorCode(res), 'TEMPORARILY_UNAVAILABLE');
    assert.equal(stub.requests.filter((r) => r.headers['x-forwarded-for'] !== undefined).length, 0);
  });

  test('MLflow\'s own 500 is passed on as MLflow\'s answer (the call was allowed)', async () => {
    handler = (req, res, r) =>
      req.url!.endsWith('/server-info') ? jsonOk(req, res, r) : void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error_code":"INTERNAL_ERROR","message":"boom"}');
    const res = await get();
    assert.equal(res.status, 500, res.body);
    assert.equal(errorCode(res), 'INTERNAL_ERROR');
  });

  test('a malformed status line from MLflow: 502 in MLflow error shape', async () => {
    handler = (req) => {
      req.socket.write('HTTP/1.1 abc garbage\r\n\r\n');
      req.socket.destroy();
    };
    const res = await get();
    assert.equal(res.status, 502, res.body);
    assert.ok(errorCode(res));
  });

  test('MLflow closing mid-body: the client sees a broken response, never a complete-looking one', async () => {
    handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"experiment": {"name": "partial');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const outcome = await get().then(
      (r) => (r.body.length < 1000 ? 'short' : 'complete'),
      () => 'aborted',
    );
    assert.notEqual(outcome, 'complete');
  });

  test('a response filter route answered with garbage: 502, nothing half-filtered passed on', async () => {
    handler = (req, res, r) =>
      req.url!.endsWith('/server-info') ? jsonOk(req, res, r) : void res.writeHead(200, { 'content-type': 'application/json' }).end('{"workspaces": [');
    const res = await send(gh.url, 'GET', '/api/3.0/mlflow/workspaces', { authorization: ADMIN_AUTH });
    assert.equal(res.status, 502, res.body);
    assert.equal(errorCode(res), 'TEMPORARILY_UNAVAILABLE');
    assert.doesNotMatch(res.body, /"workspaces"/);
  });
});

describe('the store closed under the gateway', () => {
  test('password users: 503 STORE_UNAVAILABLE, not forwarded; never an allow', async () => {
    const stub = await startStub(worldHandler);
    const gh = await startInProcess(stub.url);
    try {
      await gh.store.close();
      const res = await send(gh.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: ADMIN_AUTH });
      assert.equal(res.status, 503, res.body);
      assert.equal(errorCode(res), 'TEMPORARILY_UNAVAILABLE');
      assert.equal(stub.requests.filter((r) => r.headers['x-forwarded-for'] !== undefined).length, 0);
    } finally {
      await gh.close().catch(() => {});
      await stub.close();
    }
  });
});

describe('disk full for the audit file (audit.mode required)', () => {
  let dir: string;
  let stub: StubUpstream;
  let gh: Awaited<ReturnType<typeof startInProcess>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-full-'));
    symlinkSync('/dev/full', join(dir, 'audit.jsonl'));
    stub = await startStub(worldHandler);
    gh = await startInProcess(stub.url, { 'audit.mode': 'required', 'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl') }] }).catch((e: Error) => {
      throw new Error(`start refused: ${e.message}`);
    });
  });
  after(async () => {
    await gh?.close();
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a write is refused with 503 AUDIT_UNAVAILABLE and never reaches MLflow', async () => {
    const res = await post(gh.url, '/api/2.0/mlflow/experiments/create', ADMIN_AUTH, { name: 'x' });
    assert.equal(res.status, 503, res.body);
    assert.equal(errorCode(res), 'TEMPORARILY_UNAVAILABLE');
    assert.equal(stub.requests.filter((r) => r.headers['x-forwarded-for'] !== undefined).length, 0);
  });
});
