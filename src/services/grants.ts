/**
 * Grants (role bindings): who gets which role where. Declared ones (`config:<n>`) change only in
 * the configuration file, and a stored grant for the same subject at the same scope is refused
 * rather than silently changing what the reviewed file says. Stored grants (`api:<uuid>`) take
 * effect in every gateway sharing the store within its poll (at once in this one).
 *
 * Also here: MLflow's per-resource grants as the compat API and the importer make them.
 */
import { changesOf } from '../audit/admin-event.ts';
import type { BindingConfig } from '../policy/config.ts';
import { changeProblems, sameTarget } from '../policy/service.ts';
import type { StoredBinding } from '../store/policy.ts';
import { bindingFor, ensureMlflowRoles, grantsFor, type MlflowPermission, type ResourceRef } from '../compat/mlflow-permissions.ts';
import { declaredEntry, policyView, recordChange, type Actor, type PolicyView, type ServiceDeps } from './context.ts';
import { conflict, notFound } from './errors.ts';
import { callerError, GatehouseError } from '../errors.ts';

/** An MLflow per-resource grant, as the compat API and the importer name it. */
export interface ResourceGrant {
  readonly username: string;
  readonly tenant: string;
  readonly ref: ResourceRef;
  readonly permission: MlflowPermission;
  readonly createdBy: string;
}

export type GrantView = BindingConfig & { readonly id: string; readonly source: 'config' | 'api'; readonly createdBy?: string };

export interface GrantFilter {
  readonly user?: string | undefined;
  readonly group?: string | undefined;
  readonly serviceAccount?: string | undefined;
  readonly tenant?: string | undefined;
  readonly source?: 'config' | 'api' | undefined;
}

const configView = (b: BindingConfig, i: number): GrantView => ({ id: `config:${i}`, ...b, source: 'config' });
const storedView = (s: StoredBinding): GrantView => ({ id: `api:${s.id}`, ...s.binding, source: 'api', createdBy: s.createdBy });
const subjectOf = (b: BindingConfig) => (b.user !== undefined ? `user:${b.user}` : b.group !== undefined ? `group:${b.group}` : `service_account:${b.serviceAccount}`);

/** Every grant: declared first, then stored. */
export function allGrants(view: PolicyView): GrantView[] {
  return [...view.declared.bindings.map(configView), ...view.stored.bindings.map(storedView)];
}

/** A change's refusal when the merged policy would have dangling references, with the binding's fields. */
function referenceRefusal(view: PolicyView, binding: BindingConfig): GatehouseError | undefined {
  const index = view.declared.bindings.length + view.stored.bindings.length;
  const problems = changeProblems(view.declared, { ...view.stored, bindings: [...view.stored.bindings, { id: 'new', binding, createdBy: '' }] });
  const mine = problems.filter((p) => p.path[0] === 'bindings' && p.path[1] === index);
  if (mine.length === 0) return undefined;
  const details = mine.map((p) => ({ path: String(p.path[2]), message: p.message }));
  return callerError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `invalid grant: ${details[0]!.path}: ${details[0]!.message}`, details);
}

