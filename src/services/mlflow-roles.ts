/**
 * MLflow 3.18's named roles (RBAC), kept in Gatehouse's own model so the engine enforces them like
 * any other grant: role R (MLflow id N, workspace W) is the local group `mlflow-role-N`; each of its
 * permissions is one binding on that group in tenant W (src/compat/mlflow-permissions.ts
 * `roleBindingFor`); assigning R to a user makes the user a member of the group. The role's MLflow
 * id, name, description and its permissions' ids live in src/store/mlflow-roles.ts.
 *
 * Each change happens in one store transaction (the row and the binding or membership it stands
 * for never part) and is one admin audit event (target kind `role`, id `mlflow:<id>`). What MLflow
 * accepts and Gatehouse cannot state is refused (NOT_IMPLEMENTED), never approximated.
 */
import { changesOf } from '../audit/admin-event.ts';
import { ensureMlflowRoles, grantRefusal, roleBindingFor } from '../compat/mlflow-permissions.ts';
import { mlflowRoleRepository, type StoredMlflowRole, type StoredMlflowRolePermission } from '../store/mlflow-roles.ts';
import type { Store } from '../store/store.ts';
import { policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { callerError } from '../errors.ts';

export type MlflowRolePermissionView = Omit<StoredMlflowRolePermission, 'bindingId'>;
export interface MlflowRoleView extends StoredMlflowRole {
  readonly permissions: readonly MlflowRolePermissionView[];
}

/** The local group whose members hold MLflow role `id`. */
export const mlflowRoleGroup = (id: number): string => `mlflow-role-${id}`;

// MLflow's own messages (sqlalchemy_store.py), so AuthServiceClient and the UI read them as from MLflow.
const invalid = (m: string) => callerError('GATEHOUSE_COMPAT_INVALID_PARAMETER', m);
const notFound = (m: string) => callerError('GATEHOUSE_COMPAT_NOT_FOUND', m);
const exists = (m: string) => callerError('GATEHOUSE_COMPAT_ALREADY_EXISTS', m);
/** MLflow's MAX_ROLE_NAME_LENGTH / MAX_ROLE_DESCRIPTION_LENGTH (mlflow/server/auth/sqlalchemy_store.py). */
const MAX_NAME = 255;
const MAX_DESCRIPTION = 1024;

function checkName(name: string): void {
  if (name.startsWith('__user_')) {
    throw invalid(`Role name '${name}' uses the reserved '__user_' prefix, which is held for the per-user permission representation. Choose a different name.`);
  }
  if (name.length > MAX_NAME) throw invalid(`Role name exceeds the maximum length of ${MAX_NAME} characters.`);
}
function checkDescription(description: string | null | undefined): void {
  if (description != null && description.length > MAX_DESCRIPTION) throw invalid(`Role description exceeds the maximum length of ${MAX_DESCRIPTION} characters.`);
}

const strip = ({ bindingId: _b, ...p }: StoredMlflowRolePermission): MlflowRolePermissionView => p;
const target = (id: number) => ({ kind: 'role' as const, id: `mlflow:${id}` });

export function mlflowRolesService(deps: ServiceDeps) {
  const roles = (store: Store = deps.store) => mlflowRoleRepository(store.db);

  async function mustGet(id: number, store?: Store): Promise<StoredMlflowRole> {
    return (await roles(store).get(id)) ?? Promise.reject(notFound(`Role with id=${id} not found`));
  }
  async function withPermissions(list: readonly StoredMlflowRole[]): Promise<MlflowRoleView[]> {
    const perms = await roles().permissions(list.map((r) => r.id));
    return list.map((r) => ({ ...r, permissions: perms.filter((p) => p.roleId === r.id).map(strip) }));
  }
  async function mustGetPermission(id: number, store?: Store): Promise<StoredMlflowRolePermission> {
    return (await roles(store).permission(id)) ?? Promise.reject(notFound(`Role permission with id=${id} not found`));
  }
  /** The binding for a permission of `role`, MLflow's refusals as INVALID_PARAMETER_VALUE, Gatehouse's as NOT_IMPLEMENTED. */
  function bindingOf(role: StoredMlflowRole, type: string, pattern: string, permission: string) {
    try {
      return roleBindingFor(mlflowRoleGroup(role.id), role.workspace, type, pattern, permission);
    } catch (err) {
      throw grantRefusal(err);
    }
  }
  async function userOf(username: string, store: Store = deps.store) {
    return (await store.findUserByName(username)) ?? Promise.reject(notFound(`User with username=${username} not found`));
  }
  /** After a committed change: every gateway follows, and the one admin event. */
  async function changed(actor: Actor, action: string, id: number, tenant: string, before: unknown, after: unknown) {
    await deps.policyChanged();
    await recordChange(deps, actor, { action, target: target(id), tenant, changes: changesOf(before as Record<string, unknown> | null, after as Record<string, unknown> | null) });
  }

  return {
    /** Every role, or those of these workspaces (MLflow's `list_roles`). */
    async list(workspaces?: readonly string[]): Promise<MlflowRoleView[]> {
      return withPermissions(await roles().list(workspaces));
    },

    async get(id: number): Promise<MlflowRoleView> {
      return (await withPermissions([await mustGet(id)]))[0]!;
    },

    async create(actor: Actor, input: { workspace: string; name: string; description: string | null }): Promise<MlflowRoleView> {
      checkName(input.name);
      checkDescription(input.description);
      const role = await deps.store.transaction(async (tx) => {
        await roles(tx).serialize();
        if (!(await policyView(deps, tx)).snapshot().tenants.has(input.workspace)) throw invalid(`Workspace '${input.workspace}' does not exist.`);
        if (await roles(tx).byName(input.workspace, input.name)) throw exists(`Role (name=${input.name}, workspace=${input.workspace}) already exists.`);
        return roles(tx).create(input);
      });
      await changed(actor, 'mlflowRole.create', role.id, role.workspace, null, role);
      return { ...role, permissions: [] };
    },

    async update(actor: Actor, id: number, change: { name?: string | undefined; description?: string | undefined }): Promise<MlflowRoleView> {
      if (change.name !== undefined) checkName(change.name);
      checkDescription(change.description);
      const { before, after } = await deps.store.transaction(async (tx) => {
        await roles(tx).serialize();
        const before = await mustGet(id, tx);
        if (change.name !== undefined && change.name !== before.name && (await roles(tx).byName(before.workspace, change.name))) {
          throw exists(`Role with name=${change.name} already exists in workspace=${before.workspace}`);
        }
        await roles(tx).update(id, change);
        return { before, after: await mustGet(id, tx) };
      });
      await recordChange(deps, actor, { action: 'mlflowRole.update', target: target(id), tenant: after.workspace, changes: changesOf({ ...before }, { ...after }) });
      return this.get(id);
    },

    /** Deletes the role with its permissions' bindings and its members' group entries. */
    async delete(actor: Actor, id: number): Promise<void> {
      const { role, perms, members } = await deps.store.transaction(async (tx) => {
        const role = await mustGet(id, tx);
        const view = await policyView(deps, tx);
        const perms = await roles(tx).permissions([id]);
        const members = view.stored.groups.find((g) => g.name === mlflowRoleGroup(id))?.members ?? [];
        await view.repo.removeEntries({ bindings: perms.map((p) => p.bindingId), groupMembers: members.map((member) => ({ group: mlflowRoleGroup(id), member })), tenantMembers: [] });
        await roles(tx).delete(id);
        return { role, perms, members };
      });
      await changed(actor, 'mlflowRole.delete', id, role.workspace, { ...role, permissions: perms.map(strip), members }, null);
    },

    async addPermission(actor: Actor, roleId: number, type: string, pattern: string, permission: string): Promise<MlflowRolePermissionView> {
      const made = await deps.store.transaction(async (tx) => {
        await roles(tx).serialize();
        const role = await mustGet(roleId, tx);
        const { binding, pattern: canonical } = bindingOf(role, type, pattern, permission);
        if ((await roles(tx).permissions([roleId])).some((p) => p.resourceType === type && p.resourcePattern === canonical)) {
          throw exists(`Role permission (role_id=${roleId}, resource_type=${type}, resource_pattern=${canonical}) already exists.`);
        }
        const view = await policyView(deps, tx);
        if (!view.snapshot().tenants.has(role.workspace)) throw invalid(`Workspace '${role.workspace}' does not exist.`);
        await ensureMlflowRoles(view.repo, view.stored, view.declared.roles.map((r) => r.name));
        const bindingId = await view.repo.addBinding(binding, `mlflow-role:${roleId}`);
        return { role, perm: await roles(tx).addPermission({ roleId, resourceType: type, resourcePattern: canonical, permission, bindingId }) };
      });
      await changed(actor, 'mlflowRole.permission.add', roleId, made.role.workspace, null, strip(made.perm));
      return strip(made.perm);
    },

    async removePermission(actor: Actor, permissionId: number): Promise<void> {
      const { role, perm } = await deps.store.transaction(async (tx) => {
        const perm = await mustGetPermission(permissionId, tx);
        const role = await mustGet(perm.roleId, tx);
        await (await policyView(deps, tx)).repo.removeBinding(perm.bindingId);
        await roles(tx).removePermission(permissionId);
        return { role, perm };
      });
      await changed(actor, 'mlflowRole.permission.remove', role.id, role.workspace, strip(perm), null);
    },

    /** Changes a permission's level: its binding is replaced in the same transaction. */
    async updatePermission(actor: Actor, permissionId: number, permission: string): Promise<MlflowRolePermissionView> {
      const { role, before, after } = await deps.store.transaction(async (tx) => {
        const before = await mustGetPermission(permissionId, tx);
        const role = await mustGet(before.roleId, tx);
        const { binding } = bindingOf(role, before.resourceType, before.resourcePattern, permission);
        const view = await policyView(deps, tx);
        await ensureMlflowRoles(view.repo, view.stored, view.declared.roles.map((r) => r.name));
        await view.repo.removeBinding(before.bindingId);
        const bindingId = await view.repo.addBinding(binding, `mlflow-role:${role.id}`);
        await roles(tx).setPermission(permissionId, permission, bindingId);
        return { role, before, after: { ...before, permission, bindingId } };
      });
      await changed(actor, 'mlflowRole.permission.update', role.id, role.workspace, strip(before), strip(after));
      return strip(after);
    },

    async assign(actor: Actor, roleId: number, username: string): Promise<{ userId: string; roleId: number }> {
      const { role, userId } = await deps.store.transaction(async (tx) => {
        const user = await userOf(username, tx);
        const role = await mustGet(roleId, tx);
        const view = await policyView(deps, tx);
        if (view.stored.groups.some((g) => g.name === mlflowRoleGroup(roleId) && g.members.includes(username))) {
          throw exists(`User role assignment (user_id=${user.id}, role_id=${roleId}) already exists`);
        }
        await view.repo.setGroupMember(mlflowRoleGroup(roleId), username, true);
        return { role, userId: user.id };
      });
      await changed(actor, 'mlflowRole.assign', roleId, role.workspace, null, { user: username });
      return { userId, roleId };
    },

    async unassign(actor: Actor, roleId: number, username: string): Promise<void> {
      const role = await deps.store.transaction(async (tx) => {
        const user = await userOf(username, tx);
        const role = await mustGet(roleId, tx);
        const view = await policyView(deps, tx);
        if (!view.stored.groups.some((g) => g.name === mlflowRoleGroup(roleId) && g.members.includes(username))) {
          throw notFound(`User role assignment (user_id=${user.id}, role_id=${roleId}) not found`);
        }
        await view.repo.setGroupMember(mlflowRoleGroup(roleId), username, false);
        return role;
      });
      await changed(actor, 'mlflowRole.unassign', roleId, role.workspace, { user: username }, null);
    },

    /** Every local user's MLflow roles, by user name (MLflow's `list_users_with_roles`). */
    async byUser(): Promise<Map<string, MlflowRoleView[]>> {
      const { stored } = await policyView(deps);
      const byGroup = new Map((await this.list()).map((r) => [mlflowRoleGroup(r.id), r]));
      const out = new Map<string, MlflowRoleView[]>();
      for (const g of stored.groups) {
        const role = byGroup.get(g.name);
        if (role) for (const m of g.members) out.set(m, [...(out.get(m) ?? []), role]);
      }
      return out;
    },

    /** The MLflow roles a local user holds (MLflow's `list_user_roles`). */
    async rolesOf(username: string): Promise<MlflowRoleView[]> {
      return (await this.byUser()).get(username) ?? [];
    },

    /** The local users holding role `id` (MLflow's `list_role_users`). */
    async members(id: number): Promise<string[]> {
      await mustGet(id);
      const { stored } = await policyView(deps);
      return [...(stored.groups.find((g) => g.name === mlflowRoleGroup(id))?.members ?? [])];
    },
  };
}

export type MlflowRolesService = ReturnType<typeof mlflowRolesService>;
