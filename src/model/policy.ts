/**
 * The authorization model's nouns (docs/design.md, "Authorization model"): roles as named sets
 * of grants, and bindings of roles to principals at a scope. The engine (src/policy/engine.ts)
 * decides over a snapshot of them.
 */
import type { Level } from './permission.ts';
import type { Family } from './resource.ts';

/** A role: for each family the highest level it grants, plus single operations, plus creation rights. */
export interface Role {
  readonly name: string;
  readonly description: string;
  readonly levels: Partial<Record<Family, Level>>;
  /** Operation ids (exact, or `family.*`) allowed regardless of level. */
  readonly operations: readonly string[];
  /** Families in which holders may create top-level resources (experiments, registered models). */
  readonly create: readonly Family[];
  /** Platform administrator: every exposed route, every tenant. */
  readonly admin: boolean;
}

export type Subject = { readonly user: string } | { readonly group: string } | { readonly serviceAccount: string };

/** Where a binding applies. */
export type Scope =
  | { readonly kind: 'global' }
  | { readonly kind: 'tenant'; readonly tenant: string }
  | { readonly kind: 'experiment'; readonly tenant?: string; readonly id?: string; readonly namePattern?: string }
  | { readonly kind: 'model'; readonly tenant?: string; readonly namePattern?: string; readonly name?: string };

export interface Binding {
  readonly id: string;
  readonly role: string;
  readonly subject: Subject;
  readonly scope: Scope;
  readonly effect: 'allow' | 'deny';
  /** Where it was declared: `config` (reviewable in git) or `api`. */
  readonly source: 'config' | 'api';
}

export interface Tenant {
  readonly name: string;
  /** Role every member of the tenant gets (MLflow's `default_permission`); none by default. */
  readonly defaultRole?: string;
  readonly members: { readonly users: readonly string[]; readonly groups: readonly string[] };
}
