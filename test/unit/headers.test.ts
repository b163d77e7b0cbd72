import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  FORWARDED_REQUEST_HEADERS,
  FORWARDED_RESPONSE_HEADERS,
  GATEWAY_REQUEST_HEADERS,
  HEADER_CLASSES,
  downstreamResponseHeaders,
  requestHeadersFor,
  routeRequestHeaders,
  upstreamRequestHeaders,
  type HeaderDropSink,
} from '../../src/upstream/headers.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';

const row = (op: string): RouteRow => MLFLOW_ROUTES.find((r) => r.op === op)!;
const API = requestHeadersFor(row('experiments.get'));
const sink = (): HeaderDropSink & { droppedHeaders?: Record<string, number> } => ({});

test('only the allow-listed request headers reach MLflow: credentials, hop-by-hop, identity and steering headers never do', () => {
  const drops = sink();
  const out = upstreamRequestHeaders(
    {
      host: 'gw:8080',
      authorization: 'Basic eA==',
      cookie: 'gatehouse_session=s',
      connection: 'keep-alive, X-Custom-Hop',
      'x-custom-hop': 'drop me',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'h2c',
      expect: '100-continue',
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-user': 'admin',
      'x-remote-user': 'admin',
      'x-tenant': 'other',
      'x-mlflow-workspace': 'other',
      'x-http-method-override': 'DELETE',
      forwarded: 'for=1.2.3.4',
      x_remote_user: 'admin',
      'content-type': 'application/json',
      'content-length': '12',
      'user-agent': 'mlflow-python-client/3.18.0',
      'x-mlflow-client-version': '3.18.0',
      accept: 'application/json',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=1',
    },
    API,
    [],
    drops,
  );
  assert.deepEqual(Object.keys(out).sort(), ['accept', 'content-length', 'content-type', 'traceparent', 'tracestate', 'user-agent', 'x-mlflow-client-version']);
});

test('identity- and routing-looking headers the gateway never heard of are dropped too (issue 18, finding 4)', () => {
  const spoofs = {
    'x-user-id': '1',
    'x-user': 'admin',
    'x-roles': 'admin',
    'x-tenant-id': 'team-b',
    'x-original-url': '/api/2.0/mlflow/experiments/delete',
    'x-rewrite-url': '/admin',
    'x-forwarded-uri': '/admin',
    'x-forwarded-prefix': '/x',
    'script-name': '/other',
    'x.user.id': '1',
    'x-user_id': '1',
    'x-mlflow-guardrail-bypass': '1',
    'x-mlflow-authorization': 'Basic eA==',
    'x-api-key': 'k',
    'x-mlflow-experiment-id': '5',
    baggage: 'user=alice',
    'accept-encoding': 'gzip',
    referer: 'https://gw/',
  };
  const drops = sink();
  const out = upstreamRequestHeaders({ ...spoofs, accept: '*/*' }, API, [], drops);
  assert.deepEqual(out, { accept: '*/*' });
  const counted = Object.values(drops.droppedHeaders ?? {}).reduce((a, b) => a + b, 0);
  assert.equal(counted, Object.keys(spoofs).length, 'every dropped header is counted');
  assert.equal(drops.droppedHeaders?.['request:identity'], 4, JSON.stringify(drops.droppedHeaders));
  assert.equal(drops.droppedHeaders?.['request:routing'], 5);
  assert.equal(drops.droppedHeaders?.['request:ambiguous'], 2);
  assert.equal(drops.droppedHeaders?.['request:credential'], 2);
  assert.equal(drops.droppedHeaders?.['request:mlflow'], 2);
  assert.equal(drops.droppedHeaders?.['request:other'], 3);
  for (const key of Object.keys(drops.droppedHeaders ?? {})) assert.ok(HEADER_CLASSES.includes(key.split(':')[1] as never), key);
});

