import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeTarget, parseQuery } from '../../src/lib/target.ts';
import { GatehouseError } from '../../src/errors.ts';

const code = (url: string) => {
  try {
    canonicalizeTarget(url);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof GatehouseError, `unexpected error ${String(err)}`);
    return err.code;
  }
};

test('plain targets are accepted and split', () => {
  const t = canonicalizeTarget('/api/2.0/mlflow/runs/get?run_id=abc&x=1+2');
  assert.equal(t.path, '/api/2.0/mlflow/runs/get');
  assert.equal(t.rawPath, '/api/2.0/mlflow/runs/get');
  assert.equal(t.rawQuery, 'run_id=abc&x=1+2');
  assert.deepEqual(t.query.get('run_id'), ['abc']);
  assert.deepEqual(t.query.get('x'), ['1 2']);
});

test('percent-encoding is decoded once, like werkzeug', () => {
  const t = canonicalizeTarget('/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/my%20file%25.txt');
  assert.equal(t.path, '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/my file%.txt');
  assert.equal(canonicalizeTarget('/x/%C3%A9').path, '/x/é');
});

test('trailing slash is kept (FastAPI has such routes); the root is fine', () => {
  assert.equal(canonicalizeTarget('/ajax-api/3.0/jobs/').path, '/ajax-api/3.0/jobs/');
  assert.equal(canonicalizeTarget('/').path, '/');
});

for (const [url, expected] of [
  ['http://evil/api/2.0/mlflow/runs/get', 'GATEHOUSE_REQUEST_BAD_TARGET'],
  ['*', 'GATEHOUSE_REQUEST_BAD_TARGET'],
  ['//api/2.0/mlflow/runs/get', 'GATEHOUSE_REQUEST_BAD_TARGET'],
  ['/api/2.0/mlflow/runs/get#frag', 'GATEHOUSE_REQUEST_BAD_TARGET'],
  ['/api/2.0/mlflow%2Fruns/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow%2fruns/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2%2E0/mlflow/runs/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/%2e%2e/runs/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/../mlflow/runs/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/./mlflow/runs/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/..', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0//mlflow/runs/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow\\runs/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow%5Cruns/get', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/get%00', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/get%0a', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/get%zz', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/get%C3', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/g\u00e9t', 'GATEHOUSE_REQUEST_AMBIGUOUS_PATH'],
  ['/api/2.0/mlflow/runs/get?run_id=%zz', 'GATEHOUSE_REQUEST_AMBIGUOUS_QUERY'],
  ['/api/2.0/mlflow/runs/get?run_id=%C3', 'GATEHOUSE_REQUEST_AMBIGUOUS_QUERY'],
] as const) {
  test(`refuses ${JSON.stringify(url)}`, () => assert.equal(code(url), expected));
}

test('query parsing keeps repeats in order and ignores empty parts', () => {
  const q = parseQuery('a=1&&a=2&b&c=');
  assert.deepEqual(q.get('a'), ['1', '2']);
  assert.deepEqual(q.get('b'), ['']);
  assert.deepEqual(q.get('c'), ['']);
  assert.equal(q.size, 3);
});
