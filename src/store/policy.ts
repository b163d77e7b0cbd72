/**
 * Repository for the policy made through the CLI or admin API: tenants and their members,
 * group members, custom roles and bindings. Every change bumps `policy_version` in the same
 * transaction, so every gateway process sharing the store reloads its snapshot (policy/service.ts).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { BindingConfig, GroupConfig, RoleConfig, TenantConfig } from '../policy/config.ts';
import type { Database } from './schema.ts';

export interface StoredBinding {
  readonly id: string;
  readonly binding: BindingConfig;
  readonly createdBy: string;
}

export interface StoredPolicy {
  readonly tenants: TenantConfig[];
  readonly groups: GroupConfig[];
  readonly roles: RoleConfig[];
  readonly bindings: StoredBinding[];
}

export interface PolicyRepository {
  version(): Promise<string>;
  load(): Promise<StoredPolicy>;
  addTenant(name: string, defaultRole?: string): Promise<void>;
  removeTenant(name: string): Promise<boolean>;
  setTenantMember(tenant: string, kind: 'user' | 'group', name: string, present: boolean): Promise<void>;
  setGroupMember(group: string, member: string, present: boolean): Promise<void>;
  addRole(role: RoleConfig): Promise<void>;
  /** Replaces a stored role's definition (same name). */
  updateRole(role: RoleConfig): Promise<void>;
  removeRole(name: string): Promise<boolean>;
  addBinding(binding: BindingConfig, createdBy: string): Promise<string>;
  removeBinding(id: string): Promise<boolean>;
  /** Removes these bindings and member entries in one change (a deleted user's or service account's). */
  removeEntries(entries: PolicyEntries): Promise<void>;
}

/** Entries of the stored policy that name one principal. */
export interface PolicyEntries {
  readonly bindings: readonly string[];
  readonly groupMembers: readonly { readonly group: string; readonly member: string }[];
  readonly tenantMembers: readonly { readonly tenant: string; readonly kind: 'user' | 'group'; readonly name: string }[];
}

const bump = (tx: Kysely<Database>) =>
  sql`update gatehouse_meta set value = cast(cast(value as integer) + 1 as text) where key = 'policy_version'`.execute(tx);

