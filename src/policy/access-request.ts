/**
 * The one builder of the engine's input (one rule, one place). A route
 * row plus what a request names becomes an AccessRequest: the operation, the action, one check
 * per resource ref the request names (with its anchors once resolved), whether it is an
 * unconstrained search, whether its results can be filtered item by item, the tenant, the
 * workspace asked about and what the principal owns.
 *
 * The gateway (the authorize stage) builds it from a real request whose identifiers were read
 * and resolved; `policy explain`, the permission matrix, who-can-access and the compat API's
 * `users/permissions/get` build it from a described request. Whatever differs between the two
 * is a difference in what is known, never in how it is turned into a question: a test sweeps
 * the route table and holds explain's verdict to the gateway's (test/feature/explain-differential.test.ts).
 */
import type { AccessRequest, Check, TwinRead } from '../model/access.ts';
import { isResourceAction, type ResourceAction } from '../model/permission.ts';
import type { Scope } from '../model/policy.ts';
import { familyOfKind, isRooted, type Anchors, type Family, type ResourceId } from '../model/resource.ts';
import type { ResourceRef } from '../routes/mlflow/types.ts';
import type { RouteRow } from '../routes/mlflow/table.ts';
import { familyOf } from '../routes/mlflow/families.ts';

/** One resource ref of the row that the request names, and what it resolved to (undefined: not resolved, or cannot be). */
export interface NamedRef {
  readonly index: number;
  readonly anchors: Anchors | undefined;
}

export interface RequestFacts {
  /** The tenant the call acts in (undefined for calls that act in none: see actsInTenant). */
  readonly tenant: string | undefined;
  /** The refs the request names, in the row's order. */
  readonly named: readonly NamedRef[];
  /** For the workspace routes: the workspace asked about. */
  readonly workspace?: string | undefined;
  /** What the principal created (src/policy/ownership.ts). */
  readonly owned: readonly Scope[];
}

/** The engine's input for one call of `row`. */
export function accessRequest(row: RouteRow, facts: RequestFacts): AccessRequest {
  return {
    op: row.op,
    action: row.action,
    // A search over explicitly named experiments (runs, traces, logged models) is decided on
    // those experiments; only an unconstrained one needs tenant-wide read.
    search: row.tenancy === 'search' && !facts.named.some((n) => n.index === 0),
    tenant: facts.tenant,
    checks: checksOf(row, facts.named),
    workspace: facts.workspace,
    owned: facts.owned,
    filterable: row.search !== undefined,
    ...(row.workspaceApi !== undefined && { workspaceApi: row.workspaceApi }),
  };
}

/** One check per named ref; a call that names none is checked on the family of its operation. */
function checksOf(row: RouteRow, named: readonly NamedRef[]): Check[] {
  const action = row.action;
  if (!isResourceAction(action)) return [];
  const refs = row.resources ?? [];
  const checks = named.map(({ index, anchors }): Check => {
    const ref = refs[index]!;
    return { family: familyOfKind(ref.kind), need: ref.action ?? action, anchors };
  });
  return checks.length > 0 ? checks : [{ family: familyOf(row), need: action }];
}

/** One result of a search allowed item by item (decision.filter): may the principal read it. */
export function resultRequest(row: RouteRow, family: Family, anchors: Anchors, tenant: string | undefined, owned: readonly Scope[]): AccessRequest {
  return { op: row.op, action: row.action, search: false, tenant, checks: [{ family, need: 'read', anchors }], owned };
}

/**
 * `POST /graphql` (`row`): one request per REST twin the document reads through, each a read of
 * what it names; all must be allowed. A document that reads nothing (introspection) needs only
 * authentication. `search: false`: a read without anchors already needs the family tenant-wide.
 */
export function graphqlRequests(row: RouteRow, reads: readonly TwinRead[], tenant: string | undefined, owned: readonly Scope[]): AccessRequest[] {
  if (reads.length === 0) return [{ op: row.op, action: 'authenticated', search: false, tenant, checks: [], owned }];
  const byOp = new Map<string, Check[]>();
  for (const { op, family, anchors } of reads) byOp.set(op, [...(byOp.get(op) ?? []), { family, need: 'read', anchors }]);
  return [...byOp].map(([op, checks]) => ({ op, action: 'read', search: false, tenant, checks, owned }));
}

