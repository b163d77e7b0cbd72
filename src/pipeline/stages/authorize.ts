/**
 * The decision stage: builds the access request from the route row and the extracted
 * resources, resolves resources to what bindings name only when the principal's bindings
 * depend on it, and asks the engine. Default deny; a lookup or policy error denies.
 */
import { GatehouseError } from '../../errors.ts';
import { decide, hasResourceScopedBindings, isAdmin, type AccessRequest, type Check } from '../../policy/engine.ts';
import { familyOfKind, familyOfOp } from '../../policy/model.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { OwnershipIndex } from '../../policy/ownership.ts';
import { SEARCH_FILTERS } from '../../routes/mlflow/search-filter.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { Decision } from '../../policy/decision.ts';
import type { RequestContext, Stage } from '../context.ts';
import { graphqlAccessRequests } from '../../routes/mlflow/graphql.ts';

export type AuthorizationMode = 'policy' | 'dev-allow-all';

type Need = Check['need'];
const NEEDS = new Set(['read', 'use', 'edit', 'manage', 'create']);

/**
 * The checks a call needs: one per resource ref it carries, or one for the route. Resources are
 * resolved (looked up in the caller's tenant) when the principal's bindings depend on which
 * resource it is, and always for cross references (a model version's source run, a linked
 * trace): a reference into another tenant does not resolve, and is refused as not existing.
 */
export async function buildChecks(ctx: RequestContext, resolver: Resolver, resolveAll: boolean): Promise<Check[]> {
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

export function authorize(mode: AuthorizationMode, snapshot: () => PolicySnapshot, resolver: Resolver, ownership: OwnershipIndex): Stage {
  return {
    name: 'authorize',
    async run(ctx) {
      const row = ctx.route!.row;
      let decision: Decision;
      if (mode === 'dev-allow-all' && ctx.principal && row.action !== 'deny') {
        decision = { effect: 'allow', reasons: ['dev-allow-all'], matchedBindings: [] };
      } else {
        const policy = snapshot();
        const owned = ctx.principal ? ownership.scopesOf(ctx.principal.id) : [];
        const needsResolution = ctx.principal !== undefined && hasResourceScopedBindings(policy, ctx.principal, owned);
        const request: AccessRequest = {
          op: row.op,
          action: row.action,
          // A search over explicitly named experiments (runs, traces, logged models) is decided on
          // those experiments; only an unconstrained one needs tenant-wide read.
          search: row.tenancy === 'search' && !ctx.resources.some((r) => r.ref === 0),
          tenant: ctx.tenant,
          checks: await buildChecks(ctx, resolver, needsResolution),
          workspace: ctx.resources.find((r) => r.kind === 'workspace')?.id,
          owned,
          filterable: row.op in SEARCH_FILTERS,
        };
        // GraphQL: one request per field's REST twin (routes/mlflow/graphql.ts); all must allow.
        decision = ctx.graphql ? decideAll(policy, ctx.principal, (await graphqlAccessRequests(ctx.graphql, resolver, ctx.tenant)).map((r) => ({ ...r, owned }))) : decide(policy, ctx.principal, request);
      }
      ctx.decision = decision;
      if (decision.filter && !ctx.graphql) {
        // Allowed item by item: the forward stage pages through MLflow's results with this predicate.
        const policy = snapshot();
        const principal = ctx.principal;
        const base = { op: row.op, action: row.action, search: false, tenant: ctx.tenant, owned: principal ? ownership.scopesOf(principal.id) : [] };
        const family = SEARCH_FILTERS[row.op]?.family;
        ctx.searchFilter = (anchors) => family !== undefined && decide(policy, principal, { ...base, checks: [{ family, need: 'read', anchors }] }).effect === 'allow';
      }
      if (decision.effect === 'allow') {
        checkArtifactLocation(ctx, snapshot());
        return;
      }
      const code = decision.reasons.includes('route-denied') ? 'GATEHOUSE_ROUTE_DISABLED' : 'GATEHOUSE_AUTHZ_DENIED';
      throw new GatehouseError(code, decision.reasons.join(','));
    },
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