export function policyRepository(db: Kysely<Database>, now: () => Date = () => new Date()): PolicyRepository {
  const inside = async <T>(tx: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> => {
    const out = await fn(tx);
    await bump(tx);
    return out;
  };
  // Given a transaction (a service's, src/store/store.ts `transaction`), the change is part of it.
  const change = <T>(fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> => (db.isTransaction ? inside(db, fn) : db.transaction().execute((tx) => inside(tx, fn)));
  return {
    async version() {
      const row = await db.selectFrom('gatehouse_meta').select('value').where('key', '=', 'policy_version').executeTakeFirst();
      return row?.value ?? '0';
    },
    async load() {
      const [tenants, members, groups, roles, bindings] = await Promise.all([
        db.selectFrom('policy_tenants').selectAll().orderBy('created_at').orderBy('name').execute(),
        db.selectFrom('policy_tenant_members').selectAll().execute(),
        db.selectFrom('policy_group_members').selectAll().orderBy('group_name').execute(),
        db.selectFrom('policy_roles').selectAll().orderBy('name').execute(),
        db.selectFrom('policy_bindings').selectAll().orderBy('created_at').orderBy('id').execute(),
      ]);
      const membersOf = (t: string, kind: string) => members.filter((m) => m.tenant === t && m.kind === kind).map((m) => m.name);
      const groupNames = [...new Set(groups.map((g) => g.group_name))];
      return {
        tenants: tenants.map((t) => ({ name: t.name, ...(t.default_role && { defaultRole: t.default_role }), members: { users: membersOf(t.name, 'user'), groups: membersOf(t.name, 'group') } })),
        groups: groupNames.map((name) => ({ name, members: groups.filter((g) => g.group_name === name).map((g) => g.member) })),
        roles: roles.map((r) => ({ name: r.name, description: r.description, levels: JSON.parse(r.levels), operations: JSON.parse(r.operations), create: JSON.parse(r.creates) })),
        bindings: bindings.map((b) => ({
          id: b.id,
          createdBy: b.created_by,
          binding: {
            role: b.role,
            effect: b.effect as 'allow' | 'deny',
            ...(b.subject_kind === 'user' && { user: b.subject_name }),
            ...(b.subject_kind === 'group' && { group: b.subject_name }),
            ...(b.subject_kind === 'service_account' && { serviceAccount: b.subject_name }),
            ...(b.tenant !== null && { tenant: b.tenant }),
            ...((b.experiment_id !== null || b.experiment_pattern !== null) && {
              experiment: { ...(b.experiment_id !== null && { id: b.experiment_id }), ...(b.experiment_pattern !== null && { namePattern: b.experiment_pattern }) },
            }),
            ...(b.model_pattern !== null && { model: { namePattern: b.model_pattern } }),
          },
        })),
      };
    },
    addTenant: (name, defaultRole) =>
      change(async (tx) => {
        await tx.insertInto('policy_tenants').values({ name, default_role: defaultRole ?? null, created_at: now().toISOString() }).execute();
      }),
    removeTenant: (name) =>
      change(async (tx) => {
        await tx.deleteFrom('policy_tenant_members').where('tenant', '=', name).execute();
        const r = await tx.deleteFrom('policy_tenants').where('name', '=', name).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      }),
    setTenantMember: (tenant, kind, name, present) =>
      change(async (tx) => {
        if (present) await tx.insertInto('policy_tenant_members').values({ tenant, kind, name }).onConflict((oc) => oc.doNothing()).execute();
        else await tx.deleteFrom('policy_tenant_members').where('tenant', '=', tenant).where('kind', '=', kind).where('name', '=', name).execute();
      }),
    setGroupMember: (group, member, present) =>
      change(async (tx) => {
        if (present) await tx.insertInto('policy_group_members').values({ group_name: group, member }).onConflict((oc) => oc.doNothing()).execute();
        else await tx.deleteFrom('policy_group_members').where('group_name', '=', group).where('member', '=', member).execute();
      }),
    addRole: (role) =>
      change(async (tx) => {
        await tx
          .insertInto('policy_roles')
          .values({ name: role.name, description: role.description, levels: JSON.stringify(role.levels), operations: JSON.stringify(role.operations), creates: JSON.stringify(role.create) })
          .execute();
      }),
    updateRole: (role) =>
      change(async (tx) => {
        await tx
          .updateTable('policy_roles')
          .set({ description: role.description, levels: JSON.stringify(role.levels), operations: JSON.stringify(role.operations), creates: JSON.stringify(role.create) })
          .where('name', '=', role.name)
          .execute();
      }),
    removeRole: (name) =>
      change(async (tx) => Number((await tx.deleteFrom('policy_roles').where('name', '=', name).executeTakeFirst()).numDeletedRows) > 0),
    addBinding: (b, createdBy) =>
      change(async (tx) => {
        const id = randomUUID();
        const [kind, subject] = b.user !== undefined ? ['user', b.user] : b.group !== undefined ? ['group', b.group] : ['service_account', b.serviceAccount!];
        await tx
          .insertInto('policy_bindings')
          .values({
            id,
            role: b.role,
            effect: b.effect,
            subject_kind: kind,
            subject_name: subject,
            tenant: b.tenant ?? null,
            experiment_id: b.experiment?.id ?? null,
            experiment_pattern: b.experiment?.namePattern ?? null,
            model_pattern: b.model?.namePattern ?? null,
            created_at: now().toISOString(),
            created_by: createdBy,
          })
          .execute();
        return id;
      }),
    removeBinding: (id) =>
      change(async (tx) => Number((await tx.deleteFrom('policy_bindings').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0),
    removeEntries: (e) =>
      change(async (tx) => {
        if (e.bindings.length > 0) await tx.deleteFrom('policy_bindings').where('id', 'in', e.bindings).execute();
        for (const m of e.groupMembers) await tx.deleteFrom('policy_group_members').where('group_name', '=', m.group).where('member', '=', m.member).execute();
        for (const m of e.tenantMembers) await tx.deleteFrom('policy_tenant_members').where('tenant', '=', m.tenant).where('kind', '=', m.kind).where('name', '=', m.name).execute();
      }),
  };
}
