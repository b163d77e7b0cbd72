/**
 * MLflow 3.18's named roles as the MLflow-compat API and the importer keep them: MLflow's integer
 * ids, workspace, name and description, and each permission with the Gatehouse binding that
 * enforces it. Members are not here: they are the local group the role's bindings name
 * (src/services/mlflow-roles.ts), so the engine sees them like every other group.
 */
import { sql, type Kysely } from 'kysely';
import { isPostgres } from './migrations.ts';
import type { Database } from './schema.ts';

export interface StoredMlflowRole {
  readonly id: number;
  readonly workspace: string;
  readonly name: string;
  readonly description: string | null;
}

export interface StoredMlflowRolePermission {
  readonly id: number;
  readonly roleId: number;
  readonly resourceType: string;
  readonly resourcePattern: string;
  readonly permission: string;
  /** The stored binding (policy_bindings.id) that enforces it. */
  readonly bindingId: string;
}

const roleOf = (r: { id: number | string; workspace: string; name: string; description: string | null }): StoredMlflowRole => ({
  id: Number(r.id),
  workspace: r.workspace,
  name: r.name,
  description: r.description,
});
const permissionOf = (p: Database['mlflow_role_permissions']): StoredMlflowRolePermission => ({
  id: Number(p.id),
  roleId: Number(p.role_id),
  resourceType: p.resource_type,
  resourcePattern: p.resource_pattern,
  permission: p.permission,
  bindingId: p.binding_id,
});

/** The next id of a table: MLflow's ids are integers, the same in SQLite and PostgreSQL (the primary key refuses a concurrent duplicate). */
async function nextId(db: Kysely<Database>, table: 'mlflow_roles' | 'mlflow_role_permissions'): Promise<number> {
  const row = await db.selectFrom(table).select(sql<number | string | null>`max(id)`.as('max')).executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

export function mlflowRoleRepository(db: Kysely<Database>) {
  return {
    /**
     * Inside a transaction, before reading what a write depends on (a name taken, the next id):
     * PostgreSQL runs transactions side by side, so two would read the same `max(id)`; SQLite
     * runs one write transaction at a time already.
     */
    async serialize(): Promise<void> {
      if (isPostgres(db)) await sql`lock table mlflow_roles, mlflow_role_permissions in share row exclusive mode`.execute(db);
    },
    async list(workspaces?: readonly string[]): Promise<StoredMlflowRole[]> {
      let q = db.selectFrom('mlflow_roles').selectAll().orderBy('id');
      if (workspaces !== undefined) {
        if (workspaces.length === 0) return [];
        q = q.where('workspace', 'in', workspaces);
      }
      return (await q.execute()).map(roleOf);
    },
    async get(id: number): Promise<StoredMlflowRole | undefined> {
      const r = await db.selectFrom('mlflow_roles').selectAll().where('id', '=', id).executeTakeFirst();
      return r && roleOf(r);
    },
    async byName(workspace: string, name: string): Promise<StoredMlflowRole | undefined> {
      const r = await db.selectFrom('mlflow_roles').selectAll().where('workspace', '=', workspace).where('name', '=', name).executeTakeFirst();
      return r && roleOf(r);
    },
    async create(role: Omit<StoredMlflowRole, 'id'>): Promise<StoredMlflowRole> {
      const id = await nextId(db, 'mlflow_roles');
      await db.insertInto('mlflow_roles').values({ id, ...role }).execute();
      return { id, ...role };
    },
    async update(id: number, change: { name?: string | undefined; description?: string | undefined }): Promise<void> {
      const set = { ...(change.name !== undefined && { name: change.name }), ...(change.description !== undefined && { description: change.description }) };
      if (Object.keys(set).length > 0) await db.updateTable('mlflow_roles').set(set).where('id', '=', id).execute();
    },
    async delete(id: number): Promise<void> {
      await db.deleteFrom('mlflow_role_permissions').where('role_id', '=', id).execute();
      await db.deleteFrom('mlflow_roles').where('id', '=', id).execute();
    },
    async permissions(roleIds?: readonly number[]): Promise<StoredMlflowRolePermission[]> {
      let q = db.selectFrom('mlflow_role_permissions').selectAll().orderBy('id');
      if (roleIds !== undefined) {
        if (roleIds.length === 0) return [];
        q = q.where('role_id', 'in', roleIds);
      }
      return (await q.execute()).map(permissionOf);
    },
    async permission(id: number): Promise<StoredMlflowRolePermission | undefined> {
      const p = await db.selectFrom('mlflow_role_permissions').selectAll().where('id', '=', id).executeTakeFirst();
      return p && permissionOf(p);
    },
    async addPermission(p: Omit<StoredMlflowRolePermission, 'id'>): Promise<StoredMlflowRolePermission> {
      const id = await nextId(db, 'mlflow_role_permissions');
      await db
        .insertInto('mlflow_role_permissions')
        .values({ id, role_id: p.roleId, resource_type: p.resourceType, resource_pattern: p.resourcePattern, permission: p.permission, binding_id: p.bindingId })
        .execute();
      return { id, ...p };
    },
    async setPermission(id: number, permission: string, bindingId: string): Promise<void> {
      await db.updateTable('mlflow_role_permissions').set({ permission, binding_id: bindingId }).where('id', '=', id).execute();
    },
    async removePermission(id: number): Promise<void> {
      await db.deleteFrom('mlflow_role_permissions').where('id', '=', id).execute();
    },
  };
}

export type MlflowRoleRepository = ReturnType<typeof mlflowRoleRepository>;
