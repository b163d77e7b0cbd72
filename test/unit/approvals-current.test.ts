/**
 * What the console shows as an alias's current version (issue 23): MLflow's version when it
 * answers one, "not set" only on MLflow 3.18's exact missing-alias answer (docs/mlflow-notes.md,
 * pinned against the real MLflow in test/e2e/approvals.test.ts), and "unknown" for anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasState } from '../../src/services/approvals.ts';

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

test("MLflow's answer is read, and anything unclear is unknown, never guessed", () => {
  assert.deepEqual(aliasState(json(200, { model_version: { name: 'm', version: '3' } }), 'production'), { state: 'set', version: '3' });
  assert.deepEqual(aliasState(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias production not found.' }), 'production'), { state: 'unset' });
  // Another bad parameter is not "no alias".
  assert.equal(aliasState(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias champion not found.' }), 'production').state, 'unknown');
  assert.equal(aliasState(json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=m not found' }), 'production').state, 'unknown');
  assert.equal(aliasState(json(403, { error_code: 'PERMISSION_DENIED', message: 'no' }), 'production').state, 'unknown');
  assert.equal(aliasState({ status: 502, body: '<html>bad gateway</html>' }, 'production').state, 'unknown');
  assert.equal(aliasState(json(200, {}), 'production').state, 'unknown');
});
