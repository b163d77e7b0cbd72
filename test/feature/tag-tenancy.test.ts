/**
 * Tag-mode tenancy against a real MLflow 3.18 without workspaces, over raw HTTP: stamping at
 * creation, the tenant check on every call (another tenant's resource answers exactly like a
 * missing one), the tag's protection, and constrained, complete searches. The stock-client
 * matrix is test/e2e/authorization-tag.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, callJson, startInProcess, type InProcess, createUsers } from '../harness/gatehouse.ts';

const PASSWORD = 'a-long-test-password';
const KEY = 'gatehouse.tenant';
let mlflow: MlflowServer;
let gh: InProcess;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

async function call(user: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const a = await callJson(`${gh.url}${path}`, method, { authorization: basic(user, PASSWORD), ...headers }, body);
  return { status: a.status, body: a.json, text: a.text };
}

/** What MLflow itself holds, read directly (no gateway). */
async function direct(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${mlflow.url}${path}`);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

const tagsOf = (o: unknown): Record<string, string> =>
  Object.fromEntries(((o as { tags?: { key: string; value: string }[] }).tags ?? []).map((t) => [t.key, t.value]));

const ids: Record<string, string> = {};

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    tenancy: { mode: 'tag' },
    tenants: [
      { name: 'team-a', members: { groups: ['team-a'] } },
      { name: 'team-b', members: { groups: ['team-b'] } },
    ],
    groups: [
      { name: 'admins', members: ['ada'] },
      { name: 'team-a', members: ['alice', 'rita'] },
      { name: 'team-b', members: ['bob'] },
    ],
    bindings: [
      { role: 'admin', group: 'admins' },
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'viewer', user: 'rita', tenant: 'team-a' },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
    ],
  });
  await createUsers(gh, ['ada', 'alice', 'rita', 'bob'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

describe('tag mode on a real MLflow without workspaces', () => {
  test('creates are stamped with the caller\'s tenant; a body naming the tag is refused', async () => {
    const exp = await call('alice', 'POST', '/api/2.0/mlflow/experiments/create', { name: 'alice-exp', tags: [{ key: 'team', value: 'x' }] });
    assert.equal(exp.status, 200, exp.text);
    ids.expA = String(exp.body.experiment_id);
    const stored = await direct(`/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`);
    assert.deepEqual(tagsOf(stored.experiment), { team: 'x', [KEY]: 'team-a' });

    const model = await call('alice', 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'alice-model' });
    assert.equal(model.status, 200, model.text);
    assert.equal(tagsOf((await direct('/api/2.0/mlflow/registered-models/get?name=alice-model')).registered_model)[KEY], 'team-a');

    for (const key of [KEY, 'Gatehouse.Tenant', ` ${KEY}`]) {
      const forged = await call('bob', 'POST', '/api/2.0/mlflow/experiments/create', { name: `bob-forged-${key.trim()}`, tags: [{ key, value: 'team-a' }] });
      assert.equal(forged.status, 403, forged.text);
      assert.equal(forged.body.error_code, 'PERMISSION_DENIED');
    }
    const names = ((await direct('/api/2.0/mlflow/experiments/search?max_results=1000')).experiments as { name: string }[]).map((e) => e.name);
    assert.ok(!names.some((n) => n.startsWith('bob-forged')), 'nothing reached MLflow');

    const bobExp = await call('bob', 'POST', '/api/2.0/mlflow/experiments/create', { name: 'bob-exp' });
    assert.equal(bobExp.status, 200, bobExp.text);
    ids.expB = String(bobExp.body.experiment_id);
    const run = await call('alice', 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: ids.expA });
    assert.equal(run.status, 200, run.text);
    ids.runA = String((run.body.run as { info: { run_id: string } }).info.run_id);
  });

  test('another tenant\'s resources answer exactly like missing ones, and nothing is written', async () => {
    const missingExp = await call('bob', 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=987654');
    const foreignExp = await call('bob', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`);
    assert.equal(foreignExp.status, 404);
    assert.equal(foreignExp.status, missingExp.status);
    assert.equal(foreignExp.text, missingExp.text);

    const missingRun = await call('bob', 'POST', '/api/2.0/mlflow/runs/log-metric', { run_id: 'f'.repeat(32), key: 'm', value: 1, timestamp: 1, step: 0 });
    const foreignRun = await call('bob', 'POST', '/api/2.0/mlflow/runs/log-metric', { run_id: ids.runA, key: 'm', value: 1, timestamp: 1, step: 0 });
    assert.equal(foreignRun.status, 404);
    assert.equal(foreignRun.text, missingRun.text);
    const stored = (await direct(`/api/2.0/mlflow/runs/get?run_id=${ids.runA}`)).run as { data: { metrics?: unknown[] } };
    assert.equal(stored.data.metrics, undefined, 'no metric reached MLflow');

    const foreignModel = await call('bob', 'GET', '/api/2.0/mlflow/registered-models/get?name=alice-model');
    const missingModel = await call('bob', 'GET', '/api/2.0/mlflow/registered-models/get?name=no-such-model');
    assert.equal(foreignModel.status, 404);
    assert.equal(foreignModel.text, missingModel.text);
    // The /ajax-api twin is the same route.
    assert.equal((await call('bob', 'GET', `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`)).status, 404);
    // The owner's own tenant works.
    assert.equal((await call('alice', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`)).status, 200);
    assert.equal((await call('rita', 'GET', `/api/2.0/mlflow/runs/get?run_id=${ids.runA}`)).status, 200);
  });

  test('untagged resources (MLflow\'s Default experiment) belong to no tenant; a run without an experiment is refused', async () => {
    assert.equal((await call('alice', 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0')).status, 404);
    const noExperiment = await call('alice', 'POST', '/api/2.0/mlflow/runs/create', {});
    assert.equal(noExperiment.status, 403, noExperiment.text);
    assert.equal((await call('ada', 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0')).status, 200, 'administrators see it');
  });

  test('the tenant tag cannot be set or deleted by members on any tag route; an administrator moves a resource', async () => {
    const attempts: [string, string, unknown][] = [
      ['POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: ids.expA, key: KEY, value: 'team-b' }],
      ['POST', '/api/2.0/mlflow/experiments/delete-experiment-tag', { experiment_id: ids.expA, key: KEY }],
      ['POST', '/api/2.0/mlflow/registered-models/set-tag', { name: 'alice-model', key: 'GATEHOUSE.TENANT', value: 'team-b' }],
      ['DELETE', '/api/2.0/mlflow/registered-models/delete-tag', { name: 'alice-model', key: KEY }],
      ['POST', '/api/2.0/mlflow/runs/set-tag', { run_id: ids.runA, key: KEY, value: 'team-b' }],
      ['POST', '/api/2.0/mlflow/runs/log-batch', { run_id: ids.runA, tags: [{ key: KEY, value: 'team-b' }] }],
      ['POST', '/ajax-api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: ids.expA, key: KEY, value: 'team-b' }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await call('alice', method, path, body);
      assert.equal(r.status, 403, `${path}: ${r.text}`);
      assert.equal(r.body.error_code, 'PERMISSION_DENIED', path);
    }
    assert.equal(tagsOf((await direct(`/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`)).experiment)[KEY], 'team-a');
    assert.equal(tagsOf((await direct('/api/2.0/mlflow/registered-models/get?name=alice-model')).registered_model)[KEY], 'team-a');
    assert.equal(tagsOf((await direct(`/api/2.0/mlflow/runs/get?run_id=${ids.runA}`)).run && ((await direct(`/api/2.0/mlflow/runs/get?run_id=${ids.runA}`)).run as { data: unknown }).data)[KEY], undefined);

    // Ordinary tags still work for members.
    assert.equal((await call('alice', 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: ids.expA, key: 'stage', value: 'dev' })).status, 200);

    // An administrator moves alice's experiment to team-b: effective at once on this replica.
    const moved = await call('ada', 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: ids.expA, key: KEY, value: 'team-b' });
    assert.equal(moved.status, 200, moved.text);
    assert.equal((await call('alice', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`)).status, 404);
    assert.equal((await call('bob', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`)).status, 200);
    assert.equal((await call('ada', 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: ids.expA, key: KEY, value: 'team-a' })).status, 200);
    assert.equal((await call('alice', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${ids.expA}`)).status, 200);
  });

  test('searches return only the tenant\'s resources, in complete pages, and refuse filters that cannot be constrained safely', async () => {
    for (let i = 0; i < 7; i++) {
      assert.equal((await call('alice', 'POST', '/api/2.0/mlflow/experiments/create', { name: `a-page-${i}` })).status, 200);
      assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/experiments/create', { name: `b-page-${i}` })).status, 200);
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await call('alice', 'POST', '/api/2.0/mlflow/experiments/search', { max_results: 3, filter: "name LIKE '%page%'", ...(token && { page_token: token }) });
      assert.equal(page.status, 200, page.text);
      const names = ((page.body.experiments ?? []) as { name: string }[]).map((e) => e.name);
      token = page.body.next_page_token as string | undefined;
      if (token) assert.equal(names.length, 3, 'every page but the last is full');
      seen.push(...names);
    } while (token);
    assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4, 5, 6].map((i) => `a-page-${i}`));

    const all = await call('bob', 'GET', '/api/2.0/mlflow/experiments/search?max_results=1000');
    const bobNames = ((all.body.experiments ?? []) as { name: string }[]).map((e) => e.name).sort();
    assert.deepEqual(bobNames, ['b-page-0', 'b-page-1', 'b-page-2', 'b-page-3', 'b-page-4', 'b-page-5', 'b-page-6', 'bob-exp']);

    // Bob's filter naming team-a's tag finds nothing: the tenant clause is ANDed, never replaced.
    const sneaky = await call('bob', 'POST', '/api/2.0/mlflow/experiments/search', { filter: `tags.\`${KEY}\` = 'team-a'` });
    assert.equal(sneaky.status, 200, sneaky.text);
    assert.deepEqual(sneaky.body.experiments ?? [], []);

    for (const filter of ["name = 'x' OR name = 'y'", "name = 'a\\'", "name = 'x' -- ", "name = 'x'; select 1"]) {
      const r = await call('bob', 'POST', '/api/2.0/mlflow/experiments/search', { filter });
      assert.equal(r.status, 400, `${filter}: ${r.text}`);
      assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
    }

    const models = await call('bob', 'GET', '/api/2.0/mlflow/registered-models/search');
    assert.equal(models.status, 200, models.text);
    assert.deepEqual(models.body.registered_models ?? [], []);
    const aliceModels = await call('alice', 'GET', '/api/2.0/mlflow/registered-models/search');
    assert.deepEqual(((aliceModels.body.registered_models ?? []) as { name: string }[]).map((m) => m.name), ['alice-model']);
  });

  test('model versions: search filtered by the parent model\'s tenant; a search naming no experiment is refused', async () => {
    const v = await call('alice', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'alice-model', source: `runs:/${ids.runA}/model`, run_id: ids.runA });
    assert.equal(v.status, 200, v.text);
    assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'bob-model' })).status, 200);
    const bobRun = await call('bob', 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: ids.expB });
    const bobRunId = (bobRun.body.run as { info: { run_id: string } }).info.run_id;
    assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: `runs:/${bobRunId}/model`, run_id: bobRunId })).status, 200);
    // A version whose source run is another tenant's is refused as not found.
    assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: `runs:/${ids.runA}/model`, run_id: ids.runA })).status, 404);

    // Copying another tenant's model version (models:/<name>/<version> source) is refused as not found.
    const copy = await call('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: 'models:/alice-model/1' });
    const copyMissing = await call('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: 'models:/no-such-model/1' });
    assert.equal(copy.status, 404, copy.text);
    assert.equal(copy.text, copyMissing.text);
    assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: 'models:/alice-model@champion' })).status, 404);
    assert.equal((await call('alice', 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'alice-copy' })).status, 200);
    const ownCopy = await call('alice', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'alice-copy', source: 'models:/alice-model/1' });
    assert.equal(ownCopy.status, 200, ownCopy.text);

    const bobVersions = await call('bob', 'GET', '/api/2.0/mlflow/model-versions/search');
    assert.deepEqual(((bobVersions.body.model_versions ?? []) as { name: string }[]).map((m) => m.name), ['bob-model']);
    const aliceVersions = await call('alice', 'GET', "/api/2.0/mlflow/model-versions/search?max_results=1&filter=name+%3D+'alice-model'");
    assert.deepEqual(((aliceVersions.body.model_versions ?? []) as { name: string }[]).map((m) => m.name), ['alice-model']);

    assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [ids.expA] })).status, 404);
    assert.equal((await call('bob', 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [] })).status, 403);
    assert.equal((await call('alice', 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [ids.expA] })).status, 200);
  });

  test('GraphQL resolves like REST', async () => {
    const q = { query: 'query { mlflowGetExperiment(input: {experimentId: "' + ids.expA + '"}) { experiment { name } } }' };
    const foreign = await call('bob', 'POST', '/graphql', q);
    assert.equal(foreign.status, 404, foreign.text);
    const own = await call('alice', 'POST', '/graphql', q);
    assert.equal(own.status, 200, own.text);
    assert.match(own.text, /alice-exp/);
  });

  test('a trace id looked up before the client created it (start-trace v3, client-chosen id) is served once MLflow created it', async () => {
    const traceId = `tr-${'7e'.repeat(16)}`;
    // Remembered as missing (the gateway caches "does not exist" like "found": no existence oracle).
    for (let i = 0; i < 2; i++) assert.equal((await call('alice', 'GET', `/api/3.0/mlflow/traces/${traceId}`)).status, 404);
    const started = await call('alice', 'POST', '/api/3.0/mlflow/traces', {
      trace: {
        trace_info: {
          trace_id: traceId,
          trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ids.expA } },
          request_time: '2026-01-01T00:00:00Z',
          state: 'OK',
        },
      },
    });
    assert.equal(started.status, 200, started.text);
    const read = await call('alice', 'GET', `/api/3.0/mlflow/traces/${traceId}`);
    assert.equal(read.status, 200, read.text);
    assert.equal((await call('bob', 'GET', `/api/3.0/mlflow/traces/${traceId}`)).status, 404, 'another tenant: as if missing');
  });
});
