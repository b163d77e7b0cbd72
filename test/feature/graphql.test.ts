/**
 * GraphQL through the gateway, against a recording stub that has workspaces and answers the
 * resolver's lookups per workspace: allowed queries are forwarded byte for byte; a query that
 * touches anything the caller may not read — directly, under an alias or inside a fragment — is
 * refused before MLflow sees it; malformed queries get 400.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, jsonOk, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
import { hashPassword } from '../../src/identity/password.ts';

/** run id → [workspace, experiment id]; experiment id → [workspace, name]. */
const RUNS: Record<string, [string, string]> = { 'run-a1': ['team-a', '1'], 'run-a2': ['team-a', '2'], 'run-b1': ['team-b', '3'] };
const EXPERIMENTS: Record<string, [string, string]> = { '1': ['team-a', 'exp-one'], '2': ['team-a', 'exp-two'], '3': ['team-b', 'exp-b'] };
const GRAPHQL_ANSWER = JSON.stringify({ data: { answered: 'by-mlflow' }, errors: null });

const send = (res: Parameters<StubHandler>[1], status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const mlflow: StubHandler = (req, res, r) => {
  const url = new URL(req.url!, 'http://stub');
  const ws = req.headers['x-mlflow-workspace'];
  if (url.pathname === '/api/3.0/mlflow/server-info') return send(res, 200, { workspaces_enabled: true });
  if (url.pathname.startsWith('/api/3.0/mlflow/workspaces')) return send(res, 200, { workspaces: [{ name: 'default' }, { name: 'team-a' }, { name: 'team-b' }] });
  const missing = { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'not found' };
  if (url.pathname === '/api/2.0/mlflow/runs/get') {
    const run = RUNS[url.searchParams.get('run_id') ?? ''];
    return run && run[0] === ws ? send(res, 200, { run: { info: { experiment_id: run[1] } } }) : send(res, 404, missing);
  }
  if (url.pathname === '/api/2.0/mlflow/experiments/get') {
    const exp = EXPERIMENTS[url.searchParams.get('experiment_id') ?? ''];
    return exp && exp[0] === ws ? send(res, 200, { experiment: { name: exp[1] } }) : send(res, 404, missing);
  }
  if (url.pathname === '/graphql') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(GRAPHQL_ANSWER) });
    return res.end(GRAPHQL_ANSWER);
  }
  return jsonOk(req, res, r);
};

// The MLflow UI's run query (mlflow/server/js/build/static/js/640.*.chunk.js), abridged.
const UI_GET_RUN = `query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) {
    apiError { helpUrl code message __typename }
    run {
      info { runName status runUuid experimentId artifactUri __typename }
      experiment { experimentId name tags { key value __typename } __typename }
      modelVersions { status version name source __typename }
      data { metrics { key value step timestamp __typename } params { key value __typename } __typename }
      inputs { datasetInputs { dataset { digest name __typename } __typename } modelInputs { modelId __typename } __typename }
      __typename
    }
    __typename
  }
}`;
const RUN_ONLY = 'query R($id: String) { mlflowGetRun(input: {runId: $id}) { run { info { runId experimentId } data { params { key value } } } } }';

let stub: StubUpstream;
let gh: InProcess;
const PASSWORD = 'a-long-test-password';
const vic = basic('vic', PASSWORD); // viewer in team-a
const eve = basic('eve', PASSWORD); // viewer of experiment 1 only, in team-a
const bob = basic('bob', PASSWORD); // in no tenant
const graphqlForwards = () => stub.requests.filter((r) => r.url === '/graphql');

before(async () => {
  stub = await startStub(mlflow);
  gh = await startInProcess(stub.url, {
    tenants: [
      { name: 'team-a', members: { users: ['vic', 'eve'] } },
      { name: 'team-b', members: { users: [] } },
    ],
    bindings: [
      { role: 'viewer', user: 'vic', tenant: 'team-a' },
      { role: 'viewer', user: 'eve', tenant: 'team-a', experiment: { id: '1' } },
    ],
    'server.graphql': { maxDepth: 8, maxFields: 120 },
  });
  const hash = await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 });
  for (const u of ['vic', 'eve', 'bob']) await gh.store.createUser({ username: u, passwordHash: hash, admin: false });
});
after(async () => {
  await gh?.close();
  await stub?.close();
});
beforeEach(() => (stub.requests.length = 0));

const post = (auth: string, body: string) =>
  fetch(`${gh.url}/graphql`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body });
const json = (query: string, variables?: unknown, operationName?: string) => JSON.stringify({ query, variables, operationName });

async function refusedWith(res: Response, status: number, code: string): Promise<void> {
  const body = (await res.json()) as { error_code: string; gatehouse_code: string };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.gatehouse_code, code);
  assert.equal(graphqlForwards().length, 0, 'nothing reached MLflow');
}

test('a viewer\'s UI run query is forwarded byte for byte, in the viewer\'s workspace', async () => {
  // Odd spacing and key order on purpose: what was inspected is exactly what is forwarded.
  const body = `{"operationName":"GetRun",  "variables":{"data":{"runId":"run-a1"}},\n"query":${JSON.stringify(UI_GET_RUN)}}`;
  const res = await post(vic, body);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), GRAPHQL_ANSWER);
  const [forwarded, ...more] = graphqlForwards();
  assert.equal(more.length, 0);
  assert.equal(forwarded!.body, body);
  assert.equal(forwarded!.sha256, createHash('sha256').update(body).digest('hex'));
  assert.equal(forwarded!.headers['x-mlflow-workspace'], 'team-a');
  const event = gh.events.at(-1)!;
  assert.equal(event.ctx.decision?.effect, 'allow');
  assert.deepEqual(event.ctx.resources.map((r) => [r.kind, r.id, r.from]), [['run', 'run-a1', 'graphql:GetRun.mlflowGetRun']]);
});

