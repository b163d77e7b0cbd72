/**
 * MLflow 3.18's role routes (RBAC: mlflow/server/auth/__init__.py `create_role` ... `list_role_users`,
 * client.py `AuthServiceClient`), in MLflow's request and response shapes, over the MLflow roles
 * service (src/services/mlflow-roles.ts). Served by the MLflow-compat door (mlflow-auth.ts).
 *
 * Who may call: MLflow lets platform admins and workspace managers (workspace MANAGE) manage
 * roles; Gatehouse has no workspace manager (such a grant is refused), so role management is for
 * platform administrators, and a user may list its own roles.
 */
import type { MlflowRolePermissionView, MlflowRoleView, MlflowRolesService } from '../services/mlflow-roles.ts';
import type { User } from '../store/store.ts';
import { denied, invalid, type Call } from './call.ts';

export const roleJson = (r: MlflowRoleView) => ({
  id: r.id,
  name: r.name,
  workspace: r.workspace,
  description: r.description,
  permissions: r.permissions.map(permissionJson),
});
const permissionJson = (p: MlflowRolePermissionView) => ({ id: p.id, role_id: p.roleId, resource_type: p.resourceType, resource_pattern: p.resourcePattern, permission: p.permission });
/**
 * MLflow's assignment has an integer id of its own; in Gatehouse an assignment is a group
 * membership, named by the role and the user: the id is `<role_id>:<user_id>`.
 */
const assignmentJson = (roleId: number, userId: string) => ({ id: `${roleId}:${userId}`, user_id: userId, role_id: roleId });

/** An optional string body field that must be a string when present (MLflow's checks in create_role / update_role). */
function optionalString(c: Call, name: string, message: string): string | undefined {
  const v = c.param(name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(message);
  return v;
}

export const ROLE_ROUTES = [
  { method: 'POST', version: 3, path: '/roles/create', name: 'createRole' },
  { method: 'GET', version: 3, path: '/roles/get', name: 'getRole' },
  { method: 'GET', version: 3, path: '/roles/list', name: 'listRoles' },
  { method: 'PATCH', version: 3, path: '/roles/update', name: 'updateRole' },
  { method: 'DELETE', version: 3, path: '/roles/delete', name: 'deleteRole' },
  { method: 'POST', version: 3, path: '/roles/permissions/add', name: 'addRolePermission' },
  { method: 'DELETE', version: 3, path: '/roles/permissions/remove', name: 'removeRolePermission' },
  { method: 'GET', version: 3, path: '/roles/permissions/list', name: 'listRolePermissions' },
  { method: 'PATCH', version: 3, path: '/roles/permissions/update', name: 'updateRolePermission' },
  { method: 'POST', version: 3, path: '/roles/assign', name: 'assignRole' },
  { method: 'DELETE', version: 3, path: '/roles/unassign', name: 'unassignRole' },
  { method: 'GET', version: 3, path: '/users/roles/list', name: 'listUserRoles' },
  { method: 'GET', version: 3, path: '/roles/users/list', name: 'listRoleUsers' },
] as const;

export interface RoleDoorDeps {
  readonly roles: MlflowRolesService;
  /** The caller's local user name, if it is a local user (mlflow-auth.ts `self`). */
  readonly self: (c: Call) => string | undefined;
  readonly findUser: (username: string) => Promise<User>;
  /** User name → user id, of every local user. */
  readonly userIds: () => Promise<ReadonlyMap<string, string>>;
}

export function roleHandlers(deps: RoleDoorDeps) {
  const { roles } = deps;
  const adminOnly = (c: Call) => {
    if (!c.admin) throw denied();
  };
  return {
    async createRole(c: Call) {
      adminOnly(c);
      const name = c.param('name');
      const workspace = c.param('workspace');
      if (typeof name !== 'string' || name.trim() === '') throw invalid('Role name cannot be empty.');
      if (typeof workspace !== 'string' || workspace.trim() === '') throw invalid('Workspace cannot be empty.');
      const description = optionalString(c, 'description', 'Role description must be a string or null.') ?? null;
      return { role: roleJson(await roles.create(c.actor, { workspace, name, description })) };
    },
    async getRole(c: Call) {
      adminOnly(c);
      return { role: roleJson(await roles.get(c.int('role_id'))) };
    },
    async listRoles(c: Call) {
      adminOnly(c);
      // Repeated `workspace` scopes the listing (MLflow reads request.args.getlist).
      const raw = c.param('workspace');
      const workspaces = raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw];
      if (workspaces?.some((w) => typeof w !== 'string' || w.trim() === '')) throw invalid("Parameter 'workspace' must be a non-empty string when provided.");
      return { roles: (await roles.list(workspaces as string[] | undefined)).map(roleJson) };
    },
    async updateRole(c: Call) {
      adminOnly(c);
      const id = c.int('role_id');
      const name = optionalString(c, 'name', 'Role name cannot be empty.');
      const description = optionalString(c, 'description', 'Role description must be a string.');
      if (name === undefined && description === undefined) throw invalid("At least one of 'name' or 'description' must be provided to update a role.");
      if (name !== undefined && name.trim() === '') throw invalid('Role name cannot be empty.');
      return { role: roleJson(await roles.update(c.actor, id, { name, description })) };
    },
    async deleteRole(c: Call) {
      adminOnly(c);
      await roles.delete(c.actor, c.int('role_id'));
      return {};
    },
    async addRolePermission(c: Call) {
      adminOnly(c);
      const id = c.int('role_id');
      const made = await roles.addPermission(c.actor, id, c.str('resource_type'), c.str('resource_pattern'), c.str('permission'));
      return { role_permission: permissionJson(made) };
    },
    async removeRolePermission(c: Call) {
      adminOnly(c);
      await roles.removePermission(c.actor, c.int('role_permission_id'));
      return {};
    },
    async listRolePermissions(c: Call) {
      adminOnly(c);
      return { role_permissions: (await roles.get(c.int('role_id'))).permissions.map(permissionJson) };
    },
    async updateRolePermission(c: Call) {
      adminOnly(c);
      const id = c.int('role_permission_id');
      return { role_permission: permissionJson(await roles.updatePermission(c.actor, id, c.str('permission'))) };
    },
    async assignRole(c: Call) {
      adminOnly(c);
      const username = c.str('username');
      const made = await roles.assign(c.actor, c.int('role_id'), username);
      return { assignment: assignmentJson(made.roleId, made.userId) };
    },
    async unassignRole(c: Call) {
      adminOnly(c);
      await roles.unassign(c.actor, c.int('role_id'), c.str('username'));
      return {};
    },
    async listUserRoles(c: Call) {
      const username = c.str('username');
      if (!c.admin && deps.self(c) !== username) throw denied();
      await deps.findUser(username);
      return { roles: (await roles.rolesOf(username)).map(roleJson) };
    },
    async listRoleUsers(c: Call) {
      adminOnly(c);
      const id = c.int('role_id');
      const members = await roles.members(id);
      const ids = await deps.userIds();
      return { assignments: members.flatMap((m) => (ids.has(m) ? [assignmentJson(id, ids.get(m)!)] : [])) };
    },
  };
}
