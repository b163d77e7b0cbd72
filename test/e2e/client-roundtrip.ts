/**
 * The end-to-end proof shared by the workspace and non-workspace suites: the stock MLflow
 * Python client does a full tracking and registry round trip through Gatehouse, against a
 * real MLflow; the UI's index page and an /ajax-api call answer through it too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, ADMIN_PASSWORD, ADMIN_USER, spawnGatehouse, type Spawned } from '../harness/gatehouse.ts';
import { runPython } from '../harness/python-client.ts';
import { ROOT } from '../harness/paths.ts';

export function clientRoundTripSuite(workspaces: boolean): void {
  let mlflow: MlflowServer;
  let gh: Spawned;

  before(async () => {
    mlflow = await startMlflow({ workspaces });
    gh = await spawnGatehouse(mlflow.url);
  });
  after(async () => {
    await gh?.stop();
    await mlflow?.stop();
  });

  test(`stock MLflow client round trip through Gatehouse (workspaces ${workspaces ? 'on' : 'off'})`, async () => {
    const r = await runPython(join(ROOT, 'test/e2e/client_roundtrip.py'), {
      MLFLOW_TRACKING_URI: gh.url,
      MLFLOW_TRACKING_USERNAME: ADMIN_USER,
      MLFLOW_TRACKING_PASSWORD: ADMIN_PASSWORD,
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    });
    assert.equal(r.code, 0, `client script failed:\n${r.stderr.slice(-6000)}`);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.deepEqual(summary, {
      mlflow_version: '3.18.0',
      experiment_created: true,
      experiment_by_name: true,
      params: true,
      metrics: true,
      metric_history_len: 200,
      tags: true,
      artifact_listed: true,
      artifact_bytes: 50 * 1024 * 1024,
      artifact_identical: true,
      model_versions: 1,
      alias: true,
      prediction: 21,
      runs_paged: { runs: 7, unique: 7, pages: 3 },
      experiments_paged: 5,
      run_deleted: true,
      run_restored: true,
      experiment_deleted: true,
      experiment_restored: true,
    });
  });

  test('the same client without credentials gets a readable 401', async () => {
    const r = await runPython(join(ROOT, 'test/e2e/client_roundtrip.py'), { MLFLOW_TRACKING_URI: gh.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UNAUTHENTICATED|401/);
  });

  test('the MLflow UI loads through Gatehouse: index, a static asset, an /ajax-api call', async () => {
    const auth = { authorization: ADMIN_AUTH };
    const index = await fetch(`${gh.url}/`, { headers: auth });
    assert.equal(index.status, 200);
    const html = await index.text();
    assert.match(html, /<html/i);
    const asset = /(?:src|href)="\.?\/?(static-files\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'index.html references a static script');
    const js = await fetch(`${gh.url}/${asset}`);
    assert.equal(js.status, 200, `static asset ${asset} is public`);
    const search = await fetch(`${gh.url}/ajax-api/2.0/mlflow/experiments/search`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ max_results: 20 }),
    });
    assert.equal(search.status, 200);
    const body = (await search.json()) as { experiments: { name: string }[] };
    assert.ok(body.experiments.some((e) => e.name === 'Default'));
    const unauth = await fetch(`${gh.url}/`);
    assert.equal(unauth.status, 401);
  });
}