export function grantsService(deps: ServiceDeps) {
  async function add(actor: Actor, view: PolicyView, binding: BindingConfig, createdBy: string): Promise<GrantView> {
    const id = await view.repo.addBinding(binding, createdBy);
    await deps.policyChanged();
    const grant: GrantView = { id: `api:${id}`, ...binding, source: 'api', createdBy };
    await recordChange(deps, actor, { action: 'grant.create', target: { kind: 'grant', id: grant.id }, tenant: binding.tenant, changes: changesOfGrant(null, binding) });
    return grant;
  }

  async function remove(actor: Actor, stored: readonly StoredBinding[], view: PolicyView): Promise<void> {
    for (const s of stored) await view.repo.removeBinding(s.id);
    await deps.policyChanged();
    for (const s of stored) {
      await recordChange(deps, actor, { action: 'grant.delete', target: { kind: 'grant', id: `api:${s.id}` }, tenant: s.binding.tenant, changes: changesOfGrant(s.binding, null) });
    }
  }

    /**
   * Many MLflow-style grants at once (the importer): the policy is read once, the `mlflow-*`
   * roles are made once, each grant made is its own admin event; those that exist are left as
   * they are. Returns how many were made.
   */
  async function grantResources(actor: Actor, list: readonly ResourceGrant[], knownRoles: readonly string[], progress?: (done: number) => void): Promise<number> {
    const view = await policyView(deps);
    const stored = { ...view.stored, bindings: [...view.stored.bindings] };
    let rolesCreated: string[] | undefined;
    let made = 0;
    for (const [i, g] of list.entries()) {
      if (grantsFor(stored, g.username, g.tenant, g.ref).length === 0) {
        rolesCreated ??= await ensureMlflowRoles(view.repo, view.stored, knownRoles);
        const binding = bindingFor(g.username, g.tenant, g.ref, g.permission);
        const id = await view.repo.addBinding(binding, g.createdBy);
        stored.bindings.push({ id, binding, createdBy: g.createdBy });
        await recordChange(deps, actor, {
          action: 'grant.create',
          target: { kind: 'grant', id: `api:${id}` },
          tenant: g.tenant,
          changes: changesOfGrant(null, { ...binding, ...(made === 0 && rolesCreated.length > 0 && { rolesCreated }) }),
        });
        made++;
      }
      progress?.(i + 1);
    }
    if (made > 0) await deps.policyChanged();
    return made;
  }

  return {
    async list(filter: GrantFilter = {}): Promise<GrantView[]> {
      return allGrants(await policyView(deps)).filter(
        (g) =>
          (filter.user === undefined || g.user === filter.user) &&
          (filter.group === undefined || g.group === filter.group) &&
          (filter.serviceAccount === undefined || g.serviceAccount === filter.serviceAccount) &&
          (filter.tenant === undefined || g.tenant === filter.tenant) &&
          (filter.source === undefined || g.source === filter.source),
      );
    },

    async get(id: string): Promise<GrantView> {
      return allGrants(await policyView(deps)).find((g) => g.id === id) ?? Promise.reject(notFound(`grant ${id}`));
    },

    /** Binds a role to a subject at a scope (a binding already validated by bindingSchema). */
    async create(actor: Actor, binding: BindingConfig): Promise<GrantView> {
      const view = await policyView(deps);
      const clash = view.declared.bindings.findIndex((b) => sameTarget(b, binding));
      if (clash >= 0) throw declaredEntry(deps, `a grant for this subject at this scope (config:${clash})`);
      if (view.stored.bindings.some((s) => sameTarget(s.binding, binding) && s.binding.role === binding.role && s.binding.effect === binding.effect)) throw conflict('the same grant already exists');
      const problem = referenceRefusal(view, binding);
      if (problem) throw problem;
      return add(actor, view, binding, actor.id);
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const view = await policyView(deps);
      if (id.startsWith('config:') && view.declared.bindings[Number(id.slice('config:'.length))] !== undefined) throw declaredEntry(deps, `grant ${id}`);
      const stored = id.startsWith('api:') ? view.stored.bindings.find((s) => s.id === id.slice('api:'.length)) : undefined;
      if (!stored) throw notFound(`grant ${id}`);
      await remove(actor, [stored], view);
    },

    /** MLflow's "user U has permission P on resource R" in tenant T (compat API); false when one exists already. */
    async grantResource(actor: Actor, g: ResourceGrant & { knownRoles: readonly string[] }): Promise<boolean> {
      return (await grantResources(actor, [g], g.knownRoles)) === 1;
    },

    grantResources,

    /** Removes MLflow-style grants of a user on a resource in a tenant; false when there is none. */
    async revokeResource(actor: Actor, g: { username: string; tenant: string; ref: ResourceRef }): Promise<boolean> {
      const view = await policyView(deps);
      const existing = grantsFor(view.stored, g.username, g.tenant, g.ref);
      if (existing.length === 0) return false;
      await remove(actor, existing, view);
      return true;
    },
  };
}

/** A grant's fields for the admin event, its subject as one field so the change reads at a glance. */
function changesOfGrant(before: BindingConfig | null, after: (BindingConfig & Record<string, unknown>) | null) {
  const fields = (b: (BindingConfig & Record<string, unknown>) | null) => {
    if (!b) return null;
    const { user: _u, group: _g, serviceAccount: _s, ...rest } = b;
    return { subject: subjectOf(b), ...rest };
  };
  return changesOf(fields(before), fields(after));
}

export type GrantsService = ReturnType<typeof grantsService>;
