/**
 * MLflow 3.18's role routes (RBAC) through MLflow's own AuthServiceClient against Gatehouse, in
 * front of a real MLflow: every route, MLflow's refusals in MLflow's words, Gatehouse's refusals
 * (NOT_IMPLEMENTED) for what it cannot state, and the effect of every change checked with the
 * stock tracking client acting as the user the role is assigned to. Every change is one admin
 * audit event of door `compat`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { runFlow, stepChecks, type Step } from './flow.ts';

let mlflow: MlflowServer;
let gh: InProcess;
let r: Record<string, Step>;

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, { 'audit.sinks': [{ type: 'store' }] });
  r = await runFlow('auth_roles_flow.py', gh.url);
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

const { ok, fails } = stepChecks(() => r);

test('roles: create, get, update, list, with MLflow refusals in its own words', () => {
  ok('create', { name: 'readers', workspace: 'default', description: "reads the team's work", permissions: [], int_id: true });
  fails('create_again', 'RESOURCE_ALREADY_EXISTS', /Role \(name=readers, workspace=default\) already exists/);
  fails('create_unknown_workspace', 'INVALID_PARAMETER_VALUE', /Workspace 'no-such-ws' does not exist/);
  fails('create_reserved', 'INVALID_PARAMETER_VALUE', /reserved '__user_' prefix/);
  fails('create_as_user', 'PERMISSION_DENIED');
  ok('get', { name: 'readers', workspace: 'default', description: "reads the team's work", permissions: [] });
  fails('get_missing', 'RESOURCE_DOES_NOT_EXIST', /Role with id=987654 not found/);
  fails('get_not_int', 'INVALID_PARAMETER_VALUE', /Parameter 'role_id' must be an integer/);
  ok('update', { name: 'team-readers', workspace: 'default', description: 'reads', permissions: [] });
  ok('list', ['team-readers']);
  ok('list_all', ['team-readers']);
  fails('list_as_user', 'PERMISSION_DENIED');
});

test('role permissions: what maps is stored and enforced; what Gatehouse cannot state is NOT_IMPLEMENTED', () => {
  ok('add_experiment_read');
  fails('add_experiment_again', 'RESOURCE_ALREADY_EXISTS');
  ok('add_models_edit', { role_id_matches: true, resource_type: 'registered_model', resource_pattern: '*', permission: 'EDIT' });
  ok('add_workspace_use');
  fails('add_workspace_manage', 'NOT_IMPLEMENTED', /no workspace administrator/);
  fails('add_runs', 'NOT_IMPLEMENTED', /Grant on 'experiment' or 'registered_model' instead/);
  fails('add_scorer', 'NOT_IMPLEMENTED', /no per-resource grants for resource_type='scorer'/);
  fails('add_mcp_server', 'NOT_IMPLEMENTED', /mcp_server/);
  fails('add_run_by_id', 'INVALID_PARAMETER_VALUE', /supports only wildcard/);
  fails('add_unknown_type', 'INVALID_PARAMETER_VALUE', /Invalid resource type 'notebook'/);
  fails('add_bad_permission', 'INVALID_PARAMETER_VALUE', /Invalid permission 'NO_PERMISSIONS'/);
  const exp = (r.add_experiment_read?.value as { resource_pattern: string }).resource_pattern;
  ok('list_permissions', [
    ['experiment', exp, 'READ'],
    ['registered_model', '*', 'EDIT'],
    ['workspace', '*', 'USE'],
  ]);
});

test('assigning a role gives its permissions at once; changes to the role follow; unassign and delete take them away', () => {
  assert.equal(r.read_before_assign?.ok, false, 'no access before the assignment');
  ok('assign', true);
  fails('assign_again', 'RESOURCE_ALREADY_EXISTS');
  fails('assign_unknown_user', 'RESOURCE_DOES_NOT_EXIST', /User with username=nobody not found/);
  ok('read_after_assign', 'roles-exp');
  fails('write_with_read', 'PERMISSION_DENIED');
  ok('model_write');
  ok('create_experiment_with_use', true);
  ok('user_roles_self', ['team-readers']);
  fails('user_roles_other', 'PERMISSION_DENIED');
  assert.equal((r.role_users?.value as unknown[]).length, 1, 'one assignment');
  ok('check_effective', 'READ');
  const exp = (r.add_experiment_read?.value as { resource_pattern: string }).resource_pattern;
  ok('current_permissions', [
    ['team-readers', 'experiment', exp, 'READ'],
    ['team-readers', 'registered_model', '*', 'EDIT'],
    ['team-readers', 'workspace', '*', 'USE'],
  ]);
  ok('update_permission', 'EDIT');
  ok('write_after_update');
  ok('add_model_deny');
  assert.equal(r.model_read_denied?.ok, false, 'a DENY in the role wins over its wildcard EDIT');
  ok('remove_permission');
  assert.equal(r.read_after_remove?.ok, false, 'the removed permission no longer applies');
  fails('remove_again', 'RESOURCE_DOES_NOT_EXIST');
  ok('remove_deny');
  ok('model_read_after_remove_deny', 'roles-model');
  ok('unassign');
  assert.equal(r.model_read_after_unassign?.ok, false, 'nothing left after the unassignment');
  fails('unassign_again', 'RESOURCE_DOES_NOT_EXIST');
  ok('assign_before_delete');
  ok('delete');
  fails('get_deleted', 'RESOURCE_DOES_NOT_EXIST');
  assert.equal(r.model_read_after_delete?.ok, false, 'a deleted role grants nothing');
  ok('user_roles_after_delete', []);
});

test('every role change is one admin audit event of door compat, the administrator as actor', async () => {
  const actions: string[] = [];
  for await (const e of auditRepository(gh.store.db).scan({})) {
    const ev = e as unknown as { type?: string; action?: string; door?: string; target?: { kind: string } };
    if (ev.type === 'admin' && ev.action?.startsWith('mlflowRole.')) {
      assert.equal(ev.door, 'compat');
      assert.equal(ev.target?.kind, 'role');
      actions.push(ev.action);
    }
  }
  assert.deepEqual(actions, [
    'mlflowRole.create',
    'mlflowRole.update',
    'mlflowRole.permission.add',
    'mlflowRole.permission.add',
    'mlflowRole.permission.add',
    'mlflowRole.assign',
    'mlflowRole.permission.update',
    'mlflowRole.permission.add',
    'mlflowRole.permission.remove',
    'mlflowRole.permission.remove',
    'mlflowRole.unassign',
    'mlflowRole.assign',
    'mlflowRole.delete',
  ]);
});
