/**
 * GraphQL inspection: parsing → per-field uses of REST twin operations, through aliases,
 * fragments and variables; every operation checked; introspection free; anything unknown or
 * unclassified refused; limits enforced.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isObjectType } from 'graphql';
import { GatehouseError, type ErrorCode } from '../../src/errors.ts';
import { FIELD_RULES, graphqlReads, graphqlResourceIds, inspectGraphql, mlflowGraphqlSchema, type GraphqlUse } from '../../src/routes/mlflow/graphql.ts';
import type { Resolver } from '../../src/policy/resolve.ts';
import { graphqlRequests } from '../../src/policy/access-request.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';

const GRAPHQL_ROW = MLFLOW_ROUTES.find((r) => r.op === 'graphql.query')!;

const LIMITS = { maxDepth: 12, maxFields: 200 };
const inspect = (body: unknown, limits = LIMITS) => inspectGraphql(body, limits);
const uses = (query: string, variables?: unknown, operationName?: string) => inspect({ query, variables, operationName }).uses;
const brief = (u: readonly GraphqlUse[]) => u.map((x) => `${x.op} ${x.family} ${x.resource ? `${x.resource.kind}=${x.resource.ids.join(',')}` : '*'}`);

function refused(fn: () => unknown, code: ErrorCode, detail?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatehouseError, String(err));
    assert.equal(err.code, code);
    if (detail) assert.match(err.detail ?? '', detail);
    return true;
  });
}

// The MLflow UI's own run query (mlflow/server/js/build/static/js/640.*.chunk.js), as Apollo sends it.
const UI_GET_RUN = `query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) {
    apiError { helpUrl code message __typename }
    run {
      info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime userId __typename }
      experiment { experimentId name tags { key value __typename } artifactLocation lifecycleStage lastUpdateTime __typename }
      modelVersions { status version name source __typename }
      data { metrics { key value step timestamp __typename } params { key value __typename } tags { key value __typename } __typename }
      inputs { datasetInputs { dataset { digest name profile schema source sourceType __typename } tags { key value __typename } __typename } modelInputs { modelId __typename } __typename }
      outputs { modelOutputs { modelId step __typename } __typename }
      __typename
    }
    __typename
  }
}`;

describe('root fields become uses of their REST twins', () => {
  test('the UI run query: the run, plus registered models tenant-wide for modelVersions', () => {
    const r = inspect({ query: UI_GET_RUN, variables: { data: { runId: 'r1' } }, operationName: 'GetRun' });
    assert.deepEqual(brief(r.uses), ['runs.get experiment run=r1', 'modelVersions.search model *']);
    assert.deepEqual(r.operations, ['query GetRun']);
    assert.equal(r.introspection, false);
    assert.deepEqual(graphqlResourceIds(r).map((x) => [x.kind, x.id, x.from]), [['run', 'r1', 'graphql:GetRun.mlflowGetRun']]);
  });

  test('every root field of Query and Mutation', () => {
    assert.deepEqual(brief(uses('{ mlflowGetExperiment(input: {experimentId: "7"}) { experiment { name } } }')), ['experiments.get experiment experiment=7']);
    assert.deepEqual(brief(uses('{ mlflowListArtifacts(input: {runId: "r", runUuid: "s", path: "x"}) { files { path } } }')), ['artifacts.list experiment run=r,s']);
    assert.deepEqual(brief(uses('{ mlflowGetMetricHistoryBulkInterval(input: {runIds: ["a", "b"], metricKey: "m"}) { metrics { value } } }')), ['metrics.getHistoryBulkInterval experiment run=a,b']);
    assert.deepEqual(brief(uses('{ mlflowSearchRuns(input: {experimentIds: ["1", "2"]}) { runs { info { runId } } } }')), ['runs.search experiment experiment=1,2']);
    assert.deepEqual(brief(uses('{ mlflowSearchModelVersions(input: {filter: "name=\'m\'"}) { modelVersions { name } } }')), ['modelVersions.search model *']);
    assert.deepEqual(brief(uses('mutation { mlflowSearchRuns(input: {experimentIds: ["3"]}) { runs { info { runId } } } }')), ['runs.search experiment experiment=3']);
    assert.deepEqual(brief(uses('mutation { mlflowSearchDatasets(input: {experimentIds: ["4"]}) { datasetSummaries { name } } }')), ['datasets.search experiment experiment=4']);
    assert.deepEqual(uses('{ test(inputString: "x") { output } }'), []);
  });

  test('a field without ids needs the family tenant-wide', () => {
    assert.deepEqual(brief(uses('{ mlflowGetRun(input: {runId: ""}) { run { info { runId } } } }')), ['runs.get experiment *']);
    assert.deepEqual(brief(uses('{ mlflowSearchRuns { runs { info { runId } } } }')), ['runs.search experiment *']);
  });

  test('nested fields that reach other resources: a model version\'s run and logged model', () => {
    const u = uses('{ mlflowSearchModelVersions(input: {}) { modelVersions { name runId modelMetrics { key } deploymentJobState { jobId } } } }');
    assert.deepEqual(brief(u), ['modelVersions.search model *', 'runs.get experiment *', 'loggedModels.get experiment *', 'runs.get experiment *']);
    assert.deepEqual(brief(uses('{ mlflowSearchModelVersions(input: {}) { modelVersions { name version source tags { key } aliases } } }')), ['modelVersions.search model *']);
  });
});

describe('aliases, fragments and variables cannot hide a field', () => {
  test('aliases: each aliased field is a use of its real name', () => {
    const u = uses('{ a: mlflowGetRun(input: {runId: "r1"}) { run { info { runId } } } b: mlflowGetRun(input: {runId: "r2"}) { x: run { y: info { runId } } } }');
    assert.deepEqual(brief(u), ['runs.get experiment run=r1', 'runs.get experiment run=r2']);
    assert.equal(u[1]!.path, '(anonymous).b:mlflowGetRun');
  });

  test('named and inline fragments, at the root and nested', () => {
    const u = uses(`
      query Q { ...Root ... on Query { mlflowGetExperiment(input: {experimentId: "9"}) { experiment { name } } } }
      fragment Root on Query { hidden: mlflowGetRun(input: {runId: "r3"}) { run { ...R } } }
      fragment R on MlflowRunExtension { ... { modelVersions { name } } }`);
    assert.deepEqual(brief(u), ['runs.get experiment run=r3', 'modelVersions.search model *', 'experiments.get experiment experiment=9']);
  });

  test('variables: a whole input, a list, a nested variable, a default value', () => {
    assert.deepEqual(brief(uses('query ($i: MlflowGetRunInput) { mlflowGetRun(input: $i) { run { info { runId } } } }', { i: { runUuid: 'u1' } })), ['runs.get experiment run=u1']);
    assert.deepEqual(brief(uses('query ($ids: [String]) { mlflowSearchRuns(input: {experimentIds: $ids}) { runs { info { runId } } } }', { ids: ['5', '6'] })), ['runs.search experiment experiment=5,6']);
    assert.deepEqual(brief(uses('query ($id: String) { mlflowGetExperiment(input: {experimentId: $id}) { experiment { name } } }', { id: '8' })), ['experiments.get experiment experiment=8']);
    assert.deepEqual(brief(uses('query ($id: String = "d1") { mlflowGetRun(input: {runId: $id}) { run { info { runId } } } }', {})), ['runs.get experiment run=d1']);
    // A single value where a list is expected is coerced to a list, as graphql-core does.
    assert.deepEqual(brief(uses('query ($ids: [String]) { mlflowGetMetricHistoryBulkInterval(input: {runIds: $ids}) { metrics { value } } }', { ids: 'one' })), ['metrics.getHistoryBulkInterval experiment run=one']);
  });

  test('bad variables are refused', () => {
    refused(() => uses('query ($i: MlflowGetRunInput!) { mlflowGetRun(input: $i) { run { info { runId } } } }', {}), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /variables/);
    refused(() => uses('query ($i: MlflowGetRunInput) { mlflowGetRun(input: $i) { run { info { runId } } } }', { i: { run_id: 'snake' } }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /variables/);
    refused(() => uses('{ test(inputString: "x") { output } }', 'not-an-object'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL');
  });

  test('every operation is checked, not only the one named', () => {
    const doc = `query A { mlflowGetRun(input: {runId: "ra"}) { run { info { runId } } } }
                 mutation B { mlflowSearchRuns(input: {experimentIds: ["eb"]}) { runs { info { runId } } } }`;
    const r = inspect({ query: doc, operationName: 'A' });
    assert.deepEqual(r.operations, ['query A', 'mutation B']);
    assert.deepEqual(brief(r.uses), ['runs.get experiment run=ra', 'runs.search experiment experiment=eb']);
    refused(() => inspect({ query: doc }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /selects no operation/);
    refused(() => inspect({ query: doc, operationName: 'C' }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /selects no operation/);
  });
});

describe('introspection, unknown fields, mutations', () => {
  test('introspection and __typename name no resource', () => {
    const r = inspect({ query: '{ __typename __schema { queryType { name } types { name fields { name } } } __type(name: "MlflowRun") { name } }' });
    assert.deepEqual(r.uses, []);
    assert.equal(r.introspection, true);
    assert.deepEqual(uses('{ __typename }'), []);
  });

  test('a field MLflow does not have is refused (400)', () => {
    refused(() => uses('{ mlflowGetRun(input: {runId: "r"}) { run { secret } } }'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /Cannot query field "secret"/);
    refused(() => uses('{ mlflowDeleteExperiment(input: {experimentId: "1"}) { ok } }'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /mlflowDeleteExperiment/);
  });

  test('a mutation that is not one of MLflow\'s read-only "mutations" is refused', () => {
    refused(() => uses('mutation { mlflowDeleteRun(input: {runId: "r"}) { ok } }'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /mlflowDeleteRun/);
    refused(() => uses('subscription { test { output } }'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL');
  });

  test('a schema field the rule table does not classify is refused as unsupported (403), wherever it hides', () => {
    const { testMutation: _, ...mutation } = FIELD_RULES.Mutation!;
    const { modelVersions: __, ...run } = FIELD_RULES.MlflowRunExtension!;
    const rules = { ...FIELD_RULES, Mutation: mutation, MlflowRunExtension: run };
    refused(() => inspectGraphql({ query: 'mutation { testMutation(inputString: "x") { output } }' }, LIMITS, rules), 'GATEHOUSE_AUTHZ_GRAPHQL_UNSUPPORTED', /Mutation\.testMutation/);
    refused(
      () => inspectGraphql({ query: '{ mlflowGetRun(input: {runId: "r"}) { run { ...F } } } fragment F on MlflowRunExtension { m: modelVersions { name } }' }, LIMITS, rules),
      'GATEHOUSE_AUTHZ_GRAPHQL_UNSUPPORTED',
      /MlflowRunExtension\.modelVersions/,
    );
  });

  test('the rule table classifies exactly the fields of MLflow\'s schema', () => {
    const schemaFields = Object.values(mlflowGraphqlSchema().getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith('__'))
      .flatMap((t) => Object.keys((t as { getFields(): Record<string, unknown> }).getFields()).map((f) => `${t.name}.${f}`))
      .sort();
    const ruleFields = Object.entries(FIELD_RULES).flatMap(([t, fields]) => Object.keys(fields).map((f) => `${t}.${f}`)).sort();
    assert.deepEqual(ruleFields, schemaFields);
  });
});

describe('malformed requests and limits (400)', () => {
  test('bodies MLflow would not read as one GraphQL request', () => {
    for (const body of [undefined, null, [], [{ query: '{ __typename }' }], 'q', {}, { query: '' }, { query: 1 }, { query: '{ __typename }', operationName: 3 }, { query: '{ __typename }', variables: [] }]) {
      refused(() => inspect(body), 'GATEHOUSE_REQUEST_BAD_GRAPHQL');
    }
  });

  test('syntax errors and type-system definitions', () => {
    refused(() => uses('{ mlflowGetRun(input: {runId: "r"}) { run '), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /parse/);
    refused(() => uses('type Evil { a: String } { __typename }'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL');
    refused(() => uses('{ ...Loop } fragment Loop on Query { ...Loop }'), 'GATEHOUSE_REQUEST_BAD_GRAPHQL');
  });

  test('depth limit, counted through fragments', () => {
    const deep = '{ mlflowGetRun(input: {runId: "r"}) { run { inputs { datasetInputs { dataset { name } } } } } }'; // depth 6
    assert.equal(inspect({ query: deep }, { maxDepth: 6, maxFields: 200 }).uses.length, 1);
    refused(() => inspect({ query: deep }, { maxDepth: 5, maxFields: 200 }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /deeper than 5/);
    const viaFragment = '{ mlflowGetRun(input: {runId: "r"}) { run { ...I } } } fragment I on MlflowRunExtension { inputs { datasetInputs { dataset { name } } } }';
    refused(() => inspect({ query: viaFragment }, { maxDepth: 5, maxFields: 200 }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /deeper than 5/);
    // Introspection counts too: __schema > types > fields > type > 9 × ofType > name is 14 deep.
    const ofTypes = (n: number): string => (n === 0 ? 'name' : `ofType { ${ofTypes(n - 1)} }`);
    refused(() => inspect({ query: `{ __schema { types { fields { type { ${ofTypes(9)} } } } } }` }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /deeper than 12/);
    assert.equal(inspect({ query: `{ __schema { types { fields { type { ${ofTypes(7)} } } } } }` }).introspection, true);
  });

  test('field limit, with fragments expanded (no exponential blow-up)', () => {
    const levels = Array.from({ length: 8 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const bomb = `{ ...F0 }\n${levels}\nfragment F8 on Query { __typename }`; // 2^8 = 256 fields once expanded
    refused(() => inspect({ query: bomb }), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /more than 200 fields/);
    assert.equal(inspect({ query: UI_GET_RUN, variables: { data: { runId: 'r' } } }).fields < 200, true);
  });
});

describe('bounded: nesting is refused before anything recurses on it', () => {
  test('brackets nested beyond 4 × maxDepth: refused before parsing (the parser recurses on nesting)', () => {
    const nested = (n: number) => `{${'a{'.repeat(n)}b${'}'.repeat(n)}}`;
    refused(() => uses(nested(2000)), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /nested deeper than 48/);
    refused(() => uses(`{ mlflowGetRun(input: ${'{a:'.repeat(60)}1${'}'.repeat(60)}) { run { info { runId } } } }`), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /nested deeper than 48/);
    refused(() => uses(`{ test(inputString: ${'['.repeat(60)}"x"${']'.repeat(60)}) { output } }`), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /nested deeper than 48/);
    // Brackets inside strings and comments are not nesting.
    assert.deepEqual(uses(`{ test(inputString: "${'{'.repeat(100)}") { output } }\n# ${'['.repeat(100)}`).length, 0);
  });

  test('inline fragments nested in one another count as nesting, though they add no field depth', () => {
    const inline = (n: number) => `{${'... on Query {'.repeat(n)} __typename ${'}'.repeat(n)}}`;
    assert.equal(inspect({ query: inline(20) }).fields, 1);
    refused(() => uses(inline(1500)), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /nested deeper than 48/);
  });

  test('a chain of fragments spreading one another: at most maxFields fragments, and the walk is bounded by the same nesting', () => {
    const chain = (n: number) => `{ ...F0 }\n${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join('\n')}\nfragment F${n} on Query { __typename }`;
    assert.equal(inspect({ query: chain(40) }).fields, 1);
    refused(() => uses(chain(60)), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /nested deeper than 48/);
    refused(() => uses(chain(300)), 'GATEHOUSE_REQUEST_BAD_GRAPHQL', /more than 200 fragments/);
  });
});

describe('access requests', () => {
  const fakeResolver = (): Resolver & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      forgetExperiment() {},
      artifactRoot: () => Promise.reject(new Error('not used by GraphQL')),
      stored: () => Promise.reject(new Error('not used by GraphQL')),
      created() {},
      async anchors(ref, ids) {
        calls.push(`${ref.kind}:${ids.map((i) => i.id).join(',')}`);
        if (ids.some((i) => i.id === 'foreign')) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', 'not in tenant');
        return { experimentIds: ids.map((i) => (ref.kind === 'run' ? `exp-of-${i.id}` : i.id)) };
      },
    };
  };

  test('one request per REST twin, one check per distinct resource set, every id resolved', async () => {
    const resolver = fakeResolver();
    const r = inspect({ query: `{ a: mlflowGetRun(input: {runId: "r1"}) { run { modelVersions { name } } } b: mlflowGetRun(input: {runId: "r1"}) { run { info { runId } } }
                                   c: mlflowSearchRuns(input: {experimentIds: ["2"]}) { runs { info { runId } } } }` });
    const requests = graphqlRequests(GRAPHQL_ROW, await graphqlReads(r, resolver, 'team-a'), 'team-a', []);
    assert.deepEqual(resolver.calls.sort(), ['experiment:2', 'run:r1']);
    assert.deepEqual(
      requests.map((q) => [q.op, q.action, q.search, q.tenant, q.checks.map((c) => `${c.family}:${c.need}:${c.anchors?.experimentIds?.join(',') ?? '*'}`)]),
      [
        ['runs.get', 'read', false, 'team-a', ['experiment:read:exp-of-r1']],
        ['modelVersions.search', 'read', false, 'team-a', ['model:read:*']],
        ['runs.search', 'read', false, 'team-a', ['experiment:read:2']],
      ],
    );
  });

  test('a query that names no resource needs only an authenticated caller', async () => {
    const requests = graphqlRequests(GRAPHQL_ROW, await graphqlReads(inspect({ query: '{ __schema { queryType { name } } }' }), fakeResolver(), 'team-a'), 'team-a', []);
    assert.deepEqual(requests, [{ op: 'graphql.query', action: 'authenticated', search: false, tenant: 'team-a', checks: [], owned: [] }]);
  });

  test('an id that does not resolve in the tenant fails the whole request', async () => {
    await assert.rejects(
      graphqlReads(inspect({ query: '{ mlflowGetRun(input: {runId: "mine"}) { run { info { runId } } } x: mlflowGetRun(input: {runId: "foreign"}) { run { info { runId } } } }' }), fakeResolver(), 't'),
      (err: unknown) => err instanceof GatehouseError && err.code === 'GATEHOUSE_RESOURCE_NOT_FOUND',
    );
  });
});