/** The refs of `row` a request names: those it carries at least one identifier for (ResourceId.ref). */
export function namedRefs(row: RouteRow, resources: readonly ResourceId[]): { readonly index: number; readonly ref: ResourceRef; readonly ids: ResourceId[] }[] {
  return (row.resources ?? []).flatMap((ref, index) => {
    const ids = resources.filter((r) => r.ref === index);
    return ids.length > 0 ? [{ index, ref, ids }] : [];
  });
}

/**
 * A cross reference (a model version's source run, a linked trace): a ref after the first that
 * needs its own action. It is resolved whatever the principal's bindings, so a reference into
 * another tenant does not resolve and is refused as not existing.
 */
export const isCrossReference = (ref: ResourceRef, index: number): boolean => index > 0 && ref.action !== undefined;

/**
 * Whether a call of `row` acts in a tenant: not the public, denied and global routes, and not
 * MLflow's workspace API, which is about tenants themselves (the MLflow client sends no
 * workspace header there, `rest_utils._should_include_workspace_header`).
 */
export function actsInTenant(row: RouteRow): boolean {
  return row.action !== 'public' && row.action !== 'deny' && row.tenancy !== 'global' && row.workspaceApi === undefined;
}

/** A request described rather than received: `policy explain` and the permission matrix. */
export interface DescribedRequest {
  readonly tenant: string | undefined;
  readonly workspace?: string | undefined;
  readonly owned?: readonly Scope[] | undefined;
  /** The experiment the call touches (its runs, traces, ... resolve to it). */
  readonly experiment?: { readonly id?: string | undefined; readonly name?: string | undefined } | undefined;
  /** The registered model or prompt the call touches. */
  readonly model?: string | undefined;
  /**
   * What the tenancy adds to a root found in the request's tenant (tag mode: its tenant tag);
   * default: nothing.
   */
  readonly inTenant?: ((anchors: Anchors) => Anchors) | undefined;
}

/**
 * The engine's input for a described call of `row`: it names every resource ref of the row.
 * A ref the description covers gets the described root as its anchors, as the gateway would
 * resolve it (only for the kinds the gateway traces to their root, model/resource.ts `isRooted`);
 * the others stay unresolved, as they would in the gateway.
 */
export function describedRequest(row: RouteRow, d: DescribedRequest): AccessRequest {
  const experiment: Anchors | undefined =
    d.experiment?.id !== undefined || d.experiment?.name !== undefined
      ? { ...(d.experiment.id !== undefined && { experimentIds: [d.experiment.id] }), ...(d.experiment.name !== undefined && { experimentNames: [d.experiment.name] }) }
      : undefined;
  const model: Anchors | undefined = d.model !== undefined ? { modelNames: [d.model] } : undefined;
  const described: Partial<Record<Family, Anchors>> = { ...(experiment && { experiment }), ...(model && { model }) };
  const named = (row.resources ?? []).map((ref, index): NamedRef => {
    const anchors = isRooted(ref.kind) ? described[familyOfKind(ref.kind)] : undefined;
    return { index, anchors: anchors && d.inTenant ? d.inTenant(anchors) : anchors };
  });
  return accessRequest(row, { tenant: actsInTenant(row) ? d.tenant : undefined, named, workspace: d.workspace ?? d.tenant, owned: d.owned ?? [] });
}

/**
 * "May this principal hold `need` on this one experiment or registered model": who-can-access and
 * the compat API's `users/permissions/get` ask about a level, not a route. `op` names the asker
 * (no role's single operations apply to it). `anchors` undefined: every resource of the family.
 */
export function levelRequest(op: string, family: Family, need: ResourceAction, anchors: Anchors | undefined, tenant: string, owned: readonly Scope[] = []): AccessRequest {
  return { op, action: need, search: false, tenant, checks: [{ family, need, anchors }], owned };
}

/**
 * What a call of `row` needs, in words for a refusal that explains itself (`EDIT on run`, `READ on
 * registered_model`, `CREATE on experiment`, `platform administrator`): the level on each kind of
 * resource the request names (`named`: indexes of the row's refs, as checksOf reads them), never
 * which resource. Undefined for a call a level does not decide.
 */
export function needsOf(row: RouteRow, named: readonly number[]): string[] | undefined {
  if (row.action === 'admin') return ['platform administrator'];
  const action = row.action;
  if (!isResourceAction(action)) return undefined;
  const refs = row.resources ?? [];
  const needs = named.map((i) => `${(refs[i]!.action ?? action).toUpperCase()} on ${refs[i]!.kind}`);
  return needs.length > 0 ? [...new Set(needs)] : [`${action.toUpperCase()} on ${familyOf(row)}`];
}
