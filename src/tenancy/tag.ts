/**
 * Tag tenancy (docs/design.md "Tenancy modes"): one MLflow of any version, where an experiment or
 * registered model belongs to the tenant its tenant tag names. The rules that read requests
 * (which tag keys a call writes, the stamp, the search clause) are in tag-rules.ts; this file
 * is where the pipeline meets them. Everything binds principals who are not administrators.
 */
import { GatehouseError } from '../errors.ts';
import type { Anchors } from '../model/resource.ts';
import type { Authorized } from '../pipeline/context.ts';
import { tagValue, type Resolver } from '../policy/resolve.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { SearchFilterSpec } from '../routes/mlflow/types.ts';
import { createUpstream } from '../upstream/upstream.ts';
import { upstreamSet } from '../upstream/upstreams.ts';
import { noTenantUrls } from './instance.ts';
import type { ResourceBinding, TenancyMode } from './mode.ts';
import {
  constrainedSearchParams,
  inTenantTag,
  isTenantKey,
  namesTaggedRoots,
  refuseTenantTagWrite,
  stampTenantTag,
  tagKeysWritten,
  type TagTenancy,
} from './tag-rules.ts';

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
 * Creates are stamped with the tenant the caller acts in: always for members; for
 * administrators when it is a declared tenant and they did not choose the tag themselves.
 * Members' searches carry the tenant clause (administrators search everything).
 */
function constrainByTag(ctx: Authorized, tag: TagTenancy, policy: PolicySnapshot): void {
  const row = ctx.route.row;
  const tenant = ctx.tenant;
  if (ctx.decision?.effect !== 'allow' || tenant === undefined || ctx.graphql) return;
  const admin = ctx.decision.reasons.includes('platform-admin');
  if (row.createsRoot !== undefined && (!admin || policy.tenants.has(tenant))) stampTenantTag(ctx, tag, tenant);
  if (row.search?.constrainable && !admin) ctx.searchParams = constrainedSearchParams(ctx, tag, tenant);
}

export function tagTenancy(key: string): TenancyMode {
  const tag: TagTenancy = { key };
  const binding: ResourceBinding = {
    refuseWrites: (ctx) => refuseTenantTagWrite(ctx, tag),
    admits: namesTaggedRoots,
    resultAnchors: (spec, resolver, tenant) => tenantAnchors(spec, tag, resolver, tenant),
    inTenant: inTenantTag,
  };
  return {
    name: 'tag',
    rootTenantTag: key,
    tenantsAreWorkspaces: false,
    presentsWorkspaces: true,
    tenantProblems: noTenantUrls,
    restartPaths: () => [],
    upstreams(mlflow) {
      return upstreamSet(createUpstream(mlflow), new Map(), { workspaceHeader: async () => undefined, canServe: async () => true });
    },
    // The workspace routes are about tenants themselves (answered from the policy: virtual-workspaces.ts).
    binds: (row, admin) => (admin || row.workspaceApi !== undefined ? undefined : binding),
    authorized(ctx, admin, resolver) {
      // An administrator moving an experiment between tenants: no cached tag may outlive the change.
      if (admin && tagKeysWritten(ctx).some((k) => isTenantKey(k, tag.key))) {
        for (const r of ctx.resources) if (r.kind === 'experiment') resolver.forgetExperiment(r.id);
      }
    },
    constrainRequest: (ctx, policy) => constrainByTag(ctx, tag, policy),
  };
}
