import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ERROR_ANSWER_BYTES, WITHHELD_MESSAGE, cleanErrorAnswer, isInspectedError, namesInternals } from '../../src/upstream/error-hygiene.ts';

/** MLflow 3.18 + SQLite, `experiments/create` with a taken name (provoked on the real server; see test/e2e/error-hygiene.test.ts). */
const DUPLICATE_EXPERIMENT = JSON.stringify({
  error_code: 'RESOURCE_ALREADY_EXISTS',
  message:
    "Experiment(name=e1) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.workspace, experiments.name\n[SQL: INSERT INTO experiments (name, workspace, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)]\n[parameters: ('e1', 'default', '', 'active', 1796669345554, 1796669345554)]\n(Background on this error at: https://sqlalche.me/e/21/gkpj)",
  sqlstate: 'KAM00',
  error_class: 'RESOURCE_ALREADY_EXISTS',
});

const clean = (body: string, status = 400) => cleanErrorAnswer(status, Buffer.from(body), true);

test('a database error in the message is replaced; error_code, the other fields and the shape stay', () => {
  const out = clean(DUPLICATE_EXPERIMENT);
  assert.deepEqual(JSON.parse(out.body.toString()), { error_code: 'RESOURCE_ALREADY_EXISTS', message: WITHHELD_MESSAGE, sqlstate: 'KAM00', error_class: 'RESOURCE_ALREADY_EXISTS' });
  // The audit keeps the original, with the bound values blanked (they may be anything a caller sent).
  assert.match(out.withheld ?? '', /UNIQUE constraint failed: experiments\.workspace, experiments\.name/);
  assert.match(out.withheld ?? '', /\[parameters: withheld\]/);
  assert.doesNotMatch(out.withheld ?? '', /1796669345554/);
});

test('the kinds of internals MLflow and its libraries put in messages are recognised', () => {
  for (const text of [
    'Python int too large to convert to SQLite INTEGER',
    '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "experiments_name_key"',
    '(pymysql.err.IntegrityError) (1062, "Duplicate entry \'x\' for key \'name\'")',
    '(sqlite3.OperationalError) no such table: experiments',
    'Traceback (most recent call last):\n  File "/srv/app/mlflow/server/handlers.py", line 10, in f',
    "[Errno 2] No such file or directory: 'x'",
    "No such file or directory: '/srv/mlflow/artifacts/1/abc/artifacts/x'",
    'Could not write to /var/lib/mlflow/artifacts/1',
    'artifact root file:///tmp/mlruns is not writable',
    'C:\\mlflow\\artifacts\\1 is not writable',
    "HTTPConnectionPool(host='minio', port=9000): Max retries exceeded",
    '<mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore object at 0x7f2b1c0>',
  ]) {
    assert.ok(namesInternals(text), text);
  }
});

test('ordinary MLflow error messages pass unchanged', () => {
  for (const message of [
    'Experiment with id=77 not found',
    "No such artifact: '1/16b25c50b1f043afbd780d0ca8dda556/artifacts/nope.txt'",
    "Invalid model version source: 'mlflow-artifacts:/1/x'. The run_id request parameter must identify the resource that contains the source.",
    "Invalid value 'abc' for parameter 'max_results' supplied: expected an integer",
    'Registered Model (name=m1) already exists.',
    'Endpoint not found: /api/2.0/mlflow/nope. See https://mlflow.org/docs/latest/rest-api.html',
    "Changing param values is not allowed. Param with key='b' was already logged with value='1' for run ID='16b25c50b1f043afbd780d0ca8dda556'.",
  ]) {
    const body = JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message });
    const out = clean(body);
    assert.equal(out.body.toString(), body, message);
    assert.equal(out.withheld, undefined);
  }
});

test('FastAPI shapes ({detail}, validation lists) are scrubbed where the internals are', () => {
  const out = clean(JSON.stringify({ detail: [{ loc: ['body'], msg: 'ok' }, { loc: ['path'], msg: "(sqlite3.OperationalError) database is locked [SQL: SELECT 1]" }] }), 422);
  assert.deepEqual(JSON.parse(out.body.toString()), { detail: [{ loc: ['body'], msg: 'ok' }, { loc: ['path'], msg: WITHHELD_MESSAGE }] });
});

test('an answer too long to inspect, or nested beyond reason, is withheld whole with its error code', () => {
  const long = cleanErrorAnswer(400, Buffer.from(`{"error_code": "INVALID_PARAMETER_VALUE", "message": "${'x'.repeat(MAX_ERROR_ANSWER_BYTES)}`), false);
  assert.deepEqual(JSON.parse(long.body.toString()), { error_code: 'INVALID_PARAMETER_VALUE', message: WITHHELD_MESSAGE });
  assert.ok(long.withheld);
  const noCode = cleanErrorAnswer(503, Buffer.from('{"detail": "'), false);
  assert.deepEqual(JSON.parse(noCode.body.toString()), { error_code: 'TEMPORARILY_UNAVAILABLE', message: WITHHELD_MESSAGE });
  const deep = clean(`${'['.repeat(5000)}"x"${']'.repeat(5000)}`, 500);
  assert.deepEqual(JSON.parse(deep.body.toString()), { error_code: 'INTERNAL_ERROR', message: WITHHELD_MESSAGE });
});

test('labelled JSON that is not: withheld only if its text names internals', () => {
  assert.equal(clean('not json').body.toString(), 'not json');
  assert.deepEqual(JSON.parse(clean('oops [SQL: SELECT 1]', 500).body.toString()), { error_code: 'INTERNAL_ERROR', message: WITHHELD_MESSAGE });
});

test('only JSON error answers are inspected', () => {
  assert.equal(isInspectedError(400, 'application/json'), true);
  assert.equal(isInspectedError(500, 'application/problem+json; charset=utf-8'), true);
  assert.equal(isInspectedError(200, 'application/json'), false);
  assert.equal(isInspectedError(500, 'text/html; charset=utf-8'), false);
  assert.equal(isInspectedError(404, undefined), false);
});

test('credentials in a URL are blanked in the audit copy too', () => {
  const out = clean(JSON.stringify({ error_code: 'INTERNAL_ERROR', message: '(psycopg2.OperationalError) could not connect to postgresql://mlflow:hunter2@db:5432/mlflow' }), 500);
  assert.doesNotMatch(out.withheld ?? '', /hunter2/);
  assert.match(out.withheld ?? '', /mlflow:\*\*\*@db/);
});
