/**
 * Tag-mode tenancy end to end: ONE real MLflow 3.18 without workspaces, Gatehouse in front with
 * `tenancy.mode: tag`, the stock MLflow Python client as each principal. Two tenants (team-a,
 * team-b) and the enterprise set-up of three groups (admins, readers, model-approvers) plus
 * contributors. MLflow is also read directly, behind the gateway's back, to prove what was and
 * was not written: the tenant tag is stamped, refused writes never landed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { otlpBody, startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, callJson, startInProcess, type InProcess, type JsonAnswer, createUsers, TWO_TENANTS_THREE_GROUPS } from '../harness/gatehouse.ts';
import { clientActions } from '../harness/python-client.ts';
import { ROOT } from '../harness/paths.ts';

const PASSWORD = 'a-long-test-password';
const TAG = 'gatehouse.tenant';
const MISSING_RUN = 'f'.repeat(32);
const MISSING_EXPERIMENT = '987654321';

let mlflow: MlflowServer;
let gh: InProcess;

interface Outcome {
  ok: boolean;
  code?: string;
  gatehouse?: string | null;
  value?: unknown;
  message?: string;
}

const client = clientActions<Outcome>(join(ROOT, 'test/e2e/authz_tag_actions.py'), () => gh.url, PASSWORD, { MLFLOW_ENABLE_ASYNC_TRACE_LOGGING: 'false' });
const values = client.values;
const as = (user: string, actions: unknown[][]) => client.as(user, actions);

const ok = (o: Outcome | undefined, what: string) => assert.equal(o?.ok, true, `${what}: ${JSON.stringify(o)}`);
function refused(o: Outcome | undefined, code: string, what: string, gatehouse?: string) {
  assert.equal(o?.ok, false, `${what} should be refused: ${JSON.stringify(o)}`);
  assert.equal(o?.code, code, `${what}: ${JSON.stringify(o)}`);
  if (gatehouse !== undefined) assert.equal(o?.gatehouse, gatehouse, `${what}: ${JSON.stringify(o)}`);
}
const notFound = (o: Outcome | undefined, what: string) => refused(o, 'RESOURCE_DOES_NOT_EXIST', what);
const tagRefused = (o: Outcome | undefined, what: string) => refused(o, 'PERMISSION_DENIED', what, 'GATEHOUSE_AUTHZ_TENANT_TAG');
const v = (label: string) => String(values[label]);

/** MLflow itself, not through the gateway. */
async function direct(path: string, init?: { method: string; body: unknown }): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${mlflow.url}${path}`, init && { method: init.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}
type Tag = { key: string; value: string };
const tagMap = (tags: unknown): Record<string, string> => Object.fromEntries(((tags ?? []) as Tag[]).map((t) => [t.key, t.value]));
async function experimentTags(id: string) {
  const r = await direct(`/api/2.0/mlflow/experiments/get?experiment_id=${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return tagMap((r.json.experiment as { tags?: unknown }).tags);
}
async function modelTags(name: string) {
  const r = await direct(`/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(name)}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return tagMap((r.json.registered_model as { tags?: unknown }).tags);
}
async function runData(id: string) {
  const r = await direct(`/api/2.0/mlflow/runs/get?run_id=${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const data = (r.json.run as { data: { metrics?: { key: string }[]; params?: { key: string }[]; tags?: unknown } }).data;
  return { metrics: (data.metrics ?? []).map((m) => m.key).sort(), params: (data.params ?? []).map((p) => p.key).sort(), tags: tagMap(data.tags) };
}
/** Every experiment / registered model MLflow holds, with its tenant tag (the oracle for searches). */
async function allExperiments(): Promise<{ name: string; tenant: string | undefined }[]> {
  const r = await direct('/api/2.0/mlflow/experiments/search', { method: 'POST', body: { max_results: 1000 } });
  return ((r.json.experiments ?? []) as { name: string; tags?: unknown }[]).map((e) => ({ name: e.name, tenant: tagMap(e.tags)[TAG] }));
}
async function allModels(): Promise<{ name: string; tenant: string | undefined }[]> {
  const r = await direct('/api/2.0/mlflow/registered-models/search?max_results=1000');
  return ((r.json.registered_models ?? []) as { name: string; tags?: unknown }[]).map((m) => ({ name: m.name, tenant: tagMap(m.tags)[TAG] }));
}

/** A raw call through the gateway: status and body text exactly as the client sees them. */
const raw = (user: string, method: string, path: string, body?: unknown): Promise<JsonAnswer> => callJson(`${gh.url}${path}`, method, { authorization: basic(user, PASSWORD) }, body);

const chunks = (n: number, size: number) => Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));

