/**
 * Request targets and headers that a proxy and MLflow could read differently: encodings,
 * prefixes and API versions, absolute-form targets, spoofed identity and steering headers,
 * hop-by-hop tricks, request smuggling shapes and protocol upgrades. Raw sockets where
 * fetch or node:http would normalise the bytes.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH } from '../harness/gatehouse.ts';
import { auth, rawExchange, send, startWorld, statuses, type World } from './world.ts';

let w: World;
let base: string;
let hostPort: string;
before(async () => {
  w = await startWorld();
  base = w.gh.url;
  hostPort = new URL(base).host;
});
after(() => w.close());
beforeEach(() => w.reset());

const alice = auth('alice');
const vera = auth('vera');
const nothingForwarded = (what: string) => w.nothingForwarded(what);

describe('paths and encodings, on every prefix and API version', () => {
  // Templates over a route that exists in v2 (experiments/get) and one in v3 (traces/{id}).
  const targets = [
    ['/api/2.0', 'mlflow/experiments/get?experiment_id=1'],
    ['/ajax-api/2.0', 'mlflow/experiments/get?experiment_id=1'],
    ['/api/3.0', 'mlflow/traces/tr-1'],
    ['/ajax-api/3.0', 'mlflow/traces/tr-1'],
  ] as const;
  const mutations: [string, (p: string, r: string) => string, 400 | 404][] = [
    ['encoded slash', (p, r) => `${p}/${r.replace('/', '%2F')}`, 400],
    ['encoded slash, lower case', (p, r) => `${p}/${r.replace('/', '%2f')}`, 400],
    ['encoded dot segment', (p, r) => `${p}/%2e%2e/${p.split('/')[1]}/${r}`, 400],
    ['encoded dot in a segment', (p, r) => `${p}/${r.replace('mlflow', 'ml%2Eflow')}`, 400],
    ['dot segment', (p, r) => `${p}/./${r}`, 400],
    ['dot-dot segment', (p, r) => `${p}/x/../${r}`, 400],
    ['double slash', (p, r) => `${p}//${r}`, 400],
    ['leading double slash', (p, r) => `/${p}/${r}`, 400],
    ['backslash', (p, r) => `${p}\\${r}`, 400],
    ['encoded backslash', (p, r) => `${p}/${r.replace('/', '%5C')}`, 400],
    ['NUL', (p, r) => `${p}/${r.replace('mlflow', 'mlflow%00')}`, 400],
    ['encoded newline', (p, r) => `${p}/${r.replace('mlflow', 'mlflow%0a')}`, 400],
    ['overlong UTF-8 slash', (p, r) => `${p}/${r.replace('/', '%C0%AF')}`, 400],
    ['overlong UTF-8 dot', (p, r) => `${p}/${r.replace('mlflow', 'mlflow%C0%AE')}`, 400],
    ['3-byte overlong slash', (p, r) => `${p}/${r.replace('/', '%E0%80%AF')}`, 400],
    ['truncated escape', (p, r) => `${p}/${r.replace('mlflow', 'mlflow%2')}`, 400],
    ['semicolon parameter', (p, r) => `${p}/${r.replace(/(\?|$)/, ';jsessionid=1$1')}`, 404],
    ['semicolon on a segment', (p, r) => `${p}/${r.replace('mlflow/', 'mlflow;x=1/')}`, 404],
    ['upper-case prefix', (p, r) => `${p.toUpperCase()}/${r}`, 404],
    ['mixed-case family', (p, r) => `${p}/${r.replace('mlflow', 'MLflow')}`, 404],
    ['encoded letter in the family', (p, r) => `${p}/${r.replace('mlflow', 'ml%66low')}`, 200 as never],
    ['version with a leading zero', (p, r) => `${p.replace(/(\d)\.0/, '0$1.0')}/${r}`, 404],
    ['version 2.00', (p, r) => `${p}0/${r}`, 404],
    ['trailing space', (p, r) => `${p}/${r.replace(/(\?|$)/, '%20$1')}`, 404],
    ['encoded question mark', (p, r) => `${p}/${r.replace('?', '%3F')}`, 404],
  ];
  for (const [prefix, rest] of targets) {
    for (const [name, make, want] of mutations) {
      const target = make(prefix, rest);
      test(`${prefix} ${name}: ${target}`, async () => {
        const res = await send(base, 'GET', target, { authorization: ADMIN_AUTH, 'x-mlflow-workspace': 'team-a' }).catch(() => ({ status: 400, body: 'client refused' }));
        // On a route with a path parameter, `;x`, `%20` and `%3F` are part of the parameter for MLflow too: same reading, forwarded as sent.
        const paramRoute = prefix.endsWith('3.0') && ['semicolon parameter', 'trailing space', 'encoded question mark'].includes(name);
        if (want === (200 as never) || paramRoute) {
          // Decoded once, exactly as werkzeug decodes it: the same route, forwarded as received.
          assert.equal(res.status, 200, res.body);
          assert.deepEqual(w.forwarded().map((r) => r.url), [target]);
          return;
        }
        assert.equal(res.status, want, `${target}: ${res.status} ${res.body}`);
        nothingForwarded(target);
      });
    }
  }

  const raw: [string, string][] = [
    ['absolute-form', `GET http://${'127.0.0.1'}/api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1`],
    ['absolute-form to another host', 'GET http://mlflow.internal:5000/api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1'],
    ['asterisk-form', 'OPTIONS * HTTP/1.1'],
    ['authority-form', 'CONNECT mlflow.internal:5000 HTTP/1.1'],
    ['fragment', 'GET /api/2.0/mlflow/experiments/get?experiment_id=1#x HTTP/1.1'],
    ['raw space', 'GET /api/2.0/mlflow/experiments/get x HTTP/1.1'],
    ['raw non-ASCII', 'GET /api/2.0/mlflow/experiments/g\u00e9t HTTP/1.1'],
    ['static prefix dot-dot', 'GET /static-files/../api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1'],
    ['static prefix encoded dot-dot', 'GET /static-files/%2e%2e/api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1'],
    ['static prefix encoded slash', 'GET /static-files/..%2fapi/2.0/mlflow/experiments/get HTTP/1.1'],
    ['static prefix backslash', 'GET /static-files/..\\api/2.0/mlflow/experiments/get HTTP/1.1'],
    ['static prefix double slash', 'GET /static-files//etc/passwd HTTP/1.1'],
    ['overlong path', `GET /api/2.0/mlflow/${'a/'.repeat(12_000)}get HTTP/1.1`],
  ];
  for (const [name, line] of raw) {
    test(`raw ${name}: refused (4xx), nothing forwarded`, async () => {
      const reply = await rawExchange(base, Buffer.from(`${line}\r\nHost: ${hostPort}\r\nAuthorization: ${ADMIN_AUTH}\r\nX-MLFLOW-WORKSPACE: team-a\r\nConnection: close\r\n\r\n`, 'latin1'));
      const [status] = statuses(reply);
      // CONNECT has no handler: Node closes the connection without an answer, which is also a refusal.
      assert.ok(status === undefined ? reply === '' : status >= 400 && status < 500, `${name}: ${reply.slice(0, 80)}`);
      nothingForwarded(name);
    });
  }
});

describe('spoofed identity and steering headers', () => {
  const spoofs: Record<string, string>[] = [
    { 'x-remote-user': 'admin' },
    { 'remote-user': 'admin' },
    { x_remote_user: 'admin' },
    { 'x-forwarded-user': 'admin', 'x-forwarded-groups': 'admins' },
    { 'x-auth-request-user': 'admin', 'x-auth-request-groups': 'admins' },
    { 'x-forwarded-for': '10.9.9.9', 'x-real-ip': '10.9.9.9', forwarded: 'for=10.9.9.9;proto=https' },
    { 'x-user': 'admin', 'x-subject': 'admin', 'x-groups': 'admins', 'x-tenant': 'team-b' },
    { 'x-forwarded-access-token': 'x', 'x-auth-request-access-token': 'x' },
  ];
  for (const h of spoofs) {
    test(`anonymous with ${Object.keys(h).join(', ')}: 401, not forwarded`, async () => {
      const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', h);
      assert.equal(res.status, 401);
      nothingForwarded(Object.keys(h).join());
    });
  }

  test('an allowed call carries none of them to MLflow, in any spelling', async () => {
    const all = Object.assign({}, ...spoofs, {
      'X-MLFLOW-WORKSPACE': 'team-a',
      x_mlflow_workspace: 'team-b',
      'x-mlflow-workspace_': 'team-b',
      x_forwarded_for: '10.0.0.1',
      'x-http-method-override': 'DELETE',
      'x-method-override': 'DELETE',
      'x-http-method': 'DELETE',
      'x-request-id': 'spoofed-id',
      x_request_id: 'x',
      'proxy-authorization': 'Basic eA==',
    }) as Record<string, string>;
    const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: vera, ...all });
    assert.equal(res.status, 200, res.body);
    const [f] = w.forwarded();
    assert.ok(f);
    assert.equal(f.method, 'GET');
    assert.equal(f.headers['x-mlflow-workspace'], 'team-a');
    assert.ok(!String(f.headers['x-forwarded-for']).includes('10.9.9.9'), 'the gateway states the peer itself');
    assert.notEqual(f.headers['x-request-id'], 'spoofed-id');
    const leaked = Object.keys(f.headers).filter((k) => k.includes('_') || /remote-user|x-user|x-subject|x-groups|x-tenant|override|x-http-method|access-token|auth-request|forwarded-user|forwarded-groups|real-ip|^forwarded$|authorization|proxy-/.test(k));
    assert.deepEqual(leaked, []);
  });

  test('case variants of the workspace header choose the same (forbidden) tenant', async () => {
    for (const name of ['X-MLFLOW-WORKSPACE', 'x-MlFlow-WorkSpace']) {
      const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: vera, [name]: 'team-b' });
      assert.equal(res.status, 403);
    }
    const twice = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: vera, 'x-mlflow-workspace': ['team-a', 'team-b'] });
    assert.equal(twice.status, 400);
    nothingForwarded('workspace variants');
  });

  test('a trusted-proxy request id is not accepted from anyone else', async () => {
    const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: vera, 'x-request-id': 'attacker-chosen' });
    assert.notEqual(res.headers['x-request-id'], 'attacker-chosen');
    assert.notEqual(w.forwarded()[0]?.headers['x-request-id'], 'attacker-chosen');
  });
});

describe('hop-by-hop and Connection tricks', () => {
  test('Connection naming authorization does not hide the credentials from the gateway, and they never reach MLflow', async () => {
    const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: vera, connection: 'keep-alive, authorization, x-mlflow-workspace' });
    assert.equal(res.status, 200);
    const [f] = w.forwarded();
    assert.equal(f?.headers.authorization, undefined);
    assert.equal(f?.headers['x-mlflow-workspace'], 'team-a', 'the gateway sets the tenant itself');
  });

  test('Connection naming content-length on a streamed upload: the body still arrives whole and exact', async () => {
    const body = Buffer.alloc(100_000, 7);
    const res = await send(base, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/1/ra1/artifacts/f.bin', { authorization: alice, 'content-type': 'application/octet-stream', connection: 'keep-alive, content-length, x-forwarded-for' }, body);
    assert.equal(res.status, 200, res.body);
    const [f] = w.forwarded();
    assert.equal(f?.bytes, body.length);
  });

  test('Connection naming a denied tenant\'s header does not change the decision', async () => {
    const res = await send(base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=1', { authorization: vera, 'x-mlflow-workspace': 'team-b', connection: 'x-mlflow-workspace' });
    assert.equal(res.status, 403);
    nothingForwarded('connection-listed workspace');
  });

  test('duplicate credential and routing headers (raw, as node:http would merge them): 400', async () => {
    const cases = [
      `Authorization: ${vera}\r\nAuthorization: ${ADMIN_AUTH}`,
      `Authorization: ${vera}\r\nCookie: a=1\r\nCookie: b=2`,
      `Authorization: ${vera}\r\nX-Request-ID: a\r\nX-Request-Id: b`,
      `Authorization: ${vera}\r\nOrigin: http://a\r\norigin: http://b`,
      `Authorization: ${vera}\r\nX-MLFLOW-WORKSPACE: team-a\r\nx-mlflow-workspace: team-b`,
      `Authorization: ${vera}\r\nHost: other`,
    ];
    for (const extra of cases) {
      const reply = await rawExchange(base, `GET /api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1\r\nHost: ${hostPort}\r\n${extra}\r\nConnection: close\r\n\r\n`);
      assert.equal(statuses(reply)[0], 400, `${extra.split('\r\n').at(-1)}: ${reply.slice(0, 60)}`);
    }
    nothingForwarded('duplicates');
  });

  test('Expect: 100-continue from an anonymous client is answered 401 without reading the body; odd expectations 417', async () => {
    const reply = await rawExchange(
      base,
      `POST /api/2.0/mlflow/runs/create HTTP/1.1\r\nHost: ${hostPort}\r\nContent-Type: application/json\r\nContent-Length: 21\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statuses(reply).at(-1), 401, reply.slice(0, 120));
    const odd = await rawExchange(base, `GET /api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1\r\nHost: ${hostPort}\r\nAuthorization: ${vera}\r\nExpect: bogus\r\nConnection: close\r\n\r\n`);
    assert.equal(statuses(odd)[0], 417);
    nothingForwarded('expect');
  });

  test('a method override header is stripped: MLflow sees the real method', async () => {
    const res = await send(base, 'POST', '/api/2.0/mlflow/runs/search', { authorization: vera, 'content-type': 'application/json', 'x-http-method-override': 'DELETE', 'x-method-override': 'PUT' }, '{"experiment_ids":["1"]}');
    assert.equal(res.status, 200);
    const [f] = w.forwarded();
    assert.equal(f?.method, 'POST');
    assert.equal(f?.headers['x-http-method-override'], undefined);
    assert.equal(f?.headers['x-method-override'], undefined);
  });
});

describe('request smuggling shapes (raw sockets)', () => {
  const smuggled = `GET /api/2.0/mlflow/experiments/get?experiment_id=9 HTTP/1.1\r\nHost: ${'x'}\r\n\r\n`;
  const head = (extra: string) => `POST /api/2.0/mlflow/runs/search HTTP/1.1\r\nHost: HOST\r\nAuthorization: ${auth('vera')}\r\nContent-Type: application/json\r\n${extra}`;
  const body = '{"experiment_ids":["1"]}';
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const shapes: [string, string][] = [
    ['CL + TE', `${head(`Content-Length: ${chunked.length + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n`)}${chunked}${smuggled}`],
    ['TE + CL', `${head(`Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n`)}${chunked}${smuggled}`],
    ['TE obfuscated: chunked, identity', `${head(`Transfer-Encoding: chunked, identity\r\nContent-Length: ${body.length}\r\n\r\n`)}${body}${smuggled}`],
    ['TE obfuscated: xchunked', `${head(`Transfer-Encoding: xchunked\r\nContent-Length: ${body.length}\r\n\r\n`)}${body}${smuggled}`],
    ['TE obfuscated: space before colon', `${head(`Transfer-Encoding : chunked\r\n\r\n`)}${chunked}${smuggled}`],
    ['TE obfuscated: two TE headers', `${head(`Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`)}${chunked}${smuggled}`],
    ['TE obfuscated: line folding', `${head(`Transfer-Encoding:\r\n chunked\r\n\r\n`)}${chunked}${smuggled}`],
    ['double CL, different', `${head(`Content-Length: ${body.length}\r\nContent-Length: ${body.length + smuggled.length}\r\n\r\n`)}${body}${smuggled}`],
    ['double CL, same', `${head(`Content-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n\r\n`)}${body}`],
    ['CL with a sign', `${head(`Content-Length: +${body.length}\r\n\r\n`)}${body}${smuggled}`],
    ['CL list', `${head(`Content-Length: ${body.length}, ${body.length}\r\n\r\n`)}${body}${smuggled}`],
    ['bare LF line ends', `${head('').replaceAll('\r\n', '\n')}Content-Length: ${body.length}\n\n${body}${smuggled}`],
    ['chunk size with extension and overflow', `${head(`Transfer-Encoding: chunked\r\n\r\n`)}fffffffffffffffff1\r\n${body}\r\n0\r\n\r\n${smuggled}`],
  ];
  for (const [name, bytes] of shapes) {
    test(`${name}: refused whole, nothing smuggled to MLflow`, async () => {
      const reply = await rawExchange(base, Buffer.from(bytes.replace('HOST', hostPort), 'latin1'));
      const got = statuses(reply);
      assert.ok(got.length >= 1, `${name}: no answer`);
      assert.ok(got[0]! >= 400 && got[0]! < 500, `${name}: first answer ${got[0]}`);
      assert.equal(got.filter((s) => s === 200).length, 0, `${name}: ${got.join(',')}`);
      nothingForwarded(name);
    });
  }

  test('pipelined requests each go through the pipeline: the second, anonymous one is 401', async () => {
    const reply = await rawExchange(base, Buffer.from(`${head(`Content-Length: ${body.length}\r\n\r\n`).replace('HOST', hostPort)}${body}${smuggled.replace('Host: x', `Host: ${hostPort}`)}`, 'latin1'));
    assert.deepEqual(statuses(reply), [200, 401]);
    assert.deepEqual(w.forwarded().map((r) => r.url), ['/api/2.0/mlflow/runs/search']);
  });
});

describe('HTTP/2 and upgrades', () => {
  test('HTTP/2 prior knowledge: refused, nothing forwarded', async () => {
    const reply = await rawExchange(base, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'latin1'));
    const got = statuses(reply);
    assert.ok(got.length === 0 || got.every((s) => s >= 400), reply.slice(0, 80));
    nothingForwarded('h2 prior knowledge');
  });

  for (const [name, headers] of [
    ['h2c', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA'],
    ['websocket', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='],
  ] as const) {
    test(`Upgrade: ${name} is never switched to, nor passed to MLflow`, async () => {
      const reply = await rawExchange(base, `GET /api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1\r\nHost: ${hostPort}\r\nAuthorization: ${vera}\r\n${headers}\r\n\r\n`);
      const got = statuses(reply);
      assert.ok(!got.includes(101), reply.slice(0, 120));
      for (const f of w.forwarded()) {
        assert.equal(f.headers.upgrade, undefined);
        assert.equal(f.headers['http2-settings'], undefined);
        assert.ok(!String(f.headers.connection ?? '').toLowerCase().includes('upgrade'));
      }
      const anon = await rawExchange(base, `GET /api/2.0/mlflow/experiments/get?experiment_id=1 HTTP/1.1\r\nHost: ${hostPort}\r\n${headers}\r\n\r\n`);
      assert.ok(!statuses(anon).includes(101) && !statuses(anon).includes(200), anon.slice(0, 120));
    });
  }
});

describe('CORS preflight and cookies', () => {
  test('a preflight from a foreign origin gets no CORS grant and is not forwarded', async () => {
    const res = await send(base, 'OPTIONS', '/api/2.0/mlflow/runs/create', {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
      cookie: 'gatehouse_session=whatever',
    });
    assert.ok(res.status >= 400, `status ${res.status}`);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    nothingForwarded('preflight');
  });

  test('a state-changing call from a foreign origin is refused even with valid credentials', async () => {
    const res = await send(base, 'POST', '/api/2.0/mlflow/runs/create', { authorization: alice, origin: 'https://evil.example', 'content-type': 'application/json' }, '{"experiment_id":"1"}');
    assert.equal(res.status, 403);
    const nullOrigin = await send(base, 'POST', '/api/2.0/mlflow/runs/create', { authorization: alice, origin: 'null', 'content-type': 'application/json' }, '{"experiment_id":"1"}');
    assert.equal(nullOrigin.status, 403, 'sandboxed iframes send Origin: null');
    nothingForwarded('foreign origin');
  });
});
