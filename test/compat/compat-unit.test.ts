/**
 * Unit checks of the MLflow auth compatibility layer: the compat route set is disjoint from the
 * MLflow tracking route table, and werkzeug password hashes (vectors made by the MLflow venv's
 * werkzeug 3.1 `generate_password_hash`) verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MLFLOW_AUTH_COMPAT_ROUTES, isMlflowAuthCompatRequest } from '../../src/compat/mlflow-auth.ts';
import { expandTable } from '../../src/routes/mlflow/expand.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { hashPassword, isWerkzeugHash, needsRehash, verifyPassword } from '../../src/identity/password.ts';
import { bindingFor, canonicalResource, UnmappableGrant } from '../../src/compat/mlflow-permissions.ts';

test('the compat routes are disjoint from the MLflow tracking route table', () => {
  const table = new Set(expandTable(MLFLOW_ROUTES).map((r) => `${r.method} ${r.path}`));
  // 12 user and per-user permission routes and 13 role routes (MLflow 3.18 routes.py), under /api and /ajax-api.
  assert.equal(MLFLOW_AUTH_COMPAT_ROUTES.length, 50);
  for (const r of MLFLOW_AUTH_COMPAT_ROUTES) assert.ok(!table.has(`${r.method} ${r.path}`), `${r.method} ${r.path} is also an MLflow tracking route`);
});

test('only exact method + path pairs are compat requests', () => {
  assert.ok(isMlflowAuthCompatRequest('POST', '/api/2.0/mlflow/users/create'));
  assert.ok(isMlflowAuthCompatRequest('GET', '/ajax-api/3.0/mlflow/users/permissions/get?username=a&resource_type=experiment&resource_id=1'));
  assert.ok(!isMlflowAuthCompatRequest('GET', '/api/2.0/mlflow/users/create'));
  assert.ok(!isMlflowAuthCompatRequest('POST', '/api/2.0/mlflow/users//create'));
  assert.ok(!isMlflowAuthCompatRequest('POST', '/api/2.0/mlflow/users/create/'));
  assert.ok(!isMlflowAuthCompatRequest('POST', '/api/2.0/mlflow/users/%63reate'));
  assert.ok(isMlflowAuthCompatRequest('GET', '/ajax-api/3.0/mlflow/roles/list?workspace=default'));
  assert.ok(!isMlflowAuthCompatRequest('POST', '/api/3.0/mlflow/roles/list'));
});

// From: .tools/mlflow-venv/bin/python -c "from werkzeug.security import generate_password_hash as g; print(g(...))"
const VECTORS = [
  ['correct horse battery', 'scrypt:32768:8:1$hJZ6MjfdHNfyVYJB$a797342f1297918cea62bfb36120c337e49e9fdfaf341c45802deac8c5cf9cd9fe2c4a02f4f86e294eba46b3edddce92820349a859b297c0db94a1ad37d1d3b2'],
  ['correct horse battery', 'pbkdf2:sha256:1000$nhd0EqEynj4XTOJT$5ae014dd75a3ce9b0c0ba201fb4583efd059bb39c332388152badc4296715a23'],
  ['pässwörd-ünïcode', 'scrypt:1024:8:1$DDc7svY5tRguLCmy$832c2d690bd3422b8890fb90772c087380a1ecdb7081978ae2ba7ef02f11286f4076c157a30fe88a489b9d14355bf980e5c5dfb819d9c8b599f3dc39a05aa5a4'],
  ['correct horse battery', 'pbkdf2:sha512:1000$v6f2OjuIyExHXwfL$3c21e3085afa7a73a0c73081fbaa2f5a9d563cf1b51dad1d556afee5f22be7580de08117de849c4bd6458bedd3bf8ee3bd6fc44abf8c36009bd9a7368d19d0b5'],
] as const;

test('werkzeug scrypt and pbkdf2 hashes verify, wrong passwords and tampered hashes do not', async () => {
  for (const [password, hash] of VECTORS) {
    assert.ok(isWerkzeugHash(hash) && needsRehash(hash));
    assert.equal(await verifyPassword(password, hash), true, hash.slice(0, 20));
    assert.equal(await verifyPassword(`${password}x`, hash), false);
    assert.equal(await verifyPassword(password, hash.replace(/.$/, (c) => (c === '0' ? '1' : '0'))), false);
  }
  assert.equal(await verifyPassword('x', 'pbkdf2:md5:1000$salt$00'), false, 'unknown digest');
  assert.equal(await verifyPassword('x', 'scrypt:1000:8:1$salt$' + '0'.repeat(128)), false, 'N not a power of two');
  assert.equal(await verifyPassword('x', 'md5$abc$0123'), false);
  const own = await hashPassword('a-gatehouse-password', { cost: 1024, blockSize: 8, parallelization: 1 });
  assert.equal(needsRehash(own), false);
});

test('MLflow grants map to exact bindings; names that would widen a grant are refused', () => {
  assert.deepEqual(canonicalResource('experiment', '007'), { type: 'experiment', id: '7' });
  assert.deepEqual(bindingFor('a', 'default', canonicalResource('experiment', '7'), 'EDIT'), { role: 'mlflow-edit', effect: 'allow', user: 'a', tenant: 'default', experiment: { id: '7' } });
  assert.deepEqual(bindingFor('a', 'default', canonicalResource('prompt', 'p'), 'DENY'), { role: 'mlflow-read', effect: 'deny', user: 'a', tenant: 'default', model: { namePattern: 'p' } });
  assert.throws(() => canonicalResource('registered_model', 'a*b'), UnmappableGrant);
  assert.throws(() => canonicalResource('experiment', 'abc'), UnmappableGrant);
  assert.throws(() => canonicalResource('scorer', '1/x'), UnmappableGrant);
});
