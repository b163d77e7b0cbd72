/**
 * `traces/link-to-run` naming a trace MLflow has not stored yet (issue 21). MLflow 3.18's client
 * logs traces asynchronously, so it links a trace before the trace reaches the server; MLflow
 * answers 200 there. The run is the subject the caller must be allowed to edit; a trace id MLflow
 * stores nowhere names nothing of another tenant and is forwarded; an existing trace of another
 * tenant is refused exactly as a missing resource is. Real MLflow 3.18, workspace and tag mode.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { otlpBody, startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, callJson, startInProcess, type InProcess, createUsers, TWO_TENANTS_THREE_GROUPS } from '../harness/gatehouse.ts';

const PASSWORD = 'a-long-test-password';
const LINK = '/api/2.0/mlflow/traces/link-to-run';
/** Trace ids MLflow has not stored: what the async client links before its trace arrives. */
const unstored = (n: number) => `tr-${n.toString(16).padStart(32, 'e')}`;

for (const mode of ['workspace', 'tag'] as const) {
  describe(`link-to-run with a trace MLflow has not stored yet (${mode} mode)`, () => {
    let mlflow: MlflowServer;
    let gh: InProcess;
    const ws = (tenant: string): Record<string, string> => (mode === 'workspace' ? { 'x-mlflow-workspace': tenant } : {});
    const call = (user: string, tenant: string, method: string, path: string, body?: unknown) =>
      callJson(`${gh.url}${path}`, method, { authorization: basic(user, PASSWORD), ...ws(tenant) }, body);
    const direct = (tenant: string, method: string, path: string, body?: unknown) => callJson(`${mlflow.url}${path}`, method, ws(tenant), body);

    async function runIn(user: string, tenant: string): Promise<{ experiment: string; run: string }> {
      const exp = await call(user, tenant, 'POST', '/api/2.0/mlflow/experiments/create', { name: `${user}-link-exp` });
      assert.equal(exp.status, 200, exp.text);
      const experiment = String((exp.json as { experiment_id: string }).experiment_id);
      const run = await call(user, tenant, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: experiment });
      assert.equal(run.status, 200, run.text);
      return { experiment, run: (run.json as { run: { info: { run_id: string } } }).run.info.run_id };
    }

    let alice: { experiment: string; run: string };
    let ada: { experiment: string; run: string };
    let bob: { experiment: string; run: string };
    const bobTrace = `tr-${'b7'.repeat(16)}`;

    before(async () => {
      mlflow = await startMlflow({ workspaces: mode === 'workspace' });
      gh = await startInProcess(mlflow.url, { ...(mode === 'tag' && { tenancy: { mode: 'tag' } }), ...TWO_TENANTS_THREE_GROUPS.policy, 'rateLimits.enabled': false });
      await createUsers(gh, TWO_TENANTS_THREE_GROUPS.users, PASSWORD);
      if (mode === 'workspace') {
        for (const name of ['team-a', 'team-b']) {
          const r = await callJson(`${gh.url}/api/3.0/mlflow/workspaces`, 'POST', { authorization: basic('ada', PASSWORD) }, { name });
          assert.equal(r.status, 201, r.text);
        }
      }
      alice = await runIn('alice', 'team-a');
      ada = await runIn('ada', 'team-a');
      bob = await runIn('bob', 'team-b');
      const exported = await callJson(`${gh.url}/v1/traces`, 'POST', { authorization: basic('bob', PASSWORD), ...ws('team-b'), 'x-mlflow-experiment-id': bob.experiment }, otlpBody('b7'.repeat(16), '0000000000000001'));
      assert.equal(exported.status, 200, exported.text);
      assert.equal((await call('bob', 'team-b', 'GET', `/api/3.0/mlflow/traces/${bobTrace}`)).status, 200, 'bob\'s trace is stored');
    });
    after(async () => {
      await gh?.close();
      await mlflow?.stop();
    });

    test('MLflow 3.18 itself answers 200 for a trace id it has not stored (docs/mlflow-notes.md)', async () => {
      const theirs = await direct('team-a', 'POST', LINK, { trace_ids: [unstored(1)], run_id: alice.run });
      assert.deepEqual([theirs.status, theirs.json], [200, {}]);
    });

    test('a contributor and an administrator link a trace not stored yet to their own run: forwarded, MLflow\'s answer', async () => {
      for (const [user, own, n] of [['alice', alice, 2], ['ada', ada, 3]] as const) {
        const mine = await call(user, 'team-a', 'POST', LINK, { trace_ids: [unstored(n)], run_id: own.run });
        const theirs = await direct('team-a', 'POST', LINK, { trace_ids: [unstored(n + 100)], run_id: own.run });
        assert.deepEqual([mine.status, mine.text], [theirs.status, theirs.text], `${user}: ${mine.text}`);
        assert.equal(mine.status, 200);
      }
    });

    test('a trace of another tenant that exists is refused exactly as a missing resource, alone or next to an unstored one', async () => {
      const missingRun = await call('alice', 'team-a', 'GET', `/api/3.0/mlflow/traces/${bobTrace}`);
      assert.equal(missingRun.status, 404, missingRun.text);
      for (const trace_ids of [[bobTrace], [unstored(4), bobTrace]]) {
        const r = await call('alice', 'team-a', 'POST', LINK, { trace_ids, run_id: alice.run });
        assert.deepEqual([r.status, r.json], [missingRun.status, missingRun.json], JSON.stringify(trace_ids));
      }
    });

    test('another tenant\'s run is refused, whatever the trace', async () => {
      const r = await call('alice', 'team-a', 'POST', LINK, { trace_ids: [unstored(5)], run_id: bob.run });
      assert.equal(r.status, 404, r.text);
      assert.equal((r.json as { error_code?: string }).error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('a viewer still may not link to a run of its tenant', async () => {
      const r = await call('rita', 'team-a', 'POST', LINK, { trace_ids: [unstored(6)], run_id: alice.run });
      assert.equal(r.status, 403, r.text);
    });
  });
}
