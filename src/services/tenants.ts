/**
 * Tenants, whole. In workspace tenancy a tenant is an MLflow workspace: making one makes the
 * workspace first (an existing one is adopted), so when MLflow refuses nothing is made in Gatehouse
 * either, and a workspace made here is removed again if Gatehouse then cannot store the tenant.
 * Removing a tenant removes its workspace, refused while the workspace holds resources (MLflow's
 * RESTRICT) unless forced (CASCADE: MLflow deletes them), and while stored grants name the tenant.
 * Tenants declared in the configuration file change only there.
 */
import { mlflowRoleRepository } from '../store/mlflow-roles.ts';
import { changesOf } from '../audit/admin-event.ts';
import type { TenantConfig } from '../policy/config.ts';
import { tenantAccess } from '../policy/engine.ts';
import { changeProblems } from '../policy/service.ts';
import { declaredEntry, policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, invalid, notFound } from './errors.ts';

export interface TenantView {
  readonly name: string;
  readonly defaultRole?: string;
  readonly members: { readonly users: readonly string[]; readonly groups: readonly string[] };
  readonly source: 'config' | 'api';
}

/** A listed tenant: also who is in it through grants and groups (policy/engine.ts tenantAccess). */
export type TenantListEntry = TenantView & { readonly access: ReturnType<typeof tenantAccess> };

const view = (t: TenantConfig, source: 'config' | 'api'): TenantView => ({ name: t.name, ...(t.defaultRole && { defaultRole: t.defaultRole }), members: t.members, source });
const fieldsOf = (t: TenantConfig) => ({ name: t.name, defaultRole: t.defaultRole ?? null, members: t.members });

export function tenantsService(deps: ServiceDeps) {
  /** A tenant made through a door (declared ones are refused, naming the file). */
  async function stored(name: string) {
    const policy = await policyView(deps);
    if (policy.declared.tenants.some((t) => t.name === name)) throw declaredEntry(deps, `tenant ${name}`);
    const tenant = policy.stored.tenants.find((t) => t.name === name);
    if (!tenant) throw notFound(`tenant ${name}`);
    return { policy, tenant };
  }

  async function setMember(actor: Actor, name: string, kind: 'user' | 'group', member: string, present: boolean): Promise<TenantView> {
    const { policy, tenant } = await stored(name);
    const list = kind === 'user' ? 'users' : 'groups';
    if (!present && !tenant.members[list].includes(member)) throw notFound(`${kind} ${member} in tenant ${name}`);
    if (present === tenant.members[list].includes(member)) return view(tenant, 'api');
    await policy.repo.setTenantMember(name, kind, member, present);
    await deps.policyChanged();
    const after = (await policyView(deps)).stored.tenants.find((t) => t.name === name)!;
    await recordChange(deps, actor, { action: present ? 'tenant.member.add' : 'tenant.member.remove', target: { kind: 'tenant', id: name }, tenant: name, changes: changesOf({ members: tenant.members }, { members: after.members }) });
    return view(after, 'api');
  }

  return {
    /** Declared tenants first, then those made through a door. */
    async list(): Promise<TenantListEntry[]> {
      const { declared, stored: s, snapshot } = await policyView(deps);
      const names = new Set(declared.tenants.map((t) => t.name));
      const views = [...declared.tenants.map((t) => view(t, 'config')), ...s.tenants.filter((t) => !names.has(t.name)).map((t) => view(t, 'api'))];
      return views.map((t) => ({ ...t, access: tenantAccess(snapshot(), t.name) }));
    },

    async create(actor: Actor, input: { readonly name: string; readonly defaultRole?: string | undefined }): Promise<TenantView> {
      const policy = await policyView(deps);
      if (policy.declared.tenants.some((t) => t.name === input.name)) throw declaredEntry(deps, `tenant ${input.name}`);
      if (policy.stored.tenants.some((t) => t.name === input.name)) throw conflict(`tenant ${input.name} already exists`);
      const tenant: TenantConfig = { name: input.name, ...(input.defaultRole && { defaultRole: input.defaultRole }), members: { users: [], groups: [] } };
      const problem = changeProblems(policy.declared, { ...policy.stored, tenants: [...policy.stored.tenants, tenant] })[0];
      if (problem) throw invalid(String(problem.path.at(-1)), problem.message);
      // MLflow first: when it refuses, nothing is made here.
      const workspace = await deps.workspaces?.create(input.name);
      try {
        await policy.repo.addTenant(input.name, input.defaultRole);
      } catch (err) {
        if (workspace === 'created') await deps.workspaces!.delete(input.name, { force: false }).catch(() => undefined);
        throw err;
      }
      await deps.policyChanged();
      await recordChange(deps, actor, {
        action: 'tenant.create',
        target: { kind: 'tenant', id: input.name },
        tenant: input.name,
        changes: changesOf(null, { ...fieldsOf(tenant), ...(workspace !== undefined && { workspace }) }),
      });
      return view(tenant, 'api');
    },

    /** Removes a tenant made through a door, and its workspace (with what it holds only when forced). */
    async delete(actor: Actor, name: string, options: { readonly force?: boolean | undefined } = {}): Promise<void> {
      const { policy, tenant } = await stored(name);
      const named = policy.stored.bindings.filter((b) => b.binding.tenant === name);
      if (named.length > 0) throw conflict(`grants still name tenant ${name}: ${named.map((b) => `api:${b.id}`).join(', ')}`);
      // An MLflow role lives in its workspace (its permissions would be bindings naming a tenant that is gone).
      const roles = await mlflowRoleRepository(deps.store.db).list([name]);
      if (roles.length > 0) throw conflict(`MLflow roles still name tenant ${name}: ${roles.map((r) => r.name).join(', ')}`);
      const workspace = await deps.workspaces?.delete(name, { force: options.force === true });
      await policy.repo.removeTenant(name);
      await deps.policyChanged();
      await recordChange(deps, actor, {
        action: 'tenant.delete',
        target: { kind: 'tenant', id: name },
        tenant: name,
        changes: changesOf({ ...fieldsOf(tenant), ...(workspace !== undefined && { workspace: 'existed' }) }, workspace !== undefined ? { workspace: `${workspace}${options.force ? ' (forced)' : ''}` } : null),
      });
    },

    addMember: (actor: Actor, name: string, kind: 'user' | 'group', member: string) => setMember(actor, name, kind, member, true),
    removeMember: (actor: Actor, name: string, kind: 'user' | 'group', member: string) => setMember(actor, name, kind, member, false),
  };
}

export type TenantsService = ReturnType<typeof tenantsService>;
