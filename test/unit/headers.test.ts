import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../src/upstream/headers.ts';

test('credentials, hop-by-hop and identity/steering headers never reach MLflow', () => {
  const out = upstreamRequestHeaders({
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
    'x-mlflow-experiment-id': '5',
  });
  assert.deepEqual(Object.keys(out).sort(), ['content-length', 'content-type', 'user-agent', 'x-mlflow-experiment-id']);
});

test('response hop-by-hop headers are dropped, the rest kept', () => {
  const out = downstreamResponseHeaders({ connection: 'close, x-secret-hop', 'x-secret-hop': '1', 'transfer-encoding': 'chunked', 'content-type': 'application/json', 'set-cookie': ['a=1'] });
  assert.deepEqual(out, { 'content-type': 'application/json', 'set-cookie': ['a=1'] });
});
