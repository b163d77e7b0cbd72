/**
 * Searches for a principal that may read only some experiments and models: results contain
 * exactly what it may read, every page is full, and page tokens continue correctly — through
 * the stock MLflow client against a real MLflow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { runPython } from '../harness/python-client.ts';
import { ROOT } from '../harness/paths.ts';
import { hashPassword } from '../../src/identity/password.ts';

const PASSWORD = 'filtered-search-password';
let mlflow: MlflowServer;
let gh: InProcess;

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    tenants: [{ name: 'default', members: { users: ['eve', 'vic'] } }],
    bindings: [
      { role: 'contributor', user: 'eve', tenant: 'default', experiment: { namePattern: 'shared-*' } },
      { role: 'viewer', user: 'eve', tenant: 'default', model: { namePattern: 'shared-*' } },
      { role: 'viewer', user: 'vic', tenant: 'default' },
      { role: 'viewer', user: 'vic', effect: 'deny', tenant: 'default', experiment: { namePattern: 'secret-*' } },
    ],
  });
  const hash = await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 });
  for (const u of ['eve', 'vic']) await gh.store.createUser({ username: u, passwordHash: hash, admin: false });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${gh.url}${path}`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
  };
  // Interleaved so that MLflow's own pages mix visible and hidden results.
  for (const name of ['private-1', 'shared-1', 'secret-1', 'shared-2', 'private-2', 'private-3', 'shared-3', 'secret-2', 'shared-4', 'private-4', 'shared-5']) {
    await post('/api/2.0/mlflow/experiments/create', { name });
  }
  for (const name of ['private-m1', 'shared-m1', 'private-m2', 'shared-m2', 'shared-m3', 'private-m3']) await post('/api/2.0/mlflow/registered-models/create', { name });
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

async function as(user: string, actions: unknown[][]) {
  const r = await runPython(join(ROOT, 'test/e2e/authz_actions.py'), {
    MLFLOW_TRACKING_URI: gh.url,
    MLFLOW_TRACKING_USERNAME: user,
    MLFLOW_TRACKING_PASSWORD: PASSWORD,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    GH_ACTIONS: JSON.stringify(actions),
  });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { results: Record<string, { ok: boolean; value?: unknown; code?: string }> }).results;
}

test('experiment-scoped grants: only matching experiments, in full pages, across MLflow pages', async () => {
  const r = await as('eve', [['pages', 'experiment_pages', 2], ['all', 'experiment_names'], ['models', 'model_pages', 2]]);
  // MLflow orders newest first; what matters is full pages and exactly the visible set.
  const pages = r.pages?.value as string[][];
  assert.deepEqual(pages.map((p) => p.length), [2, 2, 1], 'full pages');
  assert.deepEqual(pages.flat().sort(), ['shared-1', 'shared-2', 'shared-3', 'shared-4', 'shared-5']);
  assert.deepEqual(r.all?.value, ['shared-1', 'shared-2', 'shared-3', 'shared-4', 'shared-5']);
  const models = r.models?.value as string[][];
  assert.deepEqual(models.map((p) => p.length), [2, 1]);
  assert.deepEqual(models.flat().sort(), ['shared-m1', 'shared-m2', 'shared-m3']);
});

test('a resource-scoped deny removes exactly the denied experiments from a tenant-wide reader\'s search', async () => {
  const r = await as('vic', [['pages', 'experiment_pages', 4]]);
  const pages = r.pages?.value as string[][];
  assert.deepEqual(pages.map((p) => p.length), [4, 4, 2], 'full pages');
  assert.deepEqual(pages.flat().sort(), ['Default', 'private-1', 'private-2', 'private-3', 'private-4', 'shared-1', 'shared-2', 'shared-3', 'shared-4', 'shared-5'].sort());
});

test('a page token not issued by the gateway is refused', async () => {
  const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/search`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`eve:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ max_results: 2, page_token: 'eyJvZmZzZXQiOiAyfQ==' }),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_REQUEST_BAD_PAGE_TOKEN');
});
