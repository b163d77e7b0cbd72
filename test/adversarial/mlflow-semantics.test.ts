/**
 * MLflow semantics an insider would abuse: search-filter injection, moving or touching
 * resources of another tenant, client-chosen artifact locations, artifact path traversal and
 * mass delete, model-version sources, GraphQL tricks, OTLP headers and webhooks.
 * Each case asserts the exact refusal and that nothing forbidden reached MLflow.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH } from '../harness/gatehouse.ts';
import { auth, errorCode, post, send, startWorld, type World } from './world.ts';

let w: World;
let base: string;
before(async () => {
  w = await startWorld();
  base = w.gh.url;
});
after(() => w.close());
beforeEach(() => w.reset());

const alice = auth('alice');
const vera = auth('vera');
const nothingForwarded = (what: string) => w.nothingForwarded(what);

describe('search-filter injection', () => {
  for (const filter of ["name = 'a-secret'", "name = 'x' OR name LIKE '%'", "name LIKE '%' --", "tags.`mlflow.workspace` != 'none'", "name = 'a\\' OR 1=1"]) {
    test(`a name-scoped viewer sees only what it may, whatever the filter: ${filter}`, async () => {
      const res = await post(base, '/api/2.0/mlflow/experiments/search', auth('ella'), { filter, max_results: 10 });
      assert.equal(res.status, 200, res.body);
      const names = (JSON.parse(res.body) as { experiments?: { name: string }[] }).experiments?.map((e) => e.name) ?? [];
      assert.deepEqual(names, ['a-public'], 'MLflow answered everything; the gateway kept only a-public');
    });
  }

  test('GET search with a filter in the query is filtered the same way', async () => {
    const res = await send(base, 'GET', `/api/2.0/mlflow/experiments/search?filter=${encodeURIComponent("name LIKE '%'")}&max_results=10`, { authorization: auth('ella') });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual((JSON.parse(res.body) as { experiments: { name: string }[] }).experiments.map((e) => e.name), ['a-public']);
  });

  test('a forged page token is refused, not passed to MLflow', async () => {
    const res = await post(base, '/api/2.0/mlflow/experiments/search', auth('ella'), { page_token: 'gh1.' + Buffer.from('{"t":"x","s":-5}').toString('base64url') });
    assert.equal(res.status, 400);
  });
});

describe('touching resources of another tenant (alice is in team-a; rb9 and experiment 9 are team-b)', () => {
  const writes: [string, unknown][] = [
    ['/api/2.0/mlflow/runs/set-tag', { run_id: 'rb9', key: 'mlflow.workspace', value: 'team-a' }],
    ['/api/2.0/mlflow/runs/log-batch', { run_id: 'rb9', metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] }],
    ['/api/2.0/mlflow/runs/update', { run_id: 'rb9', status: 'FINISHED' }],
    ['/api/2.0/mlflow/runs/delete', { run_id: 'rb9' }],
    ['/api/2.0/mlflow/experiments/update', { experiment_id: '9', new_name: 'moved-into-a' }],
    ['/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: '9', key: 'mlflow.workspace', value: 'team-a' }],
    ['/api/2.0/mlflow/experiments/delete', { experiment_id: '9' }],
    ['/api/2.0/mlflow/runs/create', { experiment_id: '9' }],
  ];
  for (const [path, body] of writes) {
    test(`${path} on team-b's resource: 404 (no existence oracle), not forwarded`, async () => {
      const res = await post(base, path, alice, body);
      assert.equal(res.status, 404, res.body);
      assert.equal(errorCode(res), 'RESOURCE_DOES_NOT_EXIST');
      nothingForwarded(path);
    });
  }

  test('renaming the denied experiment, or tagging it, is refused too', async () => {
    const a = await post(base, '/api/2.0/mlflow/experiments/update', alice, { experiment_id: '5', new_name: 'not-secret' });
    const b = await post(base, '/api/2.0/mlflow/experiments/set-experiment-tag', alice, { experiment_id: '5', key: 'k', value: 'v' });
    assert.deepEqual([a.status, b.status], [403, 403]);
    nothingForwarded('rename');
  });

  test('a viewer cannot write at all, whatever the resource', async () => {
    const res = await post(base, '/api/2.0/mlflow/runs/set-tag', vera, { run_id: 'ra1', key: 'k', value: 'v' });
    assert.equal(res.status, 403);
    nothingForwarded('viewer write');
  });
});

describe('client-chosen artifact locations', () => {
  for (const loc of ['mlflow-artifacts:/workspaces/team-b/9', 's3://bucket/team-b/9', 'file:///srv/mlruns/9', '/srv/mlruns/team-b', './x']) {
    test(`experiments/create with artifact_location ${loc}: 403 for a contributor`, async () => {
      const res = await post(base, '/api/2.0/mlflow/experiments/create', alice, { name: 'e', artifact_location: loc });
      assert.equal(res.status, 403, res.body);
      assert.equal(errorCode(res), 'PERMISSION_DENIED');
      const camel = await post(base, '/api/2.0/mlflow/experiments/create', alice, { name: 'e', artifactLocation: loc });
      assert.equal(camel.status, 403);
      nothingForwarded(loc);
    });
  }

  test('without artifact_location (as the MLflow client sends it) creation is forwarded; an admin may choose one', async () => {
    const res = await post(base, '/api/2.0/mlflow/experiments/create', alice, { name: 'e' });
    assert.equal(res.status, 200, res.body);
    const empty = await post(base, '/api/2.0/mlflow/experiments/create', alice, { name: 'e2', artifact_location: '' });
    assert.equal(empty.status, 200, 'empty means MLflow chooses');
    const admin = await post(base, '/api/2.0/mlflow/experiments/create', ADMIN_AUTH, { name: 'e3', artifact_location: 's3://bucket/x' }, { 'x-mlflow-workspace': 'team-a' });
    assert.equal(admin.status, 200);
    assert.equal(w.forwarded().length, 3);
  });
});

describe('artifact path traversal and mass delete', () => {
  const A = '/api/2.0/mlflow-artifacts/artifacts';
  const refusedPaths = [
    `${A}/1/../5/r/artifacts/f`,
    `${A}/1/%2e%2e/5/f`,
    `${A}/1/%2E%2E/5/f`,
    `${A}/1/%252e%252e/5/f`,
    `${A}/%35/ra5/artifacts/f`.replace('%35', '%2535'),
    `${A}/1/..%2f5/f`,
    `${A}/1%5C..%5C5/f`,
    `${A}/workspaces/team-b/9/rb9/artifacts/f`,
    `${A}/WORKSPACES/team-b/9/rb9/artifacts/f`,
    `${A}/Workspaces/team-b/9/f`,
    `${A}/05/ra5/artifacts/f`,
    `${A}/+5/f`,
    `${A}//5/f`,
    `${A}/1/./f`,
    `${A}/1/r/artifacts/f%23x`,
  ];
  for (const path of refusedPaths) {
    test(`GET ${path.slice(A.length)}: 400, not forwarded`, async () => {
      const res = await send(base, 'GET', path, { authorization: alice });
      assert.equal(res.status, 400, `${res.status} ${res.body}`);
      nothingForwarded(path);
    });
  }

  const refusedList = ['../5', '1/../5', '/etc', '%2Fetc', '1%252F..%252F5', 'workspaces/team-b/9', 'WORKSPACES/team-b', '05/r', '', 'workspaces/team-a', '1//x'];
  for (const p of refusedList) {
    test(`list ?path=${p}: 400, not forwarded`, async () => {
      const res = await send(base, 'GET', `${A}?path=${p}`, { authorization: alice });
      assert.equal(res.status, 400, `${res.status} ${res.body}`);
      nothingForwarded(p);
    });
  }

  test('run artifact routes refuse traversal in path too', async () => {
    for (const p of ['../../9/rb9/artifacts', '/etc/passwd', 'a/%2e%2e/b', 'file:///etc', 'a\\..\\b']) {
      const list = await send(base, 'GET', `/api/2.0/mlflow/artifacts/list?run_id=ra1&path=${encodeURIComponent(p)}`, { authorization: alice });
      const get = await send(base, 'GET', `/get-artifact?run_uuid=ra1&path=${encodeURIComponent(p)}`, { authorization: alice });
      assert.deepEqual([list.status, get.status], [400, 400], p);
    }
    nothingForwarded('run artifact traversal');
  });

  // Every route that joins a caller's path to a trusted root (the list is the table's `references` column).
  const PATH_ROUTES: [string, (p: string) => string][] = [
    ['model version files', (p) => `/model-versions/get-artifact?name=m&version=1&path=${p}`],
    ['logged model file', (p) => `/ajax-api/2.0/mlflow/logged-models/m-1/artifacts/files?artifact_file_path=${p}`],
    ['logged model directory', (p) => `/api/2.0/mlflow/logged-models/m-1/artifacts/directories?artifact_directory_path=${p}`],
    ['run artifact upload', (p) => `/ajax-api/2.0/mlflow/upload-artifact?run_id=ra1&path=${p}`],
  ];
  for (const [what, url] of PATH_ROUTES) {
    test(`${what}: traversal and every ambiguous spelling of path are refused by the gateway, not left to MLflow`, async () => {
      for (const p of ['..%2F..%2F9%2Frb9', '%252e%252e%2Fx', '%2Fetc%2Fpasswd', 'a%2F..%2F..%2Fb', 'file%3A%2F%2F%2Fetc', 'a%5C..%5Cb', '%20model', 'a%3B%3F..%2Fb', 'a%23b']) {
        const method = what === 'run artifact upload' ? 'POST' : 'GET';
        const res = await send(base, method, url(p), { authorization: alice }, method === 'POST' ? 'x' : undefined);
        assert.equal(res.status, 400, `${what} ${p}: ${res.status} ${res.body}`);
        assert.equal(JSON.parse(res.body).gatehouse_code, 'GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE', p);
      }
      nothingForwarded(what);
    });
  }

  test('trace attachments are canonical UUIDs, nothing else', async () => {
    for (const p of ['..%2F..%2Fx', '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0', '%2530f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', '{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}']) {
      const res = await send(base, 'GET', `/ajax-api/3.0/mlflow/get-trace-artifact?request_id=tr-1&path=${p}`, { authorization: alice });
      assert.equal(res.status, 400, `${p}: ${res.body}`);
    }
    nothingForwarded('attachments');
  });

  test('controls: an own artifact path is forwarded as sent; its own workspace prefix too', async () => {
    const a = await send(base, 'GET', `${A}/1/ra1/artifacts/model/MLmodel`, { authorization: alice });
    const b = await send(base, 'GET', `${A}/workspaces/team-a/1/ra1/artifacts/f`, { authorization: alice });
    const c = await send(base, 'GET', `${A}?path=1/ra1/artifacts/`, { authorization: alice });
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 200]);
    assert.deepEqual(
      w.forwarded().map((r) => r.url),
      [`${A}/1/ra1/artifacts/model/MLmodel`, `${A}/workspaces/team-a/1/ra1/artifacts/f`, `${A}?path=1/ra1/artifacts/`],
    );
  });

  test('the denied experiment\'s artifacts: 403 to read, list or delete', async () => {
    const read = await send(base, 'GET', `${A}/5/ra5/artifacts/f`, { authorization: alice });
    const list = await send(base, 'GET', `${A}?path=5/ra5`, { authorization: alice });
    const del = await send(base, 'DELETE', `${A}/5`, { authorization: alice });
    assert.deepEqual([read.status, list.status, del.status], [403, 403, 403]);
    nothingForwarded('denied artifacts');
  });

  test('mass delete: a whole experiment needs manage; a whole workspace is not an experiment', async () => {
    const viewer = await send(base, 'DELETE', `${A}/1`, { authorization: vera });
    const contributor = await send(base, 'DELETE', `${A}/1`, { authorization: alice });
    const tenantRoot = await send(base, 'DELETE', `${A}/workspaces/team-a`, { authorization: ADMIN_AUTH, 'x-mlflow-workspace': 'team-a' });
    const foreignRoot = await send(base, 'DELETE', `${A}/workspaces/team-b/9`, { authorization: alice });
    assert.deepEqual([viewer.status, contributor.status, tenantRoot.status, foreignRoot.status], [403, 403, 400, 400]);
    nothingForwarded('mass delete');
  });
});

describe('model-version sources', () => {
  const MV = '/api/2.0/mlflow/model-versions/create';
  const refused: [unknown, number][] = [
    [{ name: 'm', source: 'runs:/rb9/model' }, 400],
    [{ name: 'm', source: 'runs:/rb9/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'RUNS:/rb9/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'runs:/rb9/model', run_id: 'rb9' }, 404],
    [{ name: 'm', source: 'mlflow-artifacts:/workspaces/team-b/9/rb9/artifacts/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'mlflow-artifacts:/1/../9/rb9/artifacts/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'mlflow-artifacts://host/workspaces/team-b/9/x', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'mlflow-artifacts:/05/ra5/artifacts/model' }, 400],
    [{ name: 'm', source: 's3://bucket/x', run_id: 'rb9' }, 404],
    // Registry references in spellings urllib reads as models:/ (the high-severity copy in tag mode).
    [{ name: 'm', source: ' models:/b-model/1' }, 400],
    [{ name: 'm', source: '\tmodels:/b-model/1' }, 400],
    [{ name: 'm', source: '\u0000models:/b-model/1' }, 400],
    [{ name: 'm', source: 'models:///b-model/1' }, 400],
    [{ name: 'm', source: 'models:////b-model/1' }, 400],
    [{ name: 'm', source: 'MODELS:/b-model/1' }, 400],
    [{ name: 'm', source: 'mo\tdels:/b-model/1' }, 400],
    [{ name: 'm', source: 'models:/b-mo\ndel/1' }, 400],
    [{ name: 'm', source: 'models:/b-model/1?x' }, 400],
    // The proxied experiment must be the caller's, and the location inside the run it names.
    [{ name: 'm', source: 'mlflow-artifacts:/9/rb9/artifacts/model', run_id: 'ra1' }, 404],
    [{ name: 'm', source: 'mlflow-artifacts:/workspaces/team-a/5/ra5/artifacts/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'mlflow-artifacts:/workspaces/team-a/1/ra5/artifacts/model', run_id: 'ra1' }, 400],
    // Locations MLflow itself does not check: they must lie inside the run's artifact root.
    [{ name: 'm', source: 's3://bucket/team-b/9/rb9/artifacts/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 's3://bucket/x' }, 400],
    [{ name: 'm', source: 'file:///srv/mlruns/9/rb9/artifacts/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: '/srv/mlruns/9/rb9/artifacts/model', run_id: 'ra1' }, 400],
    [{ name: 'm', source: 'https://other/api/2.0/mlflow-artifacts/artifacts/9/rb9', run_id: 'ra1' }, 400],
    // The lineage a source claims must be the request's.
    [{ name: 'm', source: 'models:/m-0123', model_id: 'm-4567' }, 400],
    [{ name: 'm', source: 'runs:/ra1/model', run_id: 'ra1', model_id: 'm-1' }, 400],
    // A prompt version's source is a placeholder; tags protobuf would only half read are refused.
    [{ name: 'm', source: 'models:/b-model/1', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }, 400],
    [{ name: 'm', source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 5 }] }, 400],
    // run_link is rendered as a link by MLflow's UI.
    [{ name: 'm', source: 'runs:/ra1/model', run_id: 'ra1', run_link: 'javascript:alert(1)' }, 400],
    [{ name: 'm', source: 'runs:/ra1/model', run_id: 'ra1', run_link: ' java\tscript:alert(1)' }, 400],
    [{ name: 'm', source: 'runs:/ra1/model', run_id: 'ra1', run_link: 'data:text/html,x' }, 400],
    // Ids are strings, never converted.
    [{ name: 'm', source: 'runs:/31/model', run_id: 31 }, 400],
  ];
  for (const [body, status] of refused) {
    test(`${JSON.stringify(body)}: ${status}`, async () => {
      const res = await post(base, MV, auth('mona'), body);
      assert.equal(res.status, status, res.body);
      nothingForwarded(JSON.stringify(body));
    });
  }

  test('an outside location gets MLflow\'s own words', async () => {
    const res = await post(base, MV, auth('mona'), { name: 'm', source: 's3://bucket/team-b/9/rb9/artifacts/model', run_id: 'ra1' });
    assert.deepEqual(JSON.parse(res.body), {
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Invalid model version source: 's3://bucket/team-b/9/rb9/artifacts/model'. The run_id request parameter must identify the resource that contains the source.",
      gatehouse_code: 'GATEHOUSE_REQUEST_UNRESOLVED_SOURCE',
    });
    nothingForwarded('outside location');
  });

  test('control: an own run, its own artifact URI, an http run link, a prompt placeholder are forwarded; an admin registers any location', async () => {
    const res = await post(base, MV, auth('mona'), { name: 'm', source: 'mlflow-artifacts:/workspaces/team-a/1/ra1/artifacts/model', run_id: 'ra1' });
    assert.equal(res.status, 200, res.body);
    const runs = await post(base, MV, auth('mona'), { name: 'm', source: 'runs:/ra1/model', run_id: 'ra1', run_link: 'https://mlflow.example.com/#/experiments/1/runs/ra1' });
    assert.equal(runs.status, 200, runs.body);
    const prompt = await post(base, MV, auth('mona'), { name: 'm', source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    assert.equal(prompt.status, 200, prompt.body);
    const admin = await post(base, MV, ADMIN_AUTH, { name: 'm', source: 's3://models/external/model' }, { 'x-mlflow-workspace': 'team-a' });
    assert.equal(admin.status, 200, admin.body);
    assert.equal(w.forwarded().length, 4);
  });
});

describe('GraphQL', () => {
  const gql = (who: string, body: unknown) => post(base, '/graphql', who, body);
  const run = (alias: string, id: string) => `${alias}: mlflowGetRun(input: {runId: "${id}"}) { run { info { runId } } }`;

  test('an aliased foreign run next to an own one: 404, not forwarded', async () => {
    const res = await gql(alice, { query: `{ ${run('mine', 'ra1')} ${run('theirs', 'rb9')} }` });
    assert.equal(res.status, 404, res.body);
    nothingForwarded('alias');
  });

  test('the denied run hidden in a fragment, an inline fragment, or under @skip: 403', async () => {
    const queries = [
      `query { ...F } fragment F on Query { ${run('x', 'ra5')} }`,
      `query { ... on Query { ${run('x', 'ra5')} } }`,
      `query { x: mlflowGetRun(input: {runId: "ra5"}) @skip(if: true) { run { info { runId } } } }`,
      `query Q($i: MlflowGetRunInput) { mlflowGetRun(input: $i) { run { info { runId } } } }`,
    ];
    for (const query of queries) {
      const res = await gql(alice, { query, variables: { i: { runId: 'ra5' } } });
      assert.equal(res.status, 403, `${query}: ${res.body}`);
    }
    nothingForwarded('fragments');
  });

  test('a second operation not selected by operationName is checked too', async () => {
    const res = await gql(alice, { query: `query A { ${run('x', 'ra1')} } query B { ${run('x', 'ra5')} }`, operationName: 'A' });
    assert.equal(res.status, 403, res.body);
    nothingForwarded('operationName');
  });

  test('batched arrays, GET and mutations that write: refused', async () => {
    const batch = await gql(alice, [{ query: `{ ${run('x', 'ra1')} }` }]);
    const get = await send(base, 'GET', `/graphql?query=${encodeURIComponent(`{ ${run('x', 'ra1')} }`)}`, { authorization: alice });
    const mutation = await gql(alice, { query: 'mutation { mlflowDeleteExperiment(input: {experimentId: "1"}) { __typename } }' });
    assert.equal(batch.status, 400);
    assert.equal(get.status, 403, 'GET /graphql is a disabled route');
    assert.equal(mutation.status, 400);
    nothingForwarded('batch/get/mutation');
  });

  test('introspection: anonymous 401; an authenticated caller is forwarded pinned to its tenant', async () => {
    const anon = await send(base, 'POST', '/graphql', { 'content-type': 'application/json' }, '{"query":"{ __schema { types { name } } }"}');
    assert.equal(anon.status, 401);
    nothingForwarded('anonymous introspection');
    const res = await gql(vera, { query: '{ __schema { types { name } } }' });
    assert.equal(res.status, 200);
    assert.equal(w.forwarded()[0]?.headers['x-mlflow-workspace'], 'team-a');
  });
});

describe('webhooks pointing inside the network are admin-only', () => {
  const targets = ['http://127.0.0.1:9090/metrics', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://mlflow.internal:5000/'];
  for (const who of ['alice', 'vera', 'mona', 'nora'] as const) {
    test(`${who}: create, list, update, test, delete are 403 and not forwarded`, async () => {
      const statuses = [
        (await post(base, '/api/2.0/mlflow/webhooks', auth(who), { name: 'h', url: targets[0], events: [{ entity: 'registered_model', action: 'created' }] })).status,
        (await send(base, 'GET', '/api/2.0/mlflow/webhooks', { authorization: auth(who) })).status,
        (await send(base, 'PATCH', '/api/2.0/mlflow/webhooks/w1', { authorization: auth(who), 'content-type': 'application/json' }, JSON.stringify({ url: targets[1] }))).status,
        (await post(base, '/api/2.0/mlflow/webhooks/w1/test', auth(who), {})).status,
        (await send(base, 'DELETE', '/api/2.0/mlflow/webhooks/w1', { authorization: auth(who) })).status,
      ];
      assert.deepEqual(statuses, [403, 403, 403, 403, 403]);
      nothingForwarded(`webhooks as ${who}`);
    });
  }
});

describe('OTLP and trace experiment headers', () => {
  test('the experiment header decides: denied and foreign experiments are refused, the own one passes', async () => {
    const h = (id: string) => ({ authorization: alice, 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': id });
    const denied = await send(base, 'POST', '/v1/traces', h('5'), 'spans');
    const foreign = await send(base, 'POST', '/v1/traces', h('9'), 'spans');
    const twice = await send(base, 'POST', '/v1/traces', { ...h('1'), 'x-mlflow-experiment-id': ['1', '5'] }, 'spans');
    assert.deepEqual([denied.status, foreign.status, twice.status], [403, 404, 400]);
    nothingForwarded('OTLP');
    const ok = await send(base, 'POST', '/v1/traces', h('1'), 'spans');
    assert.equal(ok.status, 200);
    assert.equal(w.forwarded()[0]?.headers['x-mlflow-experiment-id'], '1');
  });

  test('a foreign run named in x-mlflow-run-id is refused', async () => {
    const res = await send(base, 'POST', '/v1/traces', { authorization: alice, 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': '1', 'x-mlflow-run-id': 'rb9' }, 'spans');
    assert.equal(res.status, 404);
    nothingForwarded('run header');
  });

  test('a trace start naming the denied experiment in its location: 403', async () => {
    const res = await post(base, '/api/3.0/mlflow/traces', alice, { trace: { trace_info: { trace_location: { mlflow_experiment: { experiment_id: '5' } } } } });
    assert.equal(res.status, 403, res.body);
    const odd = await post(base, '/api/3.0/mlflow/traces', alice, { trace: { trace_info: { trace_location: { mlflow_experiment: { experiment_id: '05' } } } } });
    assert.equal(odd.status, 400, odd.body);
    nothingForwarded('trace location');
  });
});
