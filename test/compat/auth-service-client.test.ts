/**
 * MLflow's own AuthServiceClient (mlflow.server.get_app_client("basic-auth")) against Gatehouse's
 * MLflow-auth-compatible endpoints, in front of a real MLflow; the effect of every change is
 * checked with the stock tracking client acting as the managed user.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, ADMIN_USER, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { runFlow, stepChecks, type Step } from './flow.ts';

let mlflow: MlflowServer;
let gh: InProcess;
let r: Record<string, Step>;

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url);
  r = await runFlow('auth_client_flow.py', gh.url);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

const { ok, fails } = stepChecks(() => r);

test('users: create, get (admin and self), duplicates and non-admins refused', () => {
  ok('create', { username: 'alice', is_admin: false, has_id: true });
  fails('create_again', 'RESOURCE_ALREADY_EXISTS');
  ok('get', { username: 'alice', is_admin: false });
  ok('get_self', 'alice');
  fails('create_as_non_admin', 'PERMISSION_DENIED');
});

test('experiment grant and revoke change what the user can do through the gateway', () => {
  assert.equal(r.read_before_grant?.ok, false, 'no access before the grant');
  ok('grant_read');
  fails('grant_read_again', 'RESOURCE_ALREADY_EXISTS');
  ok('read_after_grant', 'compat-exp');
  fails('write_with_read', 'PERMISSION_DENIED');
  ok('check_read', { allowed: false, permission: 'READ' }); // MLflow: allowed mirrors can_use
  fails('grant_as_non_manager', 'PERMISSION_DENIED');
  ok('revoke_read');
  fails('revoke_again', 'RESOURCE_DOES_NOT_EXIST');
  assert.equal(r.read_after_revoke?.ok, false, 'no access after the revoke');
  ok('check_after_revoke', 'NO_PERMISSIONS');
});

test('registered model grants, wildcard grants and DENY', () => {
  ok('grant_model_edit');
  ok('model_write');
  ok('check_model', { allowed: true, permission: 'EDIT' });
  ok('revoke_model');
  ok('grant_read_all_models');
  ok('grant_deny');
  assert.equal(r.read_denied_model?.ok, false, 'a DENY wins over the wildcard READ');
  ok('check_denied', 'DENY');
  ok('list_permissions', [
    ['registered_model', '*', 'READ'],
    ['registered_model', 'compat-model', 'DENY'],
  ]);
});

test('per-user grants Gatehouse cannot state are NOT_IMPLEMENTED; what MLflow refuses keeps its words', () => {
  fails('grant_scorer', 'NOT_IMPLEMENTED', /no per-resource grants for resource_type='scorer'/);
  fails('grant_runs', 'NOT_IMPLEMENTED', /Grant on 'experiment' or 'registered_model' instead/);
  fails('grant_run_by_id', 'INVALID_PARAMETER_VALUE', /supports only wildcard/);
  fails('grant_unknown_type', 'INVALID_PARAMETER_VALUE', /Invalid resource type 'notebook'/);
});

test('passwords: the admin resets, the user changes its own with the current one, the old stops working at once', () => {
  ok('update_password');
  fails('old_password', 'UNAUTHENTICATED');
  ok('new_password', 'alice');
  fails('self_password_without_current', 'INVALID_PARAMETER_VALUE');
  ok('self_password');
  ok('after_self_password', 'alice');
});

test('update-admin makes the user a platform administrator at once', () => {
  assert.equal(r.admin_call_as_user?.ok, false);
  ok('update_admin');
  ok('get_after_admin', true);
  ok('admin_call_as_admin', 'compat-exp');
  ok('update_admin_back');
});

test('delete removes the user and its credentials stop working', () => {
  ok('delete');
  fails('get_deleted', 'RESOURCE_DOES_NOT_EXIST');
  fails('deleted_login', 'UNAUTHENTICATED');
});

test('only the exact compat methods reach the compat API; anything else stays with the pipeline', async () => {
  const wrongMethod = await fetch(`${gh.url}/api/2.0/mlflow/users/create`, { headers: { authorization: ADMIN_AUTH } });
  assert.equal(wrongMethod.status, 404);
  assert.equal(((await wrongMethod.json()) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_ROUTE_UNKNOWN');
  const roles = await fetch(`${gh.url}/api/3.0/mlflow/roles/list`, { method: 'POST', headers: { authorization: ADMIN_AUTH } });
  assert.equal(roles.status, 404, 'a role route with a method MLflow does not serve it with stays with the pipeline');
  const anonymous = await fetch(`${gh.url}/api/2.0/mlflow/users/get?username=admin`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
  const ajax = await fetch(`${gh.url}/ajax-api/2.0/mlflow/users/current`, { headers: { authorization: ADMIN_AUTH } });
  assert.equal(ajax.status, 200);
  assert.deepEqual(((await ajax.json()) as { user: { username: string; is_admin: boolean } }).user.username, ADMIN_USER);
});
