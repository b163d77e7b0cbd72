/**
 * The header allow-lists, the caching rule and error hygiene against a real MLflow 3.18 (SQLite
 * backend, proxied artifacts): what MLflow needs still arrives (Range and conditional artifact
 * downloads on both of its download paths, OTLP with Content-Encoding), what it says about
 * itself does not leave, and its database errors reach the client without their SQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { WITHHELD_MESSAGE } from '../../src/upstream/error-hygiene.ts';

let mlflow: MlflowServer;
let gh: InProcess;
let dir: string;
let runId: string;
const FILE = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

async function call(method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { authorization: ADMIN_AUTH, ...(typeof init.body === 'string' && { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body !== undefined && { body: init.body }),
  });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}
const json = (b: Buffer) => JSON.parse(b.toString('utf8')) as Record<string, unknown>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-e2e-headers-'));
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, { 'rateLimits.enabled': false, 'audit.sinks': [{ type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }] });
  const exp = json((await call('POST', '/api/2.0/mlflow/experiments/create', { body: JSON.stringify({ name: 'headers-e2e' }) })).bytes);
  const run = json((await call('POST', '/api/2.0/mlflow/runs/create', { body: JSON.stringify({ experiment_id: exp.experiment_id }) })).bytes) as { run: { info: { run_id: string; experiment_id: string } } };
  runId = run.run.info.run_id;
  const put = await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${run.run.info.experiment_id}/${runId}/artifacts/f.txt`, { body: FILE, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(put.res.status, 200);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('error hygiene against MLflow\'s own errors', () => {
  test('a taken experiment name: MLflow\'s 400 RESOURCE_ALREADY_EXISTS arrives without its SQL; the audit keeps the original', async () => {
    const { res, bytes } = await call('POST', '/api/2.0/mlflow/experiments/create', { body: JSON.stringify({ name: 'headers-e2e' }) });
    assert.equal(res.status, 400);
    const body = json(bytes);
    assert.equal(body.error_code, 'RESOURCE_ALREADY_EXISTS');
    assert.equal(body.message, WITHHELD_MESSAGE);
    assert.doesNotMatch(bytes.toString(), /sqlite|INSERT|experiments\.name|constraint|parameters/i);
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    const requestId = res.headers.get('x-request-id')!;
    let event: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && !event; i++) {
      await new Promise((r) => setTimeout(r, 10));
      event = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e.requestId === requestId && e.phase === 'complete');
    }
    assert.ok(event, 'audit event written');
    assert.match(String(event.detail), /UNIQUE constraint failed: experiments\.workspace, experiments\.name/);
    assert.match(String(event.detail), /\[parameters: withheld\]/);
    assert.equal(event.status, 400);
  });

  test('MLflow\'s ordinary errors pass unchanged', async () => {
    const param = (value: string) => call('POST', '/api/2.0/mlflow/runs/log-parameter', { body: JSON.stringify({ run_id: runId, key: 'p', value }) });
    assert.equal((await param('1')).res.status, 200);
    const { res, bytes } = await param('2');
    assert.equal(res.status, 400);
    const body = json(bytes);
    assert.equal(body.error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(String(body.message), new RegExp(`Changing param values is not allowed.*${runId}`));
  });
});

describe('what MLflow needs still reaches it', () => {
  test('Range and If-Range on the proxied artifact download (FastAPI, Starlette FileResponse)', async () => {
    const path = `/api/2.0/mlflow-artifacts/artifacts/1/${runId}/artifacts/f.txt`;
    const ranged = await call('GET', path, { headers: { range: 'bytes=2-5' } });
    assert.equal(ranged.res.status, 206);
    assert.equal(ranged.bytes.toString(), '2345');
    assert.equal(ranged.res.headers.get('content-range'), `bytes 2-5/${FILE.length}`);
    const etag = ranged.res.headers.get('etag');
    assert.ok(etag);
    const same = await call('GET', path, { headers: { range: 'bytes=0-1', 'if-range': etag } });
    assert.equal(same.res.status, 206);
    const stale = await call('GET', path, { headers: { range: 'bytes=0-1', 'if-range': '"stale"' } });
    assert.equal(stale.res.status, 200, 'If-Range reached MLflow: a stale validator gets the whole file');
    assert.equal(stale.bytes.length, FILE.length);
  });

  test('Range and If-None-Match on the run artifact download (Flask get-artifact, werkzeug make_conditional)', async () => {
    const path = `/get-artifact?run_id=${runId}&path=f.txt`;
    const ranged = await call('GET', path, { headers: { range: 'bytes=10-' } });
    assert.equal(ranged.res.status, 206);
    assert.equal(ranged.bytes.toString(), FILE.subarray(10).toString());
    const etag = ranged.res.headers.get('etag');
    assert.ok(etag);
    const unchanged = await call('GET', path, { headers: { 'if-none-match': etag } });
    assert.equal(unchanged.res.status, 304);
  });

  test('OTLP with Content-Encoding: gzip is decoded by MLflow (the header is forwarded on /v1/traces)', async () => {
    const traceId = randomBytes(16).toString('hex');
    const otlp = {
      resourceSpans: [
        { resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'e2e' }, spans: [{ traceId, spanId: randomBytes(8).toString('hex'), name: 'root', kind: 1, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000001000000000', status: {} }] }] },
      ],
    };
    const sent = await call('POST', '/v1/traces', { body: gzipSync(JSON.stringify(otlp)), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-mlflow-experiment-id': '1' } });
    assert.equal(sent.res.status, 200, sent.bytes.toString());
    const got = await call('GET', `/api/3.0/mlflow/traces/get?trace_id=tr-${traceId}`);
    assert.equal(got.res.status, 200, got.bytes.toString());
  });
});

describe('what MLflow says about itself does not leave', () => {
  test('no Server header; API answers are no-store; the UI\'s static files keep MLflow\'s caching', async () => {
    const api = await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=1');
    assert.equal(api.res.status, 200);
    assert.equal(api.res.headers.get('server'), null);
    assert.equal(api.res.headers.get('cache-control'), 'no-store');
    assert.equal(api.res.headers.get('pragma'), 'no-cache');
    assert.equal(api.res.headers.get('x-content-type-options'), 'nosniff');
    const asset = await fetch(`${gh.url}/static-files/favicon.ico`);
    await asset.arrayBuffer();
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /max-age=\d+/);
    assert.equal(asset.headers.get('server'), null);
  });
});
