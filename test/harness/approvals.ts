/** What the approvals suites share: the gateway set-up of issue 23's "Done when" and MLflow's aliases read directly. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.ts';
import { runPython } from './python-client.ts';

/** team-a with contributor alice and model-approver mia; the quickstart's production-aliases rule. */
export const APPROVALS_SETUP = {
  tenancy: { mode: 'tag' },
  tenants: [{ name: 'team-a', members: { users: ['alice', 'mia'] } }],
  bindings: [
    { role: 'contributor', user: 'alice', tenant: 'team-a' },
    { role: 'model-approver', user: 'mia', tenant: 'team-a' },
  ],
  'approvals.rules': [{ name: 'production-aliases', kind: 'alias', aliases: ['production', 'champion'], approvers: { roles: ['model-approver'], tenantAdmins: true } }],
};

/** A registered model's aliases as MLflow itself has them, read without the gateway. */
export async function aliasesInMlflow(mlflowUrl: string, model: string): Promise<Record<string, string>> {
  const res = await fetch(`${mlflowUrl}/api/2.0/mlflow/registered-models/get?name=${model}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { registered_model: { aliases?: { alias: string; version: string }[] } };
  return Object.fromEntries((body.registered_model.aliases ?? []).map((a) => [a.alias, a.version]));
}

/** test/e2e/approvals_alias.py as `user` with the stock MLflow client: registers a version, tries to point `production` at it. */
export function runAliasScript(gatewayUrl: string, user: string, password: string, model: string, experiment: string) {
  return runPython(join(ROOT, 'test/e2e/approvals_alias.py'), {
    MLFLOW_TRACKING_URI: gatewayUrl,
    MLFLOW_TRACKING_USERNAME: user,
    MLFLOW_TRACKING_PASSWORD: password,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    GH_MODEL: model,
    GH_EXPERIMENT: experiment,
  });
}
