/**
 * Denials that explain themselves (issue 20), read as a user reads them: the stock MLflow client's
 * exception text for a viewer's refused writes names the operation, the level it needs on which
 * kind of resource, the reason id and the request id, and nothing about the resource itself; the
 * audit event of the same request carries the operation and the reason ids.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, callJson, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { runPython } from '../harness/python-client.ts';
import { ROOT } from '../harness/paths.ts';

const PASSWORD = 'a-long-test-password';
const EXPERIMENT = 'denial-secret-experiment';

let mlflow: MlflowServer;
let gh: InProcess;

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    tenancy: { mode: 'tag' },
    tenants: [{ name: 'team-a', members: { users: ['alice', 'vic'] } }],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'viewer', user: 'vic', tenant: 'team-a' },
    ],
  });
  await createUsers(gh, ['alice', 'vic'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

test("a viewer's refused writes: the MLflow client's exception names the operation, the level needed on which kind, the reason and the request id", async () => {
  const alice = { authorization: basic('alice', PASSWORD) };
  const exp = await callJson(`${gh.url}/api/2.0/mlflow/experiments/create`, 'POST', alice, { name: EXPERIMENT });
  assert.equal(exp.status, 200, JSON.stringify(exp.body));
  const experimentId = (exp.body as { experiment_id: string }).experiment_id;
  const run = await callJson(`${gh.url}/api/2.0/mlflow/runs/create`, 'POST', alice, { experiment_id: experimentId });
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const runId = (run.body as { run: { info: { run_id: string } } }).run.info.run_id;

  const before = gh.events.length;
  const r = await runPython(join(ROOT, 'test/e2e/denial_message.py'), {
    MLFLOW_TRACKING_URI: gh.url,
    MLFLOW_TRACKING_USERNAME: 'vic',
    MLFLOW_TRACKING_PASSWORD: PASSWORD,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    GH_RUN_ID: runId,
    GH_EXPERIMENT_ID: experimentId,
  });
  assert.equal(r.code, 0, r.stderr);
  const texts = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string | null>;
  const refusals = gh.events.slice(before).filter((e) => e.ctx.errorCode === 'GATEHOUSE_AUTHZ_DENIED');
  const ids = refusals.map((e) => e.ctx.requestId);
  assert.equal(ids.length, 2, 'both calls were refused by the gateway');
  assert.equal(texts.log_metric, `PERMISSION_DENIED: Permission denied: runs.logMetric needs EDIT on run (no-grant). Request id: ${ids[0]}.`);
  assert.equal(texts.delete_experiment, `PERMISSION_DENIED: Permission denied: experiments.delete needs MANAGE on experiment (no-grant). Request id: ${ids[1]}.`);
  for (const text of Object.values(texts)) for (const secret of [runId, EXPERIMENT, `'${experimentId}'`]) assert.ok(!text!.includes(secret), `${text} names ${secret}`);
  // The audit event of each refusal: the operation, the action and the reason ids.
  assert.deepEqual(
    refusals.map((e) => [e.ctx.route?.row.op, e.ctx.route?.row.action, e.ctx.decision?.reasons]),
    [['runs.logMetric', 'edit', ['no-grant']], ['experiments.delete', 'manage', ['no-grant']]],
  );
});
