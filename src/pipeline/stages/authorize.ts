/**
 * The decision stage: builds the access request from the route row and the extracted
 * resources, resolves resources to what bindings name only when the principal's bindings
 * depend on it, and asks the engine. Default deny; a lookup or policy error denies.
 */
import { GatehouseError, permissionDenied } from '../../errors.ts';
import { decide, hasResourceScopedBindings, isAdmin } from '../../policy/engine.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { OwnershipIndex } from '../../policy/ownership.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { RequestContext, Stage, Matched } from '../context.ts';
import { graphqlReads } from '../../routes/mlflow/graphql.ts';
import type { TenancyMode } from '../../tenancy/mode.ts';
import type { AccessRequest } from '../../model/access.ts';
import type { Decision } from '../../model/decision.ts';
import { isResourceAction } from '../../model/permission.ts';
import { accessRequest, graphqlRequests, isCrossReference, namedRefs, needsOf, resultRequest, type NamedRef } from '../../policy/access-request.ts';

export type AuthorizationMode = 'policy' | 'dev-allow-all';

/**
 * The refs the call names, each resolved (looked up in the caller's tenant) when the principal's
 * bindings depend on which resource it is, and always for cross references (a model version's
 * source run, a linked trace): a reference into another tenant does not resolve, and is refused
 * as not existing. Undefined for a call the tenancy binds (tag mode) when a ref cannot be traced
 * to a tagged root: such a resource is never guessed at (fail closed).
 */
async function resolveNamed(ctx: Matched, resolver: Resolver, resolveAll: boolean, bound: boolean): Promise<NamedRef[] | undefined> {
  const named: NamedRef[] = [];
  const row = ctx.route.row;
  // Only a call that needs a level is checked on what it names (access-request.ts checksOf).
  if (!isResourceAction(row.action)) return named;
  for (const { index, ref, ids: sent } of namedRefs(row, ctx.resources)) {
    // Ids MLflow stores nowhere name nothing (a trace linked before the async client stored it).
    const ids = ref.unstoredNamesNothing ? await resolver.stored(ref, sent, ctx.tenant) : sent;
    if (ids.length === 0) continue;
    const anchors = resolveAll || isCrossReference(ref, index) ? await resolver.anchors(ref, ids, ctx.tenant) : undefined;
    if (bound && anchors === undefined) return undefined;
    named.push({ index, anchors });
  }
  return named;
}

const TAG_UNSUPPORTED: Decision = { effect: 'deny', reasons: ['tag-unsupported'], matchedBindings: [] };

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
  /** The tenancy mode (src/tenancy/): what it binds a call to beyond the engine's decision. */
  readonly tenancy: TenancyMode;
}

export function authorize(options: AuthorizeOptions, snapshot: () => PolicySnapshot, resolver: Resolver, ownership: OwnershipIndex): Stage<'matched'> {
  const { mode, tenancy } = options;
  return {
    name: 'authorize',
    needs: 'matched',
    gives: 'authorized',
    async run(ctx) {
      const row = ctx.route.row;
      const policy = snapshot();
      const admin = ctx.principal !== undefined && isAdmin(policy, ctx.principal) !== undefined;
      // What the tenancy binds the call to beyond the engine (tag mode: a member's tenant tag).
      const bound = ctx.principal !== undefined && mode === 'policy' ? tenancy.binds(row, admin) : undefined;
      bound?.refuseWrites(ctx);
      let decision: Decision;
      if (mode === 'dev-allow-all' && ctx.principal && row.action !== 'deny') {
        decision = { effect: 'allow', reasons: ['dev-allow-all'], matchedBindings: [] };
      } else {
        const owned = ctx.principal ? ownership.scopesOf(ctx.principal.id) : [];
        const needsResolution = bound !== undefined || (ctx.principal !== undefined && hasResourceScopedBindings(policy, ctx.principal, owned));
        if (ctx.graphql) {
          // GraphQL: one request per field's REST twin (routes/mlflow/graphql.ts); all must allow.
          const requests = graphqlRequests(row, await graphqlReads(ctx.graphql, resolver, ctx.tenant), ctx.tenant, owned);
          decision = bound && !requests.every((r) => bound.admits(row, r, true)) ? TAG_UNSUPPORTED : decideAll(policy, ctx.principal, requests);
        } else {
          const named = await resolveNamed(ctx, resolver, needsResolution, bound !== undefined);
          const request = named && accessRequest(row, { tenant: ctx.tenant, named, workspace: ctx.resources.find((r) => r.kind === 'workspace')?.id, owned });
          // Tag mode: a call that names no root whose tenant tag could be checked is refused (src/tenancy/tag-rules.ts).
          decision = !request || (bound && !bound.admits(row, request, false)) ? TAG_UNSUPPORTED : decide(policy, ctx.principal, request);
          if (request) ctx.access = request;
        }
      }
      ctx.decision = decision;
      if (decision.effect !== 'allow') {
        // Another tenant's resource answers exactly like a missing one (the resolver's own 404).
        if (decision.reasons.includes('foreign-tenant')) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', 'foreign-tenant');
        if (decision.reasons.includes('route-denied')) {
          // A disabled feature's list: the forward stage answers it as MLflow with nothing configured.
          if (row.disabledAnswer !== undefined && ctx.principal !== undefined) return;
          throw new GatehouseError('GATEHOUSE_ROUTE_DISABLED', decision.reasons.join(','));
        }
        // A GraphQL document reads through its REST twins: what it needs is read access to what it reads.
        throw permissionDenied(row.op, ctx.graphql ? ['READ on what the query reads'] : needsOf(row, namedRefs(row, ctx.resources).map((n) => n.index)), decision.reasons, ctx.requestId);
      }
      const spec = row.search;
      if ((decision.filter || bound) && spec && !ctx.graphql) {
        // Allowed item by item: the forward stage pages through MLflow's results with this predicate.
        const principal = ctx.principal;
        const owned = principal ? ownership.scopesOf(principal.id) : [];
        const anchorsOf = bound ? bound.resultAnchors(spec, resolver, ctx.tenant) : async (item: Record<string, unknown>) => spec.anchors(item);
        ctx.searchFilter = async (item) => {
          const anchors = await anchorsOf(item);
          return anchors !== undefined && decide(policy, principal, resultRequest(row, spec.family, anchors, ctx.tenant, owned)).effect === 'allow';
        };
      }
      // The route's own checks (routes/mlflow/checks/), once the call is allowed.
      for (const check of row.checks ?? []) check.run({ json: ctx.json, admin });
      tenancy.authorized(ctx, admin, resolver);
    },
  };
}
