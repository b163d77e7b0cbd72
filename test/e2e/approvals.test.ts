/**
 * Approvals end to end (issue 23, "Done when"): with the stock MLflow client against a real
 * MLflow 3.18, a contributor's `set_registered_model_alias(name, "production", v)` raises the
 * approval-required error with a request id and does not change MLflow (read directly); the
 * requester cannot approve it; a model-approver approves it (admin API) and the alias then points
 * to v in MLflow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { aliasesInMlflow as aliasesOf, APPROVALS_SETUP, runAliasScript } from '../harness/approvals.ts';

const PASSWORD = 'approvals-e2e-password';
const MODEL = 'churn-approvals';

let mlflow: MlflowServer;
let gh: InProcess;

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    ...APPROVALS_SETUP,
  });
  await createUsers(gh, ['alice', 'mia'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

/** The registered model's aliases as MLflow itself has them, read without the gateway. */
const aliasesInMlflow = () => aliasesOf(mlflow.url, MODEL);

const decide = async (user: string, id: string, verb: 'approve' | 'deny', body: unknown = {}) => {
  const res = await fetch(`${gh.url}/_gatehouse/api/v1/approvals/${id}/${verb}`, { method: 'POST', headers: { authorization: basic(user, PASSWORD), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as { status?: string; gatehouse_code?: string; result?: { status: number } };
};

test("a contributor's set_registered_model_alias to production waits for a model-approver, then MLflow has it", async () => {
  const r = await runAliasScript(gh.url, 'alice', PASSWORD, MODEL, 'approvals-e2e');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { version: string; error: { text: string; error_code: string } | null };
  assert.ok(out.error, 'the alias call raised');
  assert.equal(out.error.error_code, 'PERMISSION_DENIED');
  assert.match(out.error.text, /Approval required \(rule production-aliases\)/);
  const id = /request ([0-9a-f-]{36})/.exec(out.error.text)?.[1];
  assert.ok(id, out.error.text);
  assert.match(out.error.text, new RegExp(`/_gatehouse/#/approvals/${id}`));
  assert.deepEqual(await aliasesInMlflow(), {}, 'MLflow has no production alias');
  // docs/mlflow-notes.md: a missing alias is INVALID_PARAMETER_VALUE (400) in 3.18, not RESOURCE_DOES_NOT_EXIST.
  const missing = await fetch(`${mlflow.url}/api/2.0/mlflow/registered-models/alias?name=${MODEL}&alias=production`);
  assert.equal(missing.status, 400);
  assert.equal(((await missing.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');

  assert.equal((await decide('alice', id, 'approve')).gatehouse_code, 'GATEHOUSE_APPROVAL_NOT_ELIGIBLE', 'the requester cannot approve their own');
  assert.deepEqual(await aliasesInMlflow(), {});

  const approved = await decide('mia', id, 'approve', { comment: 'validated' });
  assert.equal(approved.status, 'executed', JSON.stringify(approved));
  assert.equal(approved.result?.status, 200, 'MLflow\'s answer is recorded on the request');
  assert.deepEqual(await aliasesInMlflow(), { production: out.version }, 'the alias points to v in MLflow');
});