test('a run of another tenant does not exist, and MLflow is not asked the query', async () => {
  await refusedWith(await post(vic, json(RUN_ONLY, { id: 'run-b1' })), 404, 'GATEHOUSE_RESOURCE_NOT_FOUND');
  await refusedWith(await post(vic, json('{ mlflowSearchRuns(input: {experimentIds: ["1", "3"]}) { runs { info { runId } } } }')), 404, 'GATEHOUSE_RESOURCE_NOT_FOUND');
});

test('a viewer of one experiment reads it, and nothing beyond it', async () => {
  assert.equal((await post(eve, json(RUN_ONLY, { id: 'run-a1' }))).status, 200);
  assert.equal(graphqlForwards().length, 1);
  stub.requests.length = 0;
  await refusedWith(await post(eve, json(RUN_ONLY, { id: 'run-a2' })), 403, 'GATEHOUSE_AUTHZ_DENIED');
  // The UI query also asks for the run's model versions: registered models she may not read.
  await refusedWith(await post(eve, json(UI_GET_RUN, { data: { runId: 'run-a1' } }, 'GetRun')), 403, 'GATEHOUSE_AUTHZ_DENIED');
  await refusedWith(await post(eve, json('{ mlflowSearchRuns(input: {experimentIds: ["1", "2"]}) { runs { info { runId } } } }')), 403, 'GATEHOUSE_AUTHZ_DENIED');
  await refusedWith(await post(eve, json('{ mlflowSearchRuns(input: {}) { runs { info { runId } } } }')), 403, 'GATEHOUSE_AUTHZ_DENIED');
});

test('an alias or a fragment hiding a forbidden field is refused', async () => {
  const aliased = '{ ok: mlflowGetRun(input: {runId: "run-a1"}) { run { info { runId } } } innocent: mlflowGetRun(input: {runId: "run-a2"}) { run { info { runId } } } }';
  await refusedWith(await post(eve, json(aliased)), 403, 'GATEHOUSE_AUTHZ_DENIED');
  const fragment = `query Q { mlflowGetRun(input: {runId: "run-a1"}) { run { info { runId } } } ...More }
    fragment More on Query { ... on Query { x: mlflowGetExperiment(input: {experimentId: "2"}) { experiment { name } } } }`;
  await refusedWith(await post(eve, json(fragment)), 403, 'GATEHOUSE_AUTHZ_DENIED');
  const nested = '{ mlflowGetRun(input: {runId: "run-a1"}) { run { ...V } } } fragment V on MlflowRunExtension { mv: modelVersions { name } }';
  await refusedWith(await post(eve, json(nested)), 403, 'GATEHOUSE_AUTHZ_DENIED');
  const otherOperation = 'query A { mlflowGetRun(input: {runId: "run-a1"}) { run { info { runId } } } } query B { mlflowGetRun(input: {runId: "run-a2"}) { run { info { runId } } } }';
  await refusedWith(await post(eve, JSON.stringify({ query: otherOperation, operationName: 'A' })), 403, 'GATEHOUSE_AUTHZ_DENIED');
});

test('introspection is open to any authenticated principal, even one in no tenant', async () => {
  const res = await post(bob, json('{ __schema { queryType { name } } }'));
  assert.equal(res.status, 200);
  assert.equal(graphqlForwards().length, 1);
  stub.requests.length = 0;
  await refusedWith(await post(bob, json(RUN_ONLY, { id: 'run-a1' })), 403, 'GATEHOUSE_AUTHZ_DENIED');
  const anonymous = await fetch(`${gh.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json('{ __typename }') });
  assert.equal(anonymous.status, 401);
  assert.equal(graphqlForwards().length, 0);
});

test('malformed, batched, unknown or too deep: 400 in MLflow\'s error shape, nothing forwarded', async () => {
  for (const body of [
    '{"query":"{ mlflowGetRun(input: {runId: \\"run-a1\\"}) { run "}',
    JSON.stringify([{ query: '{ __typename }' }]),
    json('{ mlflowGetRun(input: {runId: "run-a1"}) { run { secret } } }'),
    json('mutation { mlflowDeleteRun(input: {runId: "run-a1"}) { ok } }'),
    json(RUN_ONLY, { id: 'run-a1' }, 'Other'),
    json('{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }'), // depth 9 > server.graphql.maxDepth 8
    JSON.stringify({ variables: { id: 'run-a1' } }),
  ]) {
    const res = await post(vic, body);
    const answer = (await res.json()) as { error_code: string; gatehouse_code: string };
    assert.equal(res.status, 400, body);
    assert.equal(answer.error_code, 'INVALID_PARAMETER_VALUE', body);
    assert.match(answer.gatehouse_code, /^GATEHOUSE_REQUEST_BAD_(GRAPHQL|JSON)$/, body);
  }
  assert.equal(graphqlForwards().length, 0);
});

test('MLflow\'s read-only "mutations" are searches, checked as such', async () => {
  assert.equal((await post(vic, json('mutation { mlflowSearchRuns(input: {experimentIds: ["1", "2"]}) { runs { info { runId } } } }'))).status, 200);
  assert.equal(graphqlForwards().length, 1);
  stub.requests.length = 0;
  await refusedWith(await post(eve, json('mutation { mlflowSearchDatasets(input: {experimentIds: ["2"]}) { datasetSummaries { name } } }')), 403, 'GATEHOUSE_AUTHZ_DENIED');
});
