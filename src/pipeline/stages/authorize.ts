/**
 * The decision stage: builds the access request from the route row and the extracted
 * resources, resolves resources to what bindings name only when the principal's bindings
 * depend on it, and asks the engine. Default deny; a lookup or policy error denies.
 */
import { GatehouseError, permissionDenied } from '../../errors.ts';
import { decide, hasResourceScopedBindings, isAdmin } from '../../policy/engine.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { OwnershipIndex } from '../../policy/ownership.ts';
import { SEARCH_FILTERS, type SearchFilterSpec } from '../../routes/mlflow/search-filter.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { RequestContext, Stage } from '../context.ts';
import { graphqlReads } from '../../routes/mlflow/graphql.ts';
import { tagValue } from '../../policy/resolve.ts';
import { isTenantKey, namesTaggedRoots, refuseTenantTagWrite, tagKeysWritten, type TagTenancy } from '../../policy/tag-tenancy.ts';
import type { AccessRequest } from '../../model/access.ts';
import type { Decision } from '../../model/decision.ts';
import type { Anchors } from '../../model/resource.ts';
import { isResourceAction } from '../../model/permission.ts';
import { accessRequest, graphqlRequests, isCrossReference, namedRefs, needsOf, resultRequest, type NamedRef } from '../../policy/access-request.ts';

export type AuthorizationMode = 'policy' | 'dev-allow-all';

/**
 * The refs the call names, each resolved (looked up in the caller's tenant) when the principal's
 * bindings depend on which resource it is, and always for cross references (a model version's
 * source run, a linked trace): a reference into another tenant does not resolve, and is refused
 * as not existing. Undefined in tag mode when a ref cannot be traced to a tagged root: such a
 * resource is never guessed at (fail closed).
 */
async function resolveNamed(ctx: RequestContext, resolver: Resolver, resolveAll: boolean, tagMode: boolean): Promise<NamedRef[] | undefined> {
  const named: NamedRef[] = [];
  const row = ctx.route!.row;
  // Only a call that needs a level is checked on what it names (access-request.ts checksOf).
  if (!isResourceAction(row.action)) return named;
  for (const { index, ref, ids: sent } of namedRefs(row, ctx.resources)) {
    // Ids MLflow stores nowhere name nothing (a trace linked before the async client stored it).
    const ids = ref.unstoredNamesNothing ? await resolver.stored(ref, sent, ctx.tenant) : sent;
    if (ids.length === 0) continue;
    const anchors = resolveAll || isCrossReference(ref, index) ? await resolver.anchors(ref, ids, ctx.tenant) : undefined;
    if (tagMode && anchors === undefined) return undefined;
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
        if (ctx.graphql) {
          // GraphQL: one request per field's REST twin (routes/mlflow/graphql.ts); all must allow.
          const requests = graphqlRequests(row, await graphqlReads(ctx.graphql, resolver, ctx.tenant), ctx.tenant, owned);
          decision = tagged && !requests.every((r) => namesTaggedRoots(r, true)) ? TAG_UNSUPPORTED : decideAll(policy, ctx.principal, requests);
        } else {
          const named = await resolveNamed(ctx, resolver, needsResolution, tagged !== undefined);
          const request = named && accessRequest(row, { tenant: ctx.tenant, named, workspace: ctx.resources.find((r) => r.kind === 'workspace')?.id, owned });
          // Tag mode: a call that names no root whose tenant tag could be checked is refused (policy/tag-tenancy.ts).
          decision = !request || (tagged && !namesTaggedRoots(request, false)) ? TAG_UNSUPPORTED : decide(policy, ctx.principal, request);
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
      const spec = SEARCH_FILTERS[row.op];
      if ((decision.filter || tagged) && spec && !ctx.graphql) {
        // Allowed item by item: the forward stage pages through MLflow's results with this predicate.
        const principal = ctx.principal;
        const owned = principal ? ownership.scopesOf(principal.id) : [];
        const anchorsOf = tagged ? tenantAnchors(spec, tagged, resolver, ctx.tenant) : async (item: Record<string, unknown>) => spec.anchors(item);
        ctx.searchFilter = async (item) => {
          const anchors = await anchorsOf(item);
          return anchors !== undefined && decide(policy, principal, resultRequest(row, spec.family, anchors, ctx.tenant, owned)).effect === 'allow';
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
