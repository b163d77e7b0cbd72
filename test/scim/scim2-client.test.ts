/**
 * A provisioning scenario driven by scim2-client (PyPI) — create a user, add it to a group, patch
 * it, deactivate, reactivate, remove it from the group, delete it — and after each step what the
 * stock MLflow Python client, with the user's personal token, can do against a real MLflow behind
 * the gateway. The group `ml-team` is bound to `contributor` in the configuration: SCIM decides
 * who is in it, the binding decides what that means.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { childEnv, requireScimVenv } from '../harness/paths.ts';
import { ADMIN_AUTH, callJson, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { runPython } from '../harness/python-client.ts';
import { CONFIG_ACTOR } from '../../src/services/context.ts';

let mlflow: MlflowServer;
let gh: InProcess;
let scimToken: string;

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    'auth.providers': [{ type: 'token' }, { type: 'local' }],
    scim: { enabled: true },
    bindings: [{ role: 'contributor', group: 'ml-team', tenant: 'default' }],
  });
  scimToken = (await gh.services.scimTokens.create(CONFIG_ACTOR, 'okta')).token;
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

function scimStep(...args: string[]): Promise<Record<string, unknown>> {
  const python = requireScimVenv();
  return new Promise((resolve, reject) => {
    const p = spawn(python, [join(import.meta.dirname, 'scim2_client_step.py'), `${gh.url}/_gatehouse/scim/v2`, scimToken, ...args], { env: childEnv() });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>) : reject(new Error(`${args[0]} exited ${code}: ${stderr.slice(-3000)}`))));
  });
}

async function mlflowAs(token: string): Promise<{ read: string; write: string }> {
  const r = await runPython(join(import.meta.dirname, 'provisioning_client.py'), { MLFLOW_TRACKING_URI: gh.url, MLFLOW_TRACKING_TOKEN: token, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { read: string; write: string };
}

test('create, add to group, patch, deactivate, reactivate, remove from group, delete — and what the MLflow client can do after each', async () => {
  const user = await scimStep('create-user', 'dana');
  assert.equal(user.active, true);
  const id = user.id as string;
  const minted = await callJson(`${gh.url}/_gatehouse/api/v1/tokens`, 'POST', { authorization: ADMIN_AUTH }, { user: 'dana' });
  assert.equal(minted.status, 201);
  const token = minted.body.token as string;
  assert.deepEqual(await mlflowAs(token), { read: 'PERMISSION_DENIED', write: 'PERMISSION_DENIED' }, 'provisioned, in no group: nothing');

  const group = await scimStep('create-group', 'ml-team', id);
  assert.deepEqual(group.members, [id]);
  assert.deepEqual(await mlflowAs(token), { read: 'ok', write: 'ok' }, 'in ml-team: contributor');

  assert.equal((await scimStep('rename', id, 'Dana Scully')).displayName, 'Dana Scully');
  assert.deepEqual(await mlflowAs(token), { read: 'ok', write: 'ok' });

  assert.equal((await scimStep('active', id, 'false')).active, false);
  assert.deepEqual(await mlflowAs(token), { read: 'UNAUTHENTICATED', write: 'UNAUTHENTICATED' }, 'deactivated: its token stops');

  assert.equal((await scimStep('active', id, 'true')).active, true);
  assert.deepEqual(await mlflowAs(token), { read: 'ok', write: 'ok' }, 'reactivated');

  assert.deepEqual((await scimStep('remove-member', group.id as string, id)).members, []);
  assert.deepEqual(await mlflowAs(token), { read: 'PERMISSION_DENIED', write: 'PERMISSION_DENIED' }, 'out of ml-team');

  assert.equal((await scimStep('delete-user', id)).deleted, true);
  assert.deepEqual(await mlflowAs(token), { read: 'UNAUTHENTICATED', write: 'UNAUTHENTICATED' }, 'deleted: its token is gone');
  assert.equal((await callJson(`${gh.url}/_gatehouse/api/v1/users/dana`, 'GET', { authorization: ADMIN_AUTH })).status, 404);
});
