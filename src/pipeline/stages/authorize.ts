/**
 * The decision stage: builds the access request from the route row and the extracted
 * resources, resolves resources to what bindings name only when the principal's bindings
 * depend on it, and asks the engine. Default deny; a lookup or policy error denies.
 */
import { GatehouseError } from '../../errors.ts';
import { decide, hasResourceScopedBindings, isAdmin } from '../../policy/engine.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { OwnershipIndex } from '../../policy/ownership.ts';
import { SEARCH_FILTERS, type SearchFilterSpec } from '../../routes/mlflow/search-filter.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { RequestContext, Stage } from '../context.ts';
import { graphqlAccessRequests } from '../../routes/mlflow/graphql.ts';
import { tagValue } from '../../policy/resolve.ts';
import { STAMPED_CREATES, isTenantKey, refuseTenantTagWrite, tagKeysWritten, type TagTenancy } from '../../policy/tag-tenancy.ts';
import type { AccessRequest, Check } from '../../model/access.ts';
import type { Decision } from '../../model/decision.ts';
import { familyOfKind, type Anchors } from '../../model/resource.ts';
import { familyOfOp } from '../../policy/roles.ts';

export type AuthorizationMode = 'policy' | 'dev-allow-all';

type Need = Check['need'];
const NEEDS = new Set(['read', 'use', 'edit', 'manage', 'create']);

/**
 * The checks a call needs: one per resource ref it carries, or one for the route. Resources are
 * resolved (looked up in the caller's tenant) when the principal's bindings depend on which
 * resource it is, and always for cross references (a model version's source run, a linked
 * trace): a reference into another tenant does not resolve, and is refused as not existing.
 */
export async function buildChecks(ctx: RequestContext, resolver: Resolver, resolveAll: boolean, tagMode = false): Promise<Check[]> {
  const row = ctx.route!.row;
  if (!NEEDS.has(row.action) || ctx.graphql) return [];
  const checks: Check[] = [];
  const refs = row.resources ?? [];
  for (const [index, ref] of refs.entries()) {
    const ids = ctx.resources.filter((r) => r.ref === index);
    if (ids.length === 0) continue;
    const need = (ref.action ?? row.action) as Need;
    const crossReference = index > 0 && ref.action !== undefined;
    const anchors = resolveAll || crossReference ? await resolver.anchors(ref, ids, ctx.tenant) : undefined;
    // Tag mode: a resource that cannot be traced to a tagged root is never guessed at (fail closed).
    if (tagMode && anchors === undefined) throw new GatehouseError('GATEHOUSE_AUTHZ_DENIED', `tag-unsupported: ${ref.kind} has no experiment or registered model to check`);
    checks.push({ family: familyOfKind(ref.kind), need, anchors });
  }
  if (checks.length === 0) checks.push({ family: familyOfOp(row.op), need: row.action as Need });
  return checks;
}

/** Several requests decided as one: the first denial, else an allow with every reason and binding. */
export function decideAll(policy: PolicySnapshot, principal: RequestContext['principal'], requests: readonly AccessRequest[]): Decision {
  const reasons = new Set<Decision['reasons'][number]>();
  const matched = new Set<string>();
  for (const request of requests) {
    const d = decide(policy, principal, request);
    if (d.effect !== 'allow' || d.filter) return d.effect === 'allow' ? { effect: 'deny', reasons: ['no-grant'], matchedBindings: [] } : d;
    d.reasons.forEach((r) => reasons.add(r));
    d.matchedBindings.forEach((b) => matched.add(b));
  }
  if (requests.length === 0) return { effect: 'deny', reasons: ['no-grant'], matchedBindings: [] };
  return { effect: 'allow', reasons: [...reasons], matchedBindings: [...matched] };
}

export interface AuthorizeOptions {
  readonly mode: AuthorizationMode;
  /** Tag-mode tenancy (src/policy/tag-tenancy.ts); absent in the other modes. */
  readonly tag?: TagTenancy | undefined;
}