before(async () => {
  mlflow = await startMlflow();
  assert.equal(mlflow.workspaces, false);
  gh = await startInProcess(mlflow.url, {
    tenancy: { mode: 'tag' },
    ...TWO_TENANTS_THREE_GROUPS.policy,
    'rateLimits.enabled': false,
  });
  await createUsers(gh, TWO_TENANTS_THREE_GROUPS.users, PASSWORD);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

describe('tag-mode tenancy through the stock MLflow client', () => {
  test('a contributor works in its tenant, and MLflow holds the tenant tag on what it created', async () => {
    const r = await as('alice', [
      ['expA', 'create_experiment', 'alice-exp', { team: 'vision' }],
      ['runA', 'create_run', '$expA', { purpose: 'train' }],
      ['metric', 'log_metric', '$runA', 'loss', 0.5],
      ['param', 'log_param', '$runA', 'lr', '0.1'],
      ['batch', 'log_batch', '$runA', { acc: 0.9 }, { epochs: '3' }, { note: 'batch' }],
      ['runTag', 'set_run_tag', '$runA', 'stage', 'dev'],
      ['getRun', 'get_run', '$runA'],
      ['runs', 'search_runs', '$expA'],
      ['getExp', 'get_experiment', '$expA'],
      ['byName', 'get_experiment_by_name', 'alice-exp'],
      ['expTag', 'set_experiment_tag', '$expA', 'owner', 'alice'],
      ['expUntag', 'delete_experiment_tag', '$expA', 'team'],
      ['tmp', 'create_experiment', 'alice-tmp'],
      ['rename', 'rename_experiment', '$tmp', 'alice-tmp-renamed'],
      ['delete', 'delete_experiment', '$tmp'],
      ['artifact', 'log_artifact', '$runA', 'hello.txt', 'hello from team-a'],
      ['artifacts', 'list_artifacts', '$runA'],
      ['download', 'download_artifact', '$runA', 'hello.txt'],
      ['modelA', 'create_model', 'alice-model', { domain: 'vision' }],
      ['modelTag', 'set_model_tag', 'alice-model', 'owner', 'alice'],
      ['version', 'create_version', 'alice-model', '$runA'],
      ['getModel', 'get_model', 'alice-model'],
      ['names', 'experiment_names'],
    ]);
    for (const [k, o] of Object.entries(r)) ok(o, k);
    assert.equal(r.getRun?.value, v('expA'));
    assert.deepEqual(r.runs?.value, [v('runA')]);
    assert.equal(r.getExp?.value, 'alice-exp');
    assert.equal(r.byName?.value, v('expA'));
    assert.deepEqual(r.artifacts?.value, ['hello.txt']);
    assert.equal(r.download?.value, 'hello from team-a');
    assert.equal(r.version?.value, '1');
    assert.deepEqual(r.names?.value, ['alice-exp']);

    // What MLflow itself holds: the tag stamped next to the client's own tags.
    assert.deepEqual(await experimentTags(v('expA')), { [TAG]: 'team-a', owner: 'alice' });
    assert.equal((await experimentTags(v('tmp')))[TAG], 'team-a');
    assert.deepEqual(await modelTags('alice-model'), { [TAG]: 'team-a', domain: 'vision', owner: 'alice' });
    const run = await runData(v('runA'));
    assert.deepEqual(run.metrics, ['acc', 'loss']);
    assert.deepEqual(run.params, ['epochs', 'lr']);
    assert.equal(run.tags.stage, 'dev');
    assert.equal(run.tags[TAG], undefined, 'runs are not stamped: they belong to their experiment');
  });

  test('prompts, logged models and traces belong to the tenant too', async () => {
    const a = await as('alice', [
      ['prompt', 'register_prompt', 'alice-prompt', 'Hello {{name}}'],
      ['loadPrompt', 'load_prompt', 'prompts:/alice-prompt/1'],
      ['loggedModel', 'create_logged_model', '$expA', 'alice-lm'],
      ['getLogged', 'get_logged_model', '$loggedModel'],
      ['trace', 'start_trace', '$expA'],
      ['getTrace', 'get_trace', '$trace'],
    ]);
    for (const [k, o] of Object.entries(a)) ok(o, k);
    assert.equal(a.loadPrompt?.value, 'Hello {{name}}');
    assert.equal(a.getLogged?.value, v('expA'));
    assert.equal(a.getTrace?.value, v('trace'));
    assert.equal((await modelTags('alice-prompt'))[TAG], 'team-a');

    const b = await as('bob', [
      ['loadPrompt', 'load_prompt', 'prompts:/alice-prompt/1'],
      ['getLogged', 'get_logged_model', '$loggedModel'],
      ['loggedTags', 'set_logged_model_tags', '$loggedModel', { stolen: 'yes' }],
      ['getTrace', 'get_trace', '$trace'],
      ['traceTag', 'set_trace_tag', '$trace', 'stolen', 'yes'],
    ]);
    for (const [k, o] of Object.entries(b)) assert.equal(o.ok, false, `bob ${k}: ${JSON.stringify(o)}`);
    notFound(b.getLogged, 'foreign logged model');
    // The client reports a failed logged-model lookup as INVALID_PARAMETER_VALUE ("may not have access"); the raw answer is 404.
    assert.equal(b.loggedTags?.ok, false);
    const rawTags = await raw('bob', 'PATCH', `/api/2.0/mlflow/logged-models/${v('loggedModel')}/tags`, { tags: [{ key: 'stolen', value: 'yes' }] });
    assert.deepEqual([rawTags.status, rawTags.json.error_code], [404, 'RESOURCE_DOES_NOT_EXIST'], rawTags.text);
    notFound(b.traceTag, 'tag a foreign trace');
    const lm = await direct(`/api/2.0/mlflow/logged-models/${v('loggedModel')}`);
    assert.equal(tagMap((lm.json.model as { info: { tags?: unknown } }).info.tags).stolen, undefined, 'the foreign tag did not land');
    const tr = await direct(`/api/3.0/mlflow/traces/${v('trace')}`);
    assert.equal(tr.status, 200, JSON.stringify(tr.json));
    assert.equal(JSON.stringify(tr.json).includes('stolen'), false, 'the foreign trace tag did not land');
  });

  test('another tenant: everything of team-a answers "does not exist", and nothing is written', async () => {
    const before = await runData(v('runA'));
    const r = await as('bob', [
      ['getExp', 'get_experiment', '$expA'],
      ['byName', 'get_experiment_by_name', 'alice-exp'],
      ['getRun', 'get_run', '$runA'],
      ['log', 'log_metric', '$runA', 'bob-metric', 1.0],
      ['param', 'log_param', '$runA', 'bob-param', 'x'],
      ['batch', 'log_batch', '$runA', { 'bob-batch': 1.0 }],
      ['runTag', 'set_run_tag', '$runA', 'bob-tag', 'x'],
      ['expTag', 'set_experiment_tag', '$expA', 'bob-tag', 'x'],
      ['rename', 'rename_experiment', '$expA', 'bob-took-it'],
      ['runInA', 'create_run', '$expA'],
      ['delete', 'delete_experiment', '$expA'],
      ['searchRuns', 'search_runs', '$expA'],
      ['listArtifacts', 'list_artifacts', '$runA'],
      ['getModel', 'get_model', 'alice-model'],
      ['modelTag', 'set_model_tag', 'alice-model', 'bob-tag', 'x'],
      ['versionInA', 'create_version', 'alice-model', '$runA'],
      ['stage', 'transition_stage', 'alice-model', '1', 'Production'],
      ['alias', 'set_alias', 'alice-model', 'bob', '1'],
      ['names', 'experiment_names'],
      ['models', 'model_names'],
      ['expB', 'create_experiment', 'bob-exp'],
      ['runB', 'create_run', '$expB'],
      ['modelB', 'create_model', 'bob-model'],
      ['crossVersion', 'create_version', 'bob-model', '$runA'],
    ]);
    assert.deepEqual(r.byName, { ok: true, value: null }, 'get_experiment_by_name: the client turns RESOURCE_DOES_NOT_EXIST into None');
    for (const k of ['getExp', 'getRun', 'log', 'param', 'batch', 'runTag', 'expTag', 'rename', 'runInA', 'delete', 'searchRuns', 'listArtifacts', 'getModel', 'modelTag', 'versionInA', 'stage', 'alias', 'crossVersion']) {
      notFound(r[k], `bob ${k}`);
    }
    assert.deepEqual(r.names?.value, [], 'bob sees no experiment of team-a (nor the untagged Default)');
    assert.deepEqual(r.models?.value, []);
    for (const k of ['expB', 'runB', 'modelB']) ok(r[k], k);
    assert.equal((await experimentTags(v('expB')))[TAG], 'team-b');
    assert.equal((await modelTags('bob-model'))[TAG], 'team-b');

    // Nothing bob tried reached MLflow's state.
    assert.deepEqual(await runData(v('runA')), before);
    assert.deepEqual(await experimentTags(v('expA')), { [TAG]: 'team-a', owner: 'alice' });
    const exp = await direct(`/api/2.0/mlflow/experiments/get?experiment_id=${v('expA')}`);
    assert.deepEqual([(exp.json.experiment as { name: string }).name, (exp.json.experiment as { lifecycle_stage: string }).lifecycle_stage], ['alice-exp', 'active']);
    const runsInA = await direct('/api/2.0/mlflow/runs/search', { method: 'POST', body: { experiment_ids: [v('expA')] } });
    assert.equal((runsInA.json.runs as unknown[]).length, 1);
    assert.deepEqual(await modelTags('alice-model'), { [TAG]: 'team-a', domain: 'vision', owner: 'alice' });
    const versions = await direct(`/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("name='alice-model'")}`);
    assert.equal((versions.json.model_versions as unknown[]).length, 1);
    assert.equal(((versions.json.model_versions as { current_stage: string }[])[0]!).current_stage, 'None');
    const bobVersions = await direct('/api/2.0/mlflow/model-versions/search?filter=' + encodeURIComponent("name='bob-model'"));
    assert.equal(((bobVersions.json.model_versions ?? []) as unknown[]).length, 0, 'the cross-tenant version was not created');
  });

  test('a foreign resource and a nonexistent one get byte-identical answers', async () => {
    const exp = v('expA');
    const run = v('runA');
    const pairs: [string, string, string, unknown?, unknown?][] = [
      ['GET', `/api/2.0/mlflow/experiments/get?experiment_id=${exp}`, `/api/2.0/mlflow/experiments/get?experiment_id=${MISSING_EXPERIMENT}`],
      ['GET', `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${exp}`, `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${MISSING_EXPERIMENT}`],
      ['GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=alice-exp', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=no-such-exp'],
      ['GET', `/api/2.0/mlflow/runs/get?run_id=${run}`, `/api/2.0/mlflow/runs/get?run_id=${MISSING_RUN}`],
      ['POST', '/api/2.0/mlflow/runs/log-metric', '/api/2.0/mlflow/runs/log-metric', { run_id: run, key: 'k', value: 1, timestamp: 1, step: 0 }, { run_id: MISSING_RUN, key: 'k', value: 1, timestamp: 1, step: 0 }],
      ['GET', '/api/2.0/mlflow/registered-models/get?name=alice-model', '/api/2.0/mlflow/registered-models/get?name=no-such-model'],
      ['GET', '/api/2.0/mlflow/model-versions/get?name=alice-model&version=1', '/api/2.0/mlflow/model-versions/get?name=no-such-model&version=1'],
      ['GET', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/hello.txt`, `/api/2.0/mlflow-artifacts/artifacts/${MISSING_EXPERIMENT}/${run}/artifacts/hello.txt`],
      ['GET', `/api/2.0/mlflow/artifacts/list?run_id=${run}`, `/api/2.0/mlflow/artifacts/list?run_id=${MISSING_RUN}`],
      ['GET', `/api/2.0/mlflow/logged-models/${v('loggedModel')}`, '/api/2.0/mlflow/logged-models/m-00000000000000000000000000000000'],
    ];
    for (const [method, foreign, missing, foreignBody, missingBody] of pairs) {
      const a = await raw('bob', method, foreign, foreignBody);
      const b = await raw('bob', method, missing, missingBody ?? foreignBody);
      assert.equal(a.status, 404, `${foreign}: ${a.text}`);
      assert.equal(a.json.error_code, 'RESOURCE_DOES_NOT_EXIST', foreign);
      assert.deepEqual([a.status, a.text], [b.status, b.text], `${foreign} vs ${missing}`);
    }
    // The owner reads them.
    assert.equal((await raw('alice', 'GET', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/hello.txt`)).text, 'hello from team-a');
  });

  test('readers only read; model approvers register, version, alias and promote; refused writes never land', async () => {
    const rita = await as('rita', [
      ['getRun', 'get_run', '$runA'],
      ['runs', 'search_runs', '$expA'],
      ['getModel', 'get_model', 'alice-model'],
      ['download', 'download_artifact', '$runA', 'hello.txt'],
      ['names', 'experiment_names'],
      ['log', 'log_metric', '$runA', 'rita-metric', 1.0],
      ['runTag', 'set_run_tag', '$runA', 'rita-tag', 'x'],
      ['expTag', 'set_experiment_tag', '$expA', 'rita-tag', 'x'],
      ['create', 'create_experiment', 'rita-exp'],
      ['model', 'create_model', 'rita-model'],
      ['stage', 'transition_stage', 'alice-model', '1', 'Production'],
      ['alias', 'set_alias', 'alice-model', 'rita', '1'],
      ['artifact', 'log_artifact', '$runA', 'rita.txt', 'x'],
    ]);
    for (const k of ['getRun', 'runs', 'getModel', 'download']) ok(rita[k], k);
    assert.deepEqual(rita.names?.value, ['alice-exp']);
    for (const k of ['log', 'runTag', 'expTag', 'create', 'model', 'stage', 'alias', 'artifact']) refused(rita[k], 'PERMISSION_DENIED', `reader ${k}`);

    const mia = await as('mia', [
      ['getRun', 'get_run', '$runA'],
      ['miaModel', 'create_model', 'mia-model'],
      ['version2', 'create_version', 'alice-model', '$runA'],
      ['alias', 'set_alias', 'alice-model', 'champion', '2'],
      ['champion', 'get_alias', 'alice-model', 'champion'],
      ['stage', 'transition_stage', 'alice-model', '2', 'Staging'],
      ['log', 'log_metric', '$runA', 'mia-metric', 1.0],
      ['create', 'create_experiment', 'mia-exp'],
    ]);
    for (const k of ['getRun', 'miaModel', 'version2', 'alias', 'stage']) ok(mia[k], k);
    assert.equal(mia.champion?.value, '2');
    assert.equal(mia.stage?.value, 'Staging');
    for (const k of ['log', 'create']) refused(mia[k], 'PERMISSION_DENIED', `approver ${k}`);
    assert.equal((await modelTags('mia-model'))[TAG], 'team-a');

    const run = await runData(v('runA'));
    assert.deepEqual(run.metrics, ['acc', 'loss'], 'no metric of the reader or the approver landed');
    assert.equal(run.tags['rita-tag'], undefined);
    assert.equal((await experimentTags(v('expA')))['rita-tag'], undefined);
    const v1 = await direct('/api/2.0/mlflow/model-versions/get?name=alice-model&version=1');
    assert.equal((v1.json.model_version as { current_stage: string }).current_stage, 'None');
    const experiments = await allExperiments();
    assert.equal(experiments.some((e) => e.name === 'rita-exp' || e.name === 'mia-exp'), false);
    const artifacts = await direct(`/api/2.0/mlflow-artifacts/artifacts?path=${v('expA')}/${v('runA')}/artifacts`);
    assert.deepEqual(((artifacts.json.files ?? []) as { path: string }[]).map((f) => f.path), ['hello.txt']);
  });

  test('searches: only the tenant\'s items, full pages, working page tokens; unsafe filters refused', async () => {
    // Interleaved so that MLflow's own pages mix the two tenants.
    for (let i = 1; i <= 7; i++) {
      for (const [user, t] of [['alice', 'a'], ['bob', 'b']] as const) {
        assert.equal((await raw(user, 'POST', '/api/2.0/mlflow/experiments/create', { name: `${t}-exp-${i}` })).status, 200);
        assert.equal((await raw(user, 'POST', '/api/2.0/mlflow/registered-models/create', { name: `${t}-model-${i}` })).status, 200);
      }
    }
    const r = await as('alice', [
      ['expPages', 'experiment_pages', 3],
      ['expFiltered', 'experiment_pages', 3, "name LIKE '%-exp-%'"],
      ['expSmuggle', 'experiment_names', "tags.`gatehouse.tenant` = 'team-b'"],
      ['modelPages', 'model_pages', 3],
      ['modelFiltered', 'model_pages', 3, "name LIKE '%-model-%'"],
      ['modelSmuggle', 'model_names', "tags.`gatehouse.tenant` = 'team-b'"],
      ['versionPages', 'version_pages', 1],
      ['orFilter', 'experiment_names', "name = 'a-exp-1' OR name = 'b-exp-1'"],
    ]);
    const teamA = (await allExperiments()).filter((e) => e.tenant === 'team-a').map((e) => e.name).sort();
    const expPages = r.expPages?.value as string[][];
    assert.deepEqual(expPages.map((p) => p.length), chunks(teamA.length, 3), `full pages: ${JSON.stringify(expPages)}`);
    assert.deepEqual(expPages.flat().sort(), teamA);
    const filtered = r.expFiltered?.value as string[][];
    assert.deepEqual(filtered.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(filtered.flat().sort(), ['a-exp-1', 'a-exp-2', 'a-exp-3', 'a-exp-4', 'a-exp-5', 'a-exp-6', 'a-exp-7']);
    assert.deepEqual(r.expSmuggle?.value, [], 'a filter naming the other tenant finds nothing');

    const modelsA = (await allModels()).filter((m) => m.tenant === 'team-a').map((m) => m.name).sort();
    const modelPages = r.modelPages?.value as string[][];
    assert.deepEqual(modelPages.map((p) => p.length), chunks(modelPages.flat().length, 3), `full pages: ${JSON.stringify(modelPages)}`);
    assert.deepEqual(modelPages.flat().sort(), modelsA);
    const modelFiltered = r.modelFiltered?.value as string[][];
    assert.deepEqual(modelFiltered.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(modelFiltered.flat().sort(), ['a-model-1', 'a-model-2', 'a-model-3', 'a-model-4', 'a-model-5', 'a-model-6', 'a-model-7']);
    assert.deepEqual(r.modelSmuggle?.value, []);
    const versionPages = r.versionPages?.value as string[][];
    assert.ok(versionPages.every((p) => p.length === 1), `full pages: ${JSON.stringify(versionPages)}`);
    // The oracle: every version MLflow holds whose registered model (prompts included) is team-a's.
    const teamAModelNames = new Set([...modelsA, ...((await modelTags('alice-prompt'))[TAG] === 'team-a' ? ['alice-prompt'] : [])]);
    const allVersions = await direct('/api/2.0/mlflow/model-versions/search?max_results=1000');
    const expectedVersions = ((allVersions.json.model_versions ?? []) as { name: string; version: string }[]).filter((mv) => teamAModelNames.has(mv.name)).map((mv) => `${mv.name}/${mv.version}`).sort();
    assert.ok(expectedVersions.includes('alice-model/2'));
    assert.deepEqual(versionPages.flat().sort(), expectedVersions);
    refused(r.orFilter, 'INVALID_PARAMETER_VALUE', 'OR filter');

    // Raw HTTP: the GET form, the /ajax-api twin, and filters that cannot be parsed safely.
    const get = await raw('alice', 'GET', '/api/2.0/mlflow/experiments/search?max_results=100');
    assert.equal(get.status, 200, get.text);
    assert.deepEqual(((get.json.experiments ?? []) as { name: string }[]).map((e) => e.name).sort(), teamA);
    const ajax = await raw('bob', 'POST', '/ajax-api/2.0/mlflow/experiments/search', { max_results: 100 });
    assert.equal(ajax.status, 200, ajax.text);
    assert.deepEqual(((ajax.json.experiments ?? []) as { name: string }[]).map((e) => e.name).sort(), (await allExperiments()).filter((e) => e.tenant === 'team-b').map((e) => e.name).sort());
    const before = gh.events.length;
    const unsafe: [string, string, unknown?][] = [
      ['POST', '/api/2.0/mlflow/experiments/search', { filter: "name = 'x' OR name = 'y'" }],
      ['POST', '/api/2.0/mlflow/experiments/search', { filter: "name = 'a\\'" }],
      ['POST', '/api/2.0/mlflow/experiments/search', { filter: "name = 'a' -- " }],
      ['POST', '/ajax-api/2.0/mlflow/experiments/search', { filter: "(name = 'a')" }],
      ['GET', `/api/2.0/mlflow/experiments/search?filter=${encodeURIComponent("name = 'x' OR name = 'y'")}`],
      ['GET', `/api/2.0/mlflow/registered-models/search?filter=${encodeURIComponent("name = 'x' OR name = 'y'")}`],
      ['GET', `/api/2.0/mlflow/registered-models/search?filter=${encodeURIComponent("name = 'a\\'")}`],
    ];
    for (const [method, path, body] of unsafe) {
      const res = await raw('alice', method, path, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.error_code, 'INVALID_PARAMETER_VALUE');
    }
    const events = gh.events.slice(before);
    assert.equal(events.length, unsafe.length);
    for (const e of events) assert.equal(e.ctx.upstreamStatus, undefined, 'an unsafe filter reached MLflow');
  });

  test('the tenant tag cannot be set or deleted by a non-admin on any route that writes tags', async () => {
    const runsBefore = await direct('/api/2.0/mlflow/runs/search', { method: 'POST', body: { experiment_ids: [v('expA')] } });
    const r = await as('alice', [
      ['expSet', 'set_experiment_tag', '$expA', TAG, 'team-b'],
      ['expSetCase', 'set_experiment_tag', '$expA', 'Gatehouse.Tenant', 'team-b'],
      ['expDelete', 'delete_experiment_tag', '$expA', TAG],
      ['modelSet', 'set_model_tag', 'alice-model', TAG, 'team-b'],
      ['modelDelete', 'delete_model_tag', 'alice-model', TAG],
      ['runSet', 'set_run_tag', '$runA', TAG, 'team-b'],
      ['runDelete', 'delete_run_tag', '$runA', TAG],
      ['batch', 'log_batch', '$runA', { 'batch-metric': 1.0 }, {}, { [TAG]: 'team-b' }],
      ['runCreate', 'create_run', '$expA', { [TAG]: 'team-b' }],
      ['expCreate', 'create_experiment', 'sneaky-exp', { [TAG]: 'team-b' }],
      ['modelCreate', 'create_model', 'sneaky-model', { [TAG]: 'team-b' }],
      ['versionSet', 'set_version_tag', 'alice-model', '1', TAG, 'team-b'],
      ['loggedSet', 'set_logged_model_tags', '$loggedModel', { [TAG]: 'team-b' }],
      ['traceSet', 'set_trace_tag', '$trace', TAG, 'team-b'],
    ]);
    for (const [k, o] of Object.entries(r)) tagRefused(o, k);

    assert.deepEqual(await experimentTags(v('expA')), { [TAG]: 'team-a', owner: 'alice' });
    assert.deepEqual(await modelTags('alice-model'), { [TAG]: 'team-a', domain: 'vision', owner: 'alice' });
    const run = await runData(v('runA'));
    assert.equal(run.tags[TAG], undefined);
    assert.equal(run.metrics.includes('batch-metric'), false, 'the refused batch wrote nothing at all');
    const runsAfter = await direct('/api/2.0/mlflow/runs/search', { method: 'POST', body: { experiment_ids: [v('expA')] } });
    assert.equal((runsAfter.json.runs as unknown[]).length, (runsBefore.json.runs as unknown[]).length);
    assert.equal((await direct('/api/2.0/mlflow/experiments/get-by-name?experiment_name=sneaky-exp')).status, 404);
    assert.equal((await direct('/api/2.0/mlflow/registered-models/get?name=sneaky-model')).status, 404);
    const mv = await direct('/api/2.0/mlflow/model-versions/get?name=alice-model&version=1');
    assert.equal(tagMap((mv.json.model_version as { tags?: unknown }).tags)[TAG], undefined);
    const lm = await direct(`/api/2.0/mlflow/logged-models/${v('loggedModel')}`);
    assert.equal(tagMap((lm.json.model as { info: { tags?: unknown } }).info.tags)[TAG], undefined);
    const tr = await direct(`/api/3.0/mlflow/traces/${v('trace')}`);
    assert.equal(tr.status, 200, JSON.stringify(tr.json));
    assert.equal(((tr.json.trace as { trace_info: { tags?: Record<string, string> } }).trace_info.tags ?? {})[TAG], undefined);

    // Raw HTTP, both prefixes, including spellings the client would not send.
    const attempts: [string, string, unknown][] = [
      ['POST', '/ajax-api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: v('expA'), key: TAG, value: 'team-b' }],
      ['POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: v('expA'), key: ` ${TAG.toUpperCase()}`, value: 'team-b' }],
      ['POST', '/ajax-api/2.0/mlflow/runs/log-batch', { run_id: v('runA'), tags: [{ key: TAG, value: 'team-b' }] }],
      ['POST', '/api/2.0/mlflow/registered-models/create', { name: 'sneaky-2', tags: [{ key: 'x', value: 'y' }, { key: TAG, value: 'team-b' }] }],
      ['POST', '/ajax-api/2.0/mlflow/experiments/create', { name: 'sneaky-3', tags: [{ key: TAG.toUpperCase(), value: 'team-b' }] }],
      ['POST', '/api/2.0/mlflow/model-versions/set-tag', { name: 'alice-model', version: '1', key: TAG, value: 'team-b' }],
      ['PATCH', `/api/3.0/mlflow/traces/${v('trace')}/tags`, { key: TAG, value: 'team-b' }],
      ['DELETE', '/ajax-api/2.0/mlflow/registered-models/delete-tag', { name: 'alice-model', key: TAG }],
      ['PATCH', `/api/2.0/mlflow/logged-models/${v('loggedModel')}/tags`, { tags: [{ key: TAG, value: 'team-b' }] }],
      ['DELETE', `/api/2.0/mlflow/logged-models/${v('loggedModel')}/tags/${TAG}`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await raw('alice', method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.deepEqual([res.json.error_code, res.json.gatehouse_code], ['PERMISSION_DENIED', 'GATEHOUSE_AUTHZ_TENANT_TAG'], `${method} ${path}`);
    }
    assert.deepEqual(await experimentTags(v('expA')), { [TAG]: 'team-a', owner: 'alice' });
    assert.equal((await direct('/api/2.0/mlflow/registered-models/get?name=sneaky-2')).status, 404);
    assert.equal((await direct('/api/2.0/mlflow/experiments/get-by-name?experiment_name=sneaky-3')).status, 404);
  });

  test('trace tags written when a trace is started (StartTraceV3, trace.trace_info.tags) are protected too', async () => {
    // The Python client sends a trace's tags (mlflow.update_current_trace(tags=...)) in this body.
    const traceId = `tr-${'7'.repeat(32)}`;
    const res = await raw('alice', 'POST', '/api/3.0/mlflow/traces', {
      trace: {
        trace_info: {
          trace_id: traceId,
          trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: v('expA') } },
          request_time: '2024-01-01T00:00:00Z',
          state: 'OK',
          tags: { [TAG]: 'team-b' },
        },
      },
    });
    const landed = await direct(`/api/3.0/mlflow/traces/${traceId}`);
    assert.equal(landed.status, 404, `the trace with the tenant tag was written: ${JSON.stringify(landed.json).slice(0, 300)}`);
    assert.equal(res.status, 403, res.text);
    assert.deepEqual([res.json.error_code, res.json.gatehouse_code], ['PERMISSION_DENIED', 'GATEHOUSE_AUTHZ_TENANT_TAG']);
  });

  test('an admin moves an experiment and a model to team-b: bob sees them now, alice no longer', async () => {
    const a = await as('alice', [
      ['movingExp', 'create_experiment', 'moving-exp'],
      ['movingRun', 'create_run', '$movingExp'],
      ['movingModel', 'create_model', 'moving-model'],
      ['seeExp', 'get_experiment', '$movingExp'],
      ['seeRun', 'get_run', '$movingRun'],
      ['seeModel', 'get_model', 'moving-model'],
    ]);
    for (const [k, o] of Object.entries(a)) ok(o, k);
    const ada = await as('ada', [
      ['moveExp', 'set_experiment_tag', '$movingExp', TAG, 'team-b'],
      ['moveModel', 'set_model_tag', 'moving-model', TAG, 'team-b'],
    ]);
    ok(ada.moveExp, 'admin moves the experiment');
    ok(ada.moveModel, 'admin moves the model');
    assert.equal((await experimentTags(v('movingExp')))[TAG], 'team-b');
    assert.equal((await modelTags('moving-model'))[TAG], 'team-b');
    // The gateway forgets what it cached about the experiment when its tag changes through it.
    const bob = await as('bob', [
      ['exp', 'get_experiment', '$movingExp'],
      ['run', 'get_run', '$movingRun'],
      ['model', 'get_model', 'moving-model'],
      ['log', 'log_metric', '$movingRun', 'bob-now', 1.0],
    ]);
    for (const [k, o] of Object.entries(bob)) ok(o, `bob ${k}`);
    const alice = await as('alice', [
      ['exp', 'get_experiment', '$movingExp'],
      ['run', 'get_run', '$movingRun'],
      ['model', 'get_model', 'moving-model'],
      ['log', 'log_metric', '$movingRun', 'alice-late', 1.0],
    ]);
    for (const [k, o] of Object.entries(alice)) notFound(o, `alice ${k}`);
    assert.deepEqual((await runData(v('movingRun'))).metrics, ['bob-now']);
  });

  test('the untagged Default experiment and resources made behind the gateway\'s back are for admins only', async () => {
    const behind = await direct('/api/2.0/mlflow/experiments/create', { method: 'POST', body: { name: 'made-behind' } });
    assert.equal(behind.status, 200);
    values.behind = behind.json.experiment_id;
    const alice = await as('alice', [
      ['default', 'get_experiment', '0'],
      ['runInDefault', 'create_run', '0'],
      ['behind', 'get_experiment', '$behind'],
      ['runBehind', 'create_run', '$behind'],
    ]);
    for (const [k, o] of Object.entries(alice)) notFound(o, `alice ${k}`);
    const noExperiment = await raw('alice', 'POST', '/api/2.0/mlflow/runs/create', { start_time: 1 });
    assert.ok(noExperiment.status === 403 || noExperiment.status === 404, `runs/create without experiment_id: ${noExperiment.status} ${noExperiment.text}`);
    const ajaxNoExperiment = await raw('bob', 'POST', '/ajax-api/2.0/mlflow/runs/create', {});
    assert.ok(ajaxNoExperiment.status === 403 || ajaxNoExperiment.status === 404, ajaxNoExperiment.text);
    for (const id of ['0', String(values.behind)]) {
      const runs = await direct('/api/2.0/mlflow/runs/search', { method: 'POST', body: { experiment_ids: [id] } });
      assert.equal(((runs.json.runs ?? []) as unknown[]).length, 0, `a run landed in experiment ${id}`);
    }
    const ada = await as('ada', [
      ['default', 'get_experiment', '0'],
      ['behind', 'get_experiment', '$behind'],
      ['names', 'experiment_names'],
    ]);
    assert.equal(ada.default?.value, 'Default');
    assert.equal(ada.behind?.value, 'made-behind');
    const all = (await allExperiments()).map((e) => e.name).sort();
    assert.deepEqual(ada.names?.value, all, 'an admin searches everything');
  });

  test('the /ajax-api twin and GraphQL are held to the same rules', async () => {
    const exp = v('expA');
    const run = v('runA');
    assert.equal((await raw('alice', 'GET', `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${exp}`)).status, 200);
    assert.equal((await raw('bob', 'GET', `/ajax-api/2.0/mlflow/runs/get?run_id=${run}`)).status, 404);
    assert.equal((await raw('bob', 'GET', `/ajax-api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss`)).status, 404);
    assert.equal((await raw('bob', 'GET', `/ajax-api/2.0/mlflow/registered-models/get?name=alice-model`)).status, 404);
    // Repeated ids: one foreign id among the caller's own is enough to refuse the call.
    const bulk = `/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${v('runB')}&run_ids=${run}&metric_key=loss`;
    assert.equal((await raw('bob', 'GET', bulk)).status, 404);
    assert.equal((await raw('bob', 'GET', `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${v('runB')}&metric_key=loss`)).status, 200);
    assert.equal((await raw('rita', 'POST', '/ajax-api/2.0/mlflow/runs/log-metric', { run_id: run, key: 'k', value: 1, timestamp: 1, step: 0 })).status, 403);
    const models = await raw('rita', 'GET', '/ajax-api/2.0/mlflow/registered-models/search?max_results=100');
    assert.equal(models.status, 200, models.text);
    const teamAModels = (await allModels()).filter((m) => m.tenant === 'team-a').map((m) => m.name).sort();
    assert.deepEqual(((models.json.registered_models ?? []) as { name: string }[]).map((m) => m.name).sort(), teamAModels);

    const graphql = (user: string, query: string, variables: unknown = {}) => raw(user, 'POST', '/graphql', { query, variables });
    const getExperiment = 'query Q($input: MlflowGetExperimentInput!) { mlflowGetExperiment(input: $input) { experiment { experimentId name tags { key value } } } }';
    const getRun = 'query Q($data: MlflowGetRunInput!) { mlflowGetRun(input: $data) { run { info { runUuid experimentId } data { metrics { key value } } } } }';
    const searchRuns = 'query Q($data: MlflowSearchRunsInput!) { mlflowSearchRuns(input: $data) { runs { info { runUuid } } } }';
    const listArtifacts = 'query Q($data: MlflowListArtifactsInput!) { mlflowListArtifacts(input: $data) { files { path } } }';

    const mine = await graphql('alice', getExperiment, { input: { experimentId: exp } });
    assert.equal(mine.status, 200, mine.text);
    assert.equal((mine.json.data as { mlflowGetExperiment: { experiment: { name: string } } }).mlflowGetExperiment.experiment.name, 'alice-exp');
    const myRun = await graphql('alice', getRun, { data: { runId: run } });
    assert.equal(myRun.status, 200, myRun.text);
    assert.equal((myRun.json.data as { mlflowGetRun: { run: { info: { experimentId: string } } } }).mlflowGetRun.run.info.experimentId, exp);

    const before = gh.events.length;
    const foreign: [string, unknown][] = [
      [getExperiment, { input: { experimentId: exp } }],
      [getRun, { data: { runId: run } }],
      [searchRuns, { data: { experimentIds: [exp] } }],
      [listArtifacts, { data: { runId: run } }],
      [`{ a: mlflowGetRun(input: {runId: "${v('runB')}"}) { run { info { runUuid } } } b: mlflowGetRun(input: {runId: "${run}"}) { run { info { runUuid } } } }`, {}],
    ];
    for (const [query, variables] of foreign) {
      const res = await graphql('bob', query, variables);
      assert.equal(res.status, 404, `${query}: ${res.text}`);
      assert.equal(res.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
    }
    // A field that searches without naming an experiment or model is refused for non-admins.
    const versions = await graphql('alice', '{ mlflowSearchModelVersions(input: {}) { modelVersions { name version } } }');
    assert.ok(versions.status === 403 || versions.status === 400, `mlflowSearchModelVersions: ${versions.status} ${versions.text}`);
    const events = gh.events.slice(before).filter((e) => e.ctx.route?.row.op === 'graphql.query');
    assert.equal(events.length, foreign.length + 1);
    for (const e of events) assert.equal(e.ctx.upstreamStatus, undefined, 'a refused GraphQL query reached MLflow');
  });

  test('references: registry spellings MLflow reads as models:/ never copy another tenant\'s version', async () => {
    // MLflow itself copies the version for every one of these spellings (urllib strips, deletes and lower-cases):
    // pinned directly, behind the gateway's back, on a throwaway model.
    assert.equal((await direct('/api/2.0/mlflow/registered-models/create', { method: 'POST', body: { name: 'direct-probe' } })).status, 200);
    const spellings = [' models:/alice-model/1', '\tmodels:/alice-model/1', '\u0000models:/alice-model/1', 'models:///alice-model/1', 'models:////alice-model/1', 'MODELS:/alice-model/1', 'mo\tdels:/alice-model/1', 'models:/alice-\nmodel/1'];
    for (const source of spellings) {
      const copied = await direct('/api/2.0/mlflow/model-versions/create', { method: 'POST', body: { name: 'direct-probe', source } });
      assert.equal(copied.status, 200, `MLflow reads ${JSON.stringify(source)} as a registry reference: ${JSON.stringify(copied.json)}`);
      assert.equal((copied.json.model_version as { run_id: string }).run_id, v('runA'), 'MLflow copied alice\'s lineage');
    }
    const before = gh.events.length;
    for (const source of spellings) {
      const res = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source });
      assert.equal(res.status, 400, `${JSON.stringify(source)}: ${res.text}`);
      assert.deepEqual([res.json.error_code, res.json.gatehouse_code], ['INVALID_PARAMETER_VALUE', 'GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE']);
    }
    // The plain spelling is a read of alice-model: as missing as a model that does not exist.
    const plain = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: 'models:/alice-model/1' });
    const missing = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: 'models:/no-such-model/1' });
    assert.deepEqual([plain.status, plain.text], [missing.status, missing.text]);
    assert.equal(plain.status, 404);
    for (const e of gh.events.slice(before)) assert.equal(e.ctx.upstreamStatus, undefined, `${e.ctx.route?.row.op} reached MLflow`);
    const bobVersions = await direct(`/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("name='bob-model'")}`);
    assert.deepEqual((bobVersions.json.model_versions ?? []) as unknown[], [], 'no version of alice\'s model was copied into bob\'s');
  });

  test('references: artifact locations of another tenant, or outside the named run, are refused by the gateway', async () => {
    const before = gh.events.length;
    // Proxied artifacts of alice's experiment: as missing as an experiment that does not exist.
    const foreign = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: `mlflow-artifacts:/${v('expA')}/${v('runB')}/artifacts/model`, run_id: v('runB') });
    const absent = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: `mlflow-artifacts:/${MISSING_EXPERIMENT}/${v('runB')}/artifacts/model`, run_id: v('runB') });
    assert.equal(foreign.status, 404, foreign.text);
    assert.deepEqual([foreign.status, foreign.text], [absent.status, absent.text]);
    // A location MLflow does not check at all (it stores any s3:// path with any run: pinned below).
    const s3 = `s3://shared-bucket/${v('expA')}/${v('runA')}/artifacts/model`;
    const outside = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: s3, run_id: v('runB') });
    assert.equal(outside.status, 400, outside.text);
    assert.deepEqual(outside.json, {
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Invalid model version source: '${s3}'. The run_id request parameter must identify the resource that contains the source.`,
      gatehouse_code: 'GATEHOUSE_REQUEST_UNRESOLVED_SOURCE',
    });
    for (const e of gh.events.slice(before)) assert.equal(e.ctx.upstreamStatus, undefined, `${e.ctx.route?.row.op} reached MLflow`);
    const stored = await direct('/api/2.0/mlflow/model-versions/create', { method: 'POST', body: { name: 'direct-probe', source: s3, run_id: v('runB') } });
    assert.equal(stored.status, 200, `MLflow 3.18 stores an s3 source outside the run's root: ${JSON.stringify(stored.json)}`);

    // The stock client's own registration (the run's artifact URI, inside its root) still works.
    const own = await raw('bob', 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: `mlflow-artifacts:/${v('expB')}/${v('runB')}/artifacts/model`, run_id: v('runB') });
    assert.equal(own.status, 200, own.text);
    values.bobVersion = (own.json.model_version as { version: string }).version;
  });

  test('references: the stock client\'s own registrations pass (a logged model, and a run\'s artifacts by runs:/ URI)', async () => {
    const r = await as('alice', [
      ['flowExp', 'create_experiment', 'alice-flows'],
      ['logged', 'log_and_register', '$flowExp', 'alice-flow-model'],
      ['fromRun', 'register_run_artifacts', '$flowExp', 'alice-flow-model'],
    ]);
    for (const [k, o] of Object.entries(r)) ok(o, k);
    const [, source] = r.fromRun?.value as [string, string];
    assert.match(source, new RegExp(`^mlflow-artifacts:/${v('flowExp')}/[0-9a-f]{32}/artifacts/legacy$`), 'the client sent the run\'s own artifact URI');
  });

  test('references: model-versions/get-artifact paths are checked by the gateway, not left to MLflow', async () => {
    const before = gh.events.length;
    const base = `/model-versions/get-artifact?name=bob-model&version=${v('bobVersion')}&path=`;
    for (const p of [`../../${v('expA')}/${v('runA')}/artifacts/hello.txt`, '%2e%2e/%2e%2e/x', '%252e%252e%252fx', '/etc/passwd', 'file:///etc/passwd', ' MLmodel', 'a;?../b']) {
      const res = await raw('bob', 'GET', `${base}${encodeURIComponent(p)}`);
      assert.equal(res.status, 400, `${p}: ${res.text}`);
      assert.equal(res.json.gatehouse_code, 'GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE', p);
    }
    for (const e of gh.events.slice(before)) assert.equal(e.ctx.upstreamStatus, undefined, `${e.ctx.route?.row.op} reached MLflow`);
  });

  test('identifiers sent as JSON numbers get MLflow\'s own answer, and are never looked up as ids', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['POST', '/api/2.0/mlflow/runs/log-metric', { run_id: 31, key: 'k', value: 1, timestamp: 1, step: 0 }],
      ['POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: 1 }],
      ['POST', '/api/2.0/mlflow/model-versions/create', { name: 'bob-model', source: `runs:/${v('runB')}/m`, run_id: 1e3 }],
      ['POST', '/api/2.0/mlflow/traces/link-to-run', { trace_ids: ['tr-1'], run_id: true }],
    ];
    for (const [method, path, body] of cases) {
      const mlflowAnswer = await direct(path, { method, body });
      const res = await raw('bob', method, path, body);
      assert.equal(res.status, mlflowAnswer.status, `${path}: ${res.text} vs MLflow ${JSON.stringify(mlflowAnswer.json)}`);
      assert.equal(res.json.error_code, mlflowAnswer.json.error_code, path);
      assert.equal(res.json.message, mlflowAnswer.json.message, path);
    }
    // Where a handler has no type check, protobuf's partial parse drops the field silently (MLflow answers
    // 200 with nothing); the gateway refuses instead of forwarding a request it could not read.
    const dropped = await direct('/api/2.0/mlflow/runs/search', { method: 'POST', body: { experiment_ids: [Number(v('expB'))] } });
    assert.deepEqual([dropped.status, dropped.json], [200, {}]);
    const refusedSearch = await raw('bob', 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [Number(v('expB'))] });
    assert.equal(refusedSearch.status, 400, refusedSearch.text);
    assert.equal(refusedSearch.json.gatehouse_code, 'GATEHOUSE_REQUEST_INVALID_ID_TYPE');
  });

  test('OTLP trace ids: a collision with another tenant\'s trace answers exactly like one with another experiment of one\'s own (documented residual)', async () => {
    const hex = (id: string) => id.replace(/^tr-/, '');
    const otlp = (user: string, experimentId: string, traceHex: string, spanHex: string) =>
      callJson(`${gh.url}/v1/traces`, 'POST', { authorization: basic(user, PASSWORD), 'x-mlflow-experiment-id': experimentId }, otlpBody(traceHex, spanHex));
    const bobOther = await raw('bob', 'POST', '/api/2.0/mlflow/experiments/create', { name: 'bob-otlp-other' });
    const own = '5e'.repeat(16);
    assert.equal((await otlp('bob', String(bobOther.json.experiment_id), own, '0000000000000001')).status, 200);
    const ownCollision = await otlp('bob', v('expB'), own, '0000000000000002');
    const foreignCollision = await otlp('bob', v('expB'), hex(v('trace')), '0000000000000003');
    // MLflow 3.18 keeps trace ids global and refuses a write into another experiment's trace: 400 either way.
    assert.equal(foreignCollision.status, 400, foreignCollision.text);
    assert.deepEqual([foreignCollision.status, foreignCollision.text.replace(hex(v('trace')), 'X')], [ownCollision.status, ownCollision.text.replace(own, 'X')]);
    assert.match(foreignCollision.text, /already exists in another experiment/);
    // Nothing was written into alice's trace.
    const trace = await direct(`/api/3.0/mlflow/traces/${v('trace')}`);
    assert.equal(JSON.stringify(trace.json).includes('0000000000000003'), false);
  });

  test('nothing that was denied reached MLflow', () => {
    const denied = gh.events.filter((e) => e.ctx.decision?.effect === 'deny' || e.ctx.errorCode !== undefined);
    assert.ok(denied.length >= 60, `expected many denials, saw ${denied.length}`);
    const codes = new Set(denied.map((e) => e.ctx.errorCode));
    assert.ok(codes.has('GATEHOUSE_AUTHZ_TENANT_TAG'), [...codes].join(' '));
    for (const e of denied) {
      if (e.ctx.errorCode?.startsWith('GATEHOUSE_UPSTREAM')) continue;
      assert.equal(e.ctx.upstreamStatus, undefined, `${e.ctx.route?.row.op} was denied (${e.ctx.errorCode}) but reached MLflow`);
    }
  });
});