test('a route gets the headers its MLflow handler reads: OTLP its experiment/run headers and content-encoding, nobody else', () => {
  const otlp = requestHeadersFor(row('traces.exportOtlp'));
  const sent = { 'x-mlflow-experiment-id': '5', 'x-mlflow-run-id': 'r1', 'content-encoding': 'gzip', 'content-type': 'application/x-protobuf' };
  assert.deepEqual(upstreamRequestHeaders(sent, otlp, []), sent);
  assert.deepEqual(upstreamRequestHeaders(sent, API, []), { 'content-type': 'application/x-protobuf' });
  assert.deepEqual(
    routeRequestHeaders(MLFLOW_ROUTES).map((r) => r.op),
    ['traces.exportOtlp'],
    'the only route with extra request headers in MLflow 3.18',
  );
});

test('operator-configured identity headers are never forwarded, even if allow-listed elsewhere', () => {
  const out = upstreamRequestHeaders({ 'user-agent': 'x', accept: '*/*' }, API, ['User-Agent']);
  assert.deepEqual(out, { accept: '*/*' });
});

test('a header named in Connection is dropped even when allow-listed (RFC 9110 §7.6.1)', () => {
  const out = upstreamRequestHeaders({ connection: 'range', range: 'bytes=0-1', accept: '*/*' }, API, []);
  assert.deepEqual(out, { accept: '*/*' });
});

test('response: hop-by-hop, state-setting and server-internal headers from MLflow are dropped and counted', () => {
  const drops = sink();
  const out = downstreamResponseHeaders(
    {
      connection: 'close, x-secret-hop',
      'x-secret-hop': '1',
      'transfer-encoding': 'chunked',
      'content-type': 'application/json',
      'set-cookie': ['a=1'],
      'strict-transport-security': 'max-age=1',
      'access-control-allow-origin': '*',
      'alt-svc': 'h3=":443"',
      'www-authenticate': 'Basic realm="mlflow"',
      server: 'uvicorn',
      'x-powered-by': 'Flask',
      'x-request-id': 'mlflow-chosen',
      'x-content-type-options': 'nosniff',
      'x-mlflow-gateway-duration-ms': '3',
    },
    { cacheable: true },
    drops,
  );
  assert.deepEqual(out, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'x-mlflow-gateway-duration-ms': '3' });
  assert.deepEqual(drops.droppedHeaders, { 'response:connection': 3, 'response:state': 4, 'response:credential': 1, 'response:server': 2, 'response:other': 1 });
});

test('response caching: authenticated answers get no-store and Pragma no-cache; public ones keep MLflow\'s headers', () => {
  const mlflow = { 'content-type': 'text/plain', 'cache-control': 'no-cache', etag: '"1"', expires: 'Mon, 04 Jan 2027 18:55:47 GMT' };
  assert.deepEqual(downstreamResponseHeaders(mlflow, { cacheable: false }), { 'content-type': 'text/plain', 'cache-control': 'no-store', pragma: 'no-cache', etag: '"1"' });
  assert.deepEqual(downstreamResponseHeaders(mlflow, { cacheable: true }), mlflow);
  // Something at least as strict from MLflow stays as MLflow wrote it.
  const strict = downstreamResponseHeaders({ 'cache-control': 'private, No-Store, max-age=0' }, { cacheable: false });
  assert.deepEqual(strict, { 'cache-control': 'private, No-Store, max-age=0', pragma: 'no-cache' });
});

/** Backticked header names in the table under `heading` in docs/security.md. */
function documented(heading: string): string[] {
  const doc = readFileSync(resolve(import.meta.dirname, '../../docs/security.md'), 'utf8');
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/security.md has no heading ${heading}`);
  const section = doc.slice(start + heading.length + 2).split(/\n#/)[0]!;
  return [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!).sort();
}

test('docs/security.md lists exactly the headers the code forwards, both ways', () => {
  assert.deepEqual(documented('#### Request headers forwarded as the client sent them'), [...FORWARDED_REQUEST_HEADERS].sort());
  assert.deepEqual(documented('#### Request headers the gateway sets'), [...GATEWAY_REQUEST_HEADERS].sort());
  assert.deepEqual(
    documented('#### Request headers forwarded on some routes only'),
    [...new Set(routeRequestHeaders(MLFLOW_ROUTES).flatMap((r) => r.headers))].sort(),
  );
  assert.deepEqual(documented('#### Response headers passed back from MLflow'), [...FORWARDED_RESPONSE_HEADERS].sort());
});
