/**
 * Which headers cross the gateway, end to end against a recording stub MLflow: the request
 * allow-list (issue 18, finding 4), MLflow's response headers, and the caching headers on
 * authenticated answers (finding 5). Unit cases for the lists are in test/unit/headers.test.ts.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';

let stub: StubUpstream;
let gh: InProcess;
const forwarded = () => stub.requests.filter((r) => r.url !== '/health' && r.url !== '/api/3.0/mlflow/server-info');

before(async () => {
  stub = await startStub();
  gh = await startInProcess(stub.url, { 'rateLimits.enabled': false });
});
after(async () => {
  await gh.close();
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  stub.handler = jsonOk;
});

/** A GET with exactly these header lines (names as written; an array of lines gets no Host from Node, so it is added). */
function rawGet(path: string, lines: Array<[string, string]>): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(gh.url);
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: [['host', u.host], ['authorization', ADMIN_AUTH], ...lines] as unknown as Record<string, string> }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** MLflow's answer to the forwarded call (it carries X-Forwarded-For); the gateway's own probes and lookups get plain answers. */
function forwardedAnswer(handler: StubHandler): StubHandler {
  return (req, res, r) => {
    if (req.headers['x-forwarded-for'] !== undefined) return handler(req, res, r);
    const id = /experiments\/get\?experiment_id=(\d+)/.exec(r.url)?.[1];
    if (id === undefined) return jsonOk(req, res, r);
    const body = JSON.stringify({ experiment: { experiment_id: id, name: `e${id}` } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

async function scrape(): Promise<string> {
  return (await fetch(`${gh.internalUrl}/metrics`)).text();
}
function dropped(text: string, direction: string, cls: string): number {
  const m = new RegExp(`^gatehouse_headers_dropped_total\\{direction="${direction}",class="${cls}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('request headers: an allow-list', () => {
  const SPOOFS: Array<[string, string]> = [
    ['X-User-Id', '1'],
    ['X-Roles', 'admin'],
    ['X-Tenant-Id', 'team-b'],
    ['X-Original-URL', '/api/2.0/mlflow/experiments/delete'],
    ['X-Rewrite-URL', '/api/2.0/mlflow/experiments/delete'],
    ['X-Forwarded-Uri', '/admin'],
    ['Script-Name', '/other'],
    ['X.User.Id', '1'],
    ['X-User_Id', '1'],
    ['X-MLflow-Guardrail-Bypass', '1'],
    ['X-API-Key', 'sk-secret'],
    ['Baggage', 'user=alice'],
  ];

  test('identity- and routing-looking headers the gateway does not know never reach MLflow', async () => {
    const { status } = await rawGet('/api/2.0/mlflow/experiments/get?experiment_id=1', [...SPOOFS, ['Accept', 'application/json'], ['User-Agent', 'mlflow-python-client/3.18.0']]);
    assert.equal(status, 200);
    const [r] = forwarded();
    assert.ok(r);
    for (const [name] of SPOOFS) assert.equal(r.headers[name.toLowerCase()], undefined, name);
    assert.deepEqual(
      Object.keys(r.headers).sort(),
      ['accept', 'connection', 'host', 'user-agent', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id'],
      'exactly the allow-list plus what the gateway sets (connection: undici\'s own keep-alive)',
    );
  });

  test('every dropped header is counted by class, never by name or value', async () => {
    const before = await scrape();
    await rawGet('/api/2.0/mlflow/experiments/get?experiment_id=1', SPOOFS);
    const after = await scrape();
    const delta = (cls: string) => dropped(after, 'request', cls) - dropped(before, 'request', cls);
    assert.equal(delta('identity'), 3); // x-user-id, x-roles, x-tenant-id
    assert.equal(delta('routing'), 4); // x-original-url, x-rewrite-url, x-forwarded-uri, script-name
    assert.equal(delta('ambiguous'), 2); // x.user.id, x-user_id
    assert.equal(delta('mlflow'), 1); // x-mlflow-guardrail-bypass
    assert.equal(delta('other'), 1); // baggage
    assert.ok(delta('credential') >= 2, 'x-api-key and the gateway credential itself'); // authorization is consumed, not forwarded
    assert.doesNotMatch(after, /x-user-id|guardrail|sk-secret|alice/i);
  });

  test('conditional and range headers reach MLflow (artifact downloads honour them); cookies do not', async () => {
    const { status } = await rawGet('/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/f.bin', [
      ['Range', 'bytes=0-9'],
      ['If-Range', '"e1"'],
      ['If-None-Match', '"e1"'],
      ['If-Modified-Since', 'Mon, 07 Dec 2026 18:30:10 GMT'],
      ['If-Match', '"e1"'],
      ['Cookie', 'gatehouse_session=x'],
    ]);
    assert.equal(status, 200);
    const [r] = forwarded();
    assert.equal(r?.headers.range, 'bytes=0-9');
    assert.equal(r?.headers['if-range'], '"e1"');
    assert.equal(r?.headers['if-none-match'], '"e1"');
    assert.equal(r?.headers['if-modified-since'], 'Mon, 07 Dec 2026 18:30:10 GMT');
    assert.equal(r?.headers['if-match'], '"e1"');
    assert.equal(r?.headers.cookie, undefined);
  });

  test('a multipart upload keeps its Content-Type boundary and arrives byte for byte', async () => {
    const boundary = '----gatehouse0123';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
    const res = await fetch(`${gh.url}/api/3.0/mlflow/skills/s1/versions`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    const [r] = forwarded();
    assert.equal(r?.headers['content-type'], `multipart/form-data; boundary=${boundary}`);
    assert.equal(r?.body, body);
  });
});

describe('response headers from MLflow', () => {
  test('state-setting, authentication and server headers are dropped; the rest passes', async () => {
    stub.handler = forwardedAnswer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': 'mlflow_session=abc; Path=/',
        'strict-transport-security': 'max-age=31536000',
        'access-control-allow-origin': '*',
        'access-control-allow-credentials': 'true',
        'www-authenticate': 'Basic realm="mlflow"',
        server: 'uvicorn',
        'x-powered-by': 'Werkzeug/3.1',
        'x-request-id': 'chosen-by-mlflow',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
      });
      res.end('{}');
    });
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: ADMIN_AUTH } });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    for (const h of ['set-cookie', 'strict-transport-security', 'access-control-allow-origin', 'access-control-allow-credentials', 'www-authenticate', 'server', 'x-powered-by']) {
      assert.equal(res.headers.get(h), null, h);
    }
    assert.notEqual(res.headers.get('x-request-id'), 'chosen-by-mlflow', 'the gateway\'s request id stands');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  });

  test('the same holds for answers the gateway buffers (response filters)', async () => {
    stub.handler = forwardedAnswer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'a=1', server: 'uvicorn' });
      res.end('{"experiment_id":"7"}');
    });
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: '{"name":"h1"}',
    });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal(res.headers.get('server'), null);
  });
});

describe('Cache-Control on authenticated answers (issue 18, finding 5)', () => {
  const fileHandler = (cacheControl: string) =>
    forwardedAnswer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': cacheControl, etag: '"1"', 'last-modified': 'Mon, 07 Dec 2026 18:30:10 GMT', expires: 'Mon, 04 Jan 2027 18:55:47 GMT' });
      res.end('hi');
    });

  test('API and artifact answers: no-store and Pragma no-cache, whatever MLflow said', async () => {
    for (const [path, mlflowSays] of [
      ['/version', ''],
      ['/ajax-api/2.0/mlflow/experiments/search?max_results=10', ''],
      ['/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/b.txt', 'no-cache'],
      ['/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a.txt', 'public, max-age=600'],
      ['/', 'no-cache'],
    ] as const) {
      stub.handler = mlflowSays ? fileHandler(mlflowSays) : jsonOk;
      const res = await fetch(`${gh.url}${path}`, { headers: { authorization: ADMIN_AUTH } });
      await res.arrayBuffer();
      assert.equal(res.status, 200, `${path} ${gh.events.at(-1)?.ctx.errorCode} ${gh.events.at(-1)?.ctx.errorDetail}`);
      assert.equal(res.headers.get('cache-control'), 'no-store', path);
      assert.equal(res.headers.get('pragma'), 'no-cache', path);
      assert.equal(res.headers.get('expires'), null, path);
    }
  });

  test('MLflow\'s own no-store (or stricter) is kept as it wrote it', async () => {
    stub.handler = fileHandler('no-store, private');
    const res = await fetch(`${gh.url}/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a.txt`, { headers: { authorization: ADMIN_AUTH } });
    await res.arrayBuffer();
    assert.equal(res.headers.get('cache-control'), 'no-store, private');
    assert.equal(res.headers.get('pragma'), 'no-cache');
  });

  test('answers the gateway makes itself for authenticated calls carry no-store too (filtered results, errors)', async () => {
    stub.handler = forwardedAnswer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end('{"experiment_id":"7"}');
    });
    const created = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: '{"name":"c1"}' });
    await created.arrayBuffer();
    assert.equal(created.headers.get('cache-control'), 'no-store');
    assert.equal(created.headers.get('pragma'), 'no-cache');
    const denied = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`);
    await denied.arrayBuffer();
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('cache-control'), 'no-store');
    assert.equal(denied.headers.get('pragma'), 'no-cache');
  });

  test('static UI assets (public routes) keep MLflow\'s caching headers', async () => {
    stub.handler = fileHandler('public, max-age=2419200');
    const res = await fetch(`${gh.url}/static-files/static/js/main.js`);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=2419200');
    assert.equal(res.headers.get('etag'), '"1"');
    assert.equal(res.headers.get('expires'), 'Mon, 04 Jan 2027 18:55:47 GMT');
    assert.equal(res.headers.get('pragma'), null);
  });
});
