/**
 * GraphQL end to end: a real MLflow 3.18 with workspaces behind Gatehouse. A viewer in team-a
 * runs the MLflow UI's own GraphQL queries (copied verbatim from the UI bundle) on team-a's run
 * and gets data; the same queries naming team-b's run or experiment are refused as not existing
 * before MLflow sees them. Also checks that the schema Gatehouse validates against is the one
 * this MLflow serves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { PYTHON } from '../harness/paths.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { MLFLOW_GRAPHQL_SDL } from '../../src/routes/mlflow/graphql-schema.ts';

// The MLflow UI's GraphQL operations, verbatim from mlflow/server/js/build/static/js/ (MLflow 3.18.0).
// 640.7e9999ce.chunk.js
const GET_RUN = `
  query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetRun(input: $data) {
      apiError {
        helpUrl
        code
        message
      }
      run {
        info {
          runName
          status
          runUuid
          experimentId
          artifactUri
          endTime
          lifecycleStage
          startTime
          userId
        }
        experiment {
          experimentId
          name
          tags {
            key
            value
          }
          artifactLocation
          lifecycleStage
          lastUpdateTime
        }
        modelVersions {
          status
          version
          name
          source
        }
        data {
          metrics {
            key
            value
            step
            timestamp
          }
          params {
            key
            value
          }
          tags {
            key
            value
          }
        }
        inputs {
          datasetInputs {
            dataset {
              digest
              name
              profile
              schema
              source
              sourceType
            }
            tags {
              key
              value
            }
          }
          modelInputs {
            modelId
          }
        }
        outputs {
          modelOutputs {
            modelId
            step
          }
        }
      }
    }
  }
`;

// 5313.983dbcf7.chunk.js
const SEARCH_RUNS = `
  query SearchRuns($data: MlflowSearchRunsInput!) {
    mlflowSearchRuns(input: $data) {
      apiError {
        helpUrl
        code
        message
      }
      runs {
        info {
          runName
          status
          runUuid
          experimentId
          artifactUri
          endTime
          lifecycleStage
          startTime
          userId
        }
        experiment {
          experimentId
          name
          tags {
            key
            value
          }
          artifactLocation
          lifecycleStage
          lastUpdateTime
        }
        data {
          metrics {
            key
            value
            step
            timestamp
          }
          params {
            key
            value
          }
          tags {
            key
            value
          }
        }
        inputs {
          datasetInputs {
            dataset {
              digest
              name
              profile
              schema
              source
              sourceType
            }
            tags {
              key
              value
            }
          }
          modelInputs {
            modelId
          }
        }
        outputs {
          modelOutputs {
            modelId
            step
          }
        }
        modelVersions {
          version
          name
          creationTimestamp
          status
          source
        }
      }
    }
  }
`;

// 9867.768a39b1.chunk.js
const GET_METRIC_HISTORY_BULK_INTERVAL = `
  query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!)
  @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetMetricHistoryBulkInterval(input: $data) {
      __typename
      metrics {
        timestamp
        step
        runId
        key
        value
      }
      apiError {
        code
        message
      }
    }
  }
`;

// main.00d66947.js
const GET_EXPERIMENT = `
  query MlflowGetExperimentQuery($input: MlflowGetExperimentInput!) @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetExperiment(input: $input) {
      apiError {
        code
        message
      }
      experiment {
        artifactLocation
        creationTime
        effectiveTraceArchivalRetention
        experimentId
        lastUpdateTime
        lifecycleStage
        name
        tags {
          key
          value
        }
      }
    }
  }
`;


const PASSWORD = 'a-long-test-password';
const vic = basic('vic', PASSWORD);

let mlflow: MlflowServer;
let gh: InProcess;
let printedSchema: Promise<string>;
const ids: Record<string, string> = {};

async function call(path: string, body: unknown, workspace: string, auth = ADMIN_AUTH): Promise<Record<string, unknown>> {
  const res = await fetch(`${gh.url}${path}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json', 'x-mlflow-workspace': workspace },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function seed(workspace: string, suffix: string): Promise<void> {
  const exp = (await call('/api/2.0/mlflow/experiments/create', { name: `exp-${suffix}` }, workspace)) as { experiment_id: string };
  const run = (await call('/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id, start_time: 1 }, workspace)) as { run: { info: { run_id: string; artifact_uri: string } } };
  const runId = run.run.info.run_id;
  await call('/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 0.5, timestamp: 1, step: 0 }, workspace);
  await call('/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'loss', value: 0.25, timestamp: 2, step: 1 }, workspace);
  await call('/api/2.0/mlflow/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' }, workspace);
  await call('/api/2.0/mlflow/registered-models/create', { name: `model-${suffix}` }, workspace);
  await call('/api/2.0/mlflow/model-versions/create', { name: `model-${suffix}`, source: `${run.run.info.artifact_uri}/model`, run_id: runId }, workspace);
  ids[`exp-${suffix}`] = exp.experiment_id;
  ids[`run-${suffix}`] = runId;
}

before(async () => {
  // Printed by the installed MLflow itself (slow to import: started alongside the server).
  printedSchema = promisify(execFile)(PYTHON, ['-c', 'from mlflow.server.graphql.graphql_schema_extensions import schema; print(schema)'], { encoding: 'utf8' }).then((r) => r.stdout);
  printedSchema.catch(() => {}); // awaited (and failed on) in its test
  mlflow = await startMlflow({ workspaces: true });
  gh = await startInProcess(mlflow.url, {
    tenants: [
      { name: 'team-a', members: { users: ['vic'] } },
      { name: 'team-b', members: { users: [] } },
    ],
    bindings: [{ role: 'viewer', user: 'vic', tenant: 'team-a' }],
  });
  await gh.store.createUser({ username: 'vic', passwordHash: await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 }), admin: false });
  for (const name of ['team-a', 'team-b']) {
    const res = await fetch(`${gh.url}/api/3.0/mlflow/workspaces`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    assert.equal(res.status, 201, await res.text());
  }
  await seed('team-a', 'a');
  await seed('team-b', 'b');
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

async function graphql(query: string, operationName: string, variables: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gh.url}/graphql`, {
    method: 'POST',
    headers: { authorization: vic, 'content-type': 'application/json', 'x-mlflow-workspace': 'team-a' },
    body: JSON.stringify({ operationName, variables, query }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('a viewer runs the UI\'s queries on a run of its tenant and gets the data', async () => {
  const run = await graphql(GET_RUN, 'GetRun', { data: { runId: ids['run-a'] } });
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const r = (run.body.data as { mlflowGetRun: { run: { info: { runUuid: string; experimentId: string }; experiment: { name: string }; modelVersions: { name: string }[]; data: { params: { key: string }[] } } } }).mlflowGetRun.run;
  assert.equal(r.info.runUuid, ids['run-a']);
  assert.equal(r.experiment.name, 'exp-a');
  assert.deepEqual(r.modelVersions.map((v) => v.name), ['model-a']);
  assert.deepEqual(r.data.params.map((p) => p.key), ['lr']);

  const search = await graphql(SEARCH_RUNS, 'SearchRuns', { data: { filter: `attributes.run_id = '${ids['run-a']}'`, experimentIds: [ids['exp-a']] } });
  assert.equal(search.status, 200, JSON.stringify(search.body));
  const runs = (search.body.data as { mlflowSearchRuns: { runs: { info: { runUuid: string } }[] } }).mlflowSearchRuns.runs;
  assert.deepEqual(runs.map((x) => x.info.runUuid), [ids['run-a']]);

  const metrics = await graphql(GET_METRIC_HISTORY_BULK_INTERVAL, 'GetMetricHistoryBulkInterval', { data: { runIds: [ids['run-a']], metricKey: 'loss', maxResults: 320 } });
  assert.equal(metrics.status, 200, JSON.stringify(metrics.body));
  assert.deepEqual((metrics.body.data as { mlflowGetMetricHistoryBulkInterval: { metrics: { value: number }[] } }).mlflowGetMetricHistoryBulkInterval.metrics.map((m) => m.value), [0.5, 0.25]);

  const exp = await graphql(GET_EXPERIMENT, 'MlflowGetExperimentQuery', { input: { experimentId: ids['exp-a'] } });
  assert.equal(exp.status, 200, JSON.stringify(exp.body));
  assert.equal((exp.body.data as { mlflowGetExperiment: { experiment: { name: string } } }).mlflowGetExperiment.experiment.name, 'exp-a');
});

test('the same queries on another tenant\'s run and experiment are refused as not existing, before MLflow', async () => {
  const before = gh.events.length;
  const cases: [string, string, unknown][] = [
    [GET_RUN, 'GetRun', { data: { runId: ids['run-b'] } }],
    [SEARCH_RUNS, 'SearchRuns', { data: { experimentIds: [ids['exp-b']] } }],
    [GET_METRIC_HISTORY_BULK_INTERVAL, 'GetMetricHistoryBulkInterval', { data: { runIds: [ids['run-a'], ids['run-b']], metricKey: 'loss' } }],
    [GET_EXPERIMENT, 'MlflowGetExperimentQuery', { input: { experimentId: ids['exp-b'] } }],
  ];
  for (const [query, name, variables] of cases) {
    const res = await graphql(query, name, variables);
    assert.equal(res.status, 404, `${name}: ${JSON.stringify(res.body)}`);
    assert.deepEqual([res.body.error_code, res.body.gatehouse_code], ['RESOURCE_DOES_NOT_EXIST', 'GATEHOUSE_RESOURCE_NOT_FOUND'], name);
  }
  const refused = gh.events.slice(before).filter((e) => e.ctx.route?.row.op === 'graphql.query');
  assert.equal(refused.length, cases.length);
  for (const e of refused) assert.equal(e.ctx.upstreamStatus, undefined, 'a refused GraphQL query reached MLflow');
});

test('the schema Gatehouse validates against is the one this MLflow serves', async () => {
  assert.equal(MLFLOW_GRAPHQL_SDL.trim(), (await printedSchema).trim());
});
