/**
 * Roles: built in, declared in the configuration file, or made through a door. Only the last kind
 * can be removed, and only while no grant or tenant names it.
 */
import { changesOf } from '../audit/admin-event.ts';
import type { RoleConfig } from '../policy/config.ts';
import { changeProblems } from '../policy/service.ts';
import { declaredEntry, policyView, recordChange, type Actor, type ServiceDeps } from './context.ts';
import { conflict, notFound } from './errors.ts';
import { BUILTIN_ROLES } from '../policy/roles.ts';

export type RoleView = RoleConfig & { readonly admin: boolean; readonly source: 'built-in' | 'config' | 'api' };

const view = (r: RoleConfig, source: 'config' | 'api'): RoleView => ({ ...r, admin: false, source });

export function rolesService(deps: ServiceDeps) {
  return {
    async list(): Promise<RoleView[]> {
      const { declared, stored } = await policyView(deps);
      const names = new Set(declared.roles.map((r) => r.name));
      return [
        ...BUILTIN_ROLES.map((r) => ({ name: r.name, description: r.description, levels: r.levels, operations: [...r.operations], create: [...r.create], admin: r.admin, source: 'built-in' as const })),
        ...declared.roles.map((r) => view(r, 'config')),
        ...stored.roles.filter((r) => !names.has(r.name)).map((r) => view(r, 'api')),
      ];
    },

    /** Adds a custom role (a role already validated by roleSchema). */
    async create(actor: Actor, role: RoleConfig): Promise<RoleView> {
      const policy = await policyView(deps);
      if (BUILTIN_ROLES.some((r) => r.name === role.name)) throw conflict(`${role.name} is a built-in role`);
      if (policy.declared.roles.some((r) => r.name === role.name)) throw declaredEntry(deps, `role ${role.name}`);
      if (policy.stored.roles.some((r) => r.name === role.name)) throw conflict(`role ${role.name} already exists`);
      await policy.repo.addRole(role);
      await deps.policyChanged();
      await recordChange(deps, actor, { action: 'role.create', target: { kind: 'role', id: role.name }, changes: changesOf(null, role) });
      return view(role, 'api');
    },

    /** Replaces a custom role's levels, operations and creation rights; its grants change with it at once. */
    async update(actor: Actor, role: RoleConfig): Promise<RoleView> {
      const policy = await policyView(deps);
      if (BUILTIN_ROLES.some((r) => r.name === role.name)) throw conflict(`${role.name} is a built-in role`);
      if (policy.declared.roles.some((r) => r.name === role.name)) throw declaredEntry(deps, `role ${role.name}`);
      const before = policy.stored.roles.find((r) => r.name === role.name);
      if (!before) throw notFound(`role ${role.name}`);
      const problems = changeProblems(policy.declared, { ...policy.stored, roles: policy.stored.roles.map((r) => (r.name === role.name ? role : r)) });
      if (problems.length > 0) throw conflict(`role ${role.name}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
      await policy.repo.updateRole(role);
      await deps.policyChanged();
      await recordChange(deps, actor, { action: 'role.update', target: { kind: 'role', id: role.name }, changes: changesOf(before, role) });
      return view(role, 'api');
    },

    async delete(actor: Actor, name: string): Promise<void> {
      const policy = await policyView(deps);
      if (BUILTIN_ROLES.some((r) => r.name === name)) throw conflict(`${name} is a built-in role`);
      if (policy.declared.roles.some((r) => r.name === name)) throw declaredEntry(deps, `role ${name}`);
      const role = policy.stored.roles.find((r) => r.name === name);
      if (!role) throw notFound(`role ${name}`);
      const problems = changeProblems(policy.declared, { ...policy.stored, roles: policy.stored.roles.filter((r) => r.name !== name) });
      if (problems.length > 0) throw conflict(`role ${name} is still used: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
      await policy.repo.removeRole(name);
      await deps.policyChanged();
      await recordChange(deps, actor, { action: 'role.delete', target: { kind: 'role', id: name }, changes: changesOf(role, null) });
    },
  };
}

export type RolesService = ReturnType<typeof rolesService>;