export function authorize(options: AuthorizeOptions, snapshot: () => PolicySnapshot, resolver: Resolver, ownership: OwnershipIndex): Stage {
  const { mode, tag } = options;
  return {
    name: 'authorize',
    async run(ctx) {
      const row = ctx.route!.row;
      const policy = snapshot();
      const admin = ctx.principal !== undefined && isAdmin(policy, ctx.principal) !== undefined;
      // Tag mode binds a principal who is not an administrator to its tenant's tag.
      // The workspace routes are about tenants themselves (answered from the policy: routes/mlflow/virtual-workspaces.ts).
      const tagged = tag !== undefined && ctx.principal !== undefined && !admin && mode === 'policy' && !row.op.startsWith('workspaces.') ? tag : undefined;
      if (tagged) refuseTenantTagWrite(ctx, tagged);
      let decision: Decision;
      if (mode === 'dev-allow-all' && ctx.principal && row.action !== 'deny') {
        decision = { effect: 'allow', reasons: ['dev-allow-all'], matchedBindings: [] };
      } else {
        const owned = ctx.principal ? ownership.scopesOf(ctx.principal.id) : [];
        const needsResolution = tagged !== undefined || (ctx.principal !== undefined && hasResourceScopedBindings(policy, ctx.principal, owned));
        const request: AccessRequest = {
          op: row.op,
          action: row.action,
          // A search over explicitly named experiments (runs, traces, logged models) is decided on
          // those experiments; only an unconstrained one needs tenant-wide read.
          search: row.tenancy === 'search' && !ctx.resources.some((r) => r.ref === 0),
          tenant: ctx.tenant,
          checks: await buildChecks(ctx, resolver, needsResolution, tagged !== undefined),
          workspace: ctx.resources.find((r) => r.kind === 'workspace')?.id,
          owned,
          filterable: row.op in SEARCH_FILTERS,
        };
        // GraphQL: one request per field's REST twin (routes/mlflow/graphql.ts); all must allow.
        const requests = ctx.graphql ? (await graphqlAccessRequests(ctx.graphql, resolver, ctx.tenant)).map((r) => ({ ...r, owned })) : [request];
        if (tagged) for (const r of requests) checkTagScoped(r, ctx.graphql !== undefined);
        decision = ctx.graphql ? decideAll(policy, ctx.principal, requests) : decide(policy, ctx.principal, request);
      }
      ctx.decision = decision;
      if (decision.effect !== 'allow') {
        // Another tenant's resource answers exactly like a missing one (the resolver's own 404).
        if (decision.reasons.includes('foreign-tenant')) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', 'foreign-tenant');
        const code = decision.reasons.includes('route-denied') ? 'GATEHOUSE_ROUTE_DISABLED' : 'GATEHOUSE_AUTHZ_DENIED';
        throw new GatehouseError(code, decision.reasons.join(','));
      }
      const spec = SEARCH_FILTERS[row.op];
      if ((decision.filter || tagged) && spec && !ctx.graphql) {
        // Allowed item by item: the forward stage pages through MLflow's results with this predicate.
        const principal = ctx.principal;
        const base = { op: row.op, action: row.action, search: false, tenant: ctx.tenant, owned: principal ? ownership.scopesOf(principal.id) : [] };
        const anchorsOf = tagged ? tenantAnchors(spec, tagged, resolver, ctx.tenant) : async (item: Record<string, unknown>) => spec.anchors(item);
        ctx.searchFilter = async (item) => {
          const anchors = await anchorsOf(item);
          return anchors !== undefined && decide(policy, principal, { ...base, checks: [{ family: spec.family, need: 'read', anchors }] }).effect === 'allow';
        };
      }
      checkArtifactLocation(ctx, policy);
      // An administrator moving an experiment between tenants: no cached tag may outlive the change.
      if (tag && admin && tagKeysWritten(ctx).some((k) => isTenantKey(k, tag.key))) {
        for (const r of ctx.resources) if (r.kind === 'experiment') resolver.forgetExperiment(r.id);
      }
    },
  };
}

/**
 * Tag mode: every check of a call must name a root whose tenant tag could be read (anchors with
 * `tenants`); a call that names none is refused, except the creates that stamp the tag and the
 * REST searches that are constrained and filtered item by item.
 */
function checkTagScoped(request: AccessRequest, graphql: boolean): void {
  if (!NEEDS.has(request.action)) return;
  // GraphQL results are not filtered: there, a search must name what it reads.
  if (!graphql && (STAMPED_CREATES.has(request.op) || request.op in SEARCH_FILTERS)) return;
  if (request.checks.length > 0 && request.checks.every((c) => c.anchors?.tenants !== undefined)) return;
  throw new GatehouseError('GATEHOUSE_AUTHZ_DENIED', `tag-unsupported: ${request.op} names no experiment or registered model whose tenant tag can be checked`);
}

/** One search result's anchors with its root's tenant tag: its own tags, or (model versions) its model's. */
function tenantAnchors(spec: SearchFilterSpec, tag: TagTenancy, resolver: Resolver, tenant: string | undefined): (item: Record<string, unknown>) => Promise<Anchors | undefined> {
  const parents = new Map<string, Promise<readonly string[] | undefined>>();
  const parentTenants = (name: string) => {
    let p = parents.get(name);
    if (!p) {
      const ids = [{ kind: 'registered_model' as const, ref: 0, id: name, key: { name }, from: 'search-result:name' }];
      p = resolver.anchors({ kind: 'registered_model', ids: [] }, ids, tenant).then(
        (a) => a?.tenants,
        // Deleted since MLflow listed it: not shown. Anything else (MLflow down) fails the search.
        (err: unknown) => {
          if (err instanceof GatehouseError && err.code === 'GATEHOUSE_RESOURCE_NOT_FOUND') return undefined;
          throw err;
        },
      );
      parents.set(name, p);
    }
    return p;
  };
  return async (item) => {
    const anchors = spec.anchors(item);
    if (spec.tags) return { ...anchors, tenants: [tagValue(spec.tags(item), tag.key)] };
    const parentsTags = await Promise.all((anchors.modelNames ?? []).map(parentTenants));
    if (parentsTags.length === 0 || parentsTags.some((t) => t === undefined)) return undefined;
    return { ...anchors, tenants: parentsTags.flatMap((t) => t!) };
  };
}

/**
 * `experiments/create` takes a client-chosen `artifact_location` (`handlers._create_experiment`
 * checks only its scheme); it could point into another tenant's artifact tree, and MLflow
 * refuses that only with workspaces on. Gatehouse refuses it in every tenancy mode: only a
 * platform administrator may choose where an experiment's artifacts live.
 */
function checkArtifactLocation(ctx: RequestContext, policy: PolicySnapshot): void {
  if (ctx.route!.row.op !== 'experiments.create' || typeof ctx.json !== 'object' || ctx.json === null) return;
  const body = ctx.json as Record<string, unknown>;
  const location = body.artifact_location ?? body.artifactLocation;
  if (location === undefined || location === null || location === '') return;
  if (ctx.principal && isAdmin(policy, ctx.principal) !== undefined) return;
  throw new GatehouseError('GATEHOUSE_AUTHZ_ARTIFACT_LOCATION', 'client-chosen artifact_location');
}
