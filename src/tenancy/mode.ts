/**
 * The tenancy mode (docs/design.md, "Tenancy modes") behind one interface: everything that differs
 * between `workspace`, `tag` and `instance` tenancy lives in that mode's file (workspace.ts,
 * tag.ts, instance.ts); stages, policy, routes, upstreams and config reload call the interface
 * and never ask which mode is configured. `tenancyMode` (index.ts) picks the implementation.
 */
import type { AccessRequest } from '../model/access.ts';
import type { Anchors } from '../model/resource.ts';
import type { Matched, Authorized } from '../pipeline/context.ts';
import type { Resolver } from '../policy/resolve.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { RouteRow } from '../routes/mlflow/table.ts';
import type { RouteSpec, SearchFilterSpec } from '../routes/mlflow/types.ts';
import type { UpstreamOptions } from '../upstream/upstream.ts';
import type { Upstreams } from '../upstream/upstreams.ts';

export type TenancyModeName = 'workspace' | 'tag' | 'instance';

/** The configuration's `tenancy` section, as far as the modes read it. */
export interface TenancySettings {
  readonly mode: TenancyModeName;
  /** Tag mode: the tag naming a root's tenant (`tenancy.tagKey`). */
  readonly tagKey: string;
}

/** A tenant as the modes read it (`tenants[]`). */
export interface TenantUpstream {
  readonly name: string;
  /** Instance mode: the tenant's own MLflow. */
  readonly mlflowUrl?: string | undefined;
}

/**
 * What a mode adds to the engine's decision for one call of a principal who is not an
 * administrator (tag mode: the call is bound to the tenant tag of the roots it names).
 */
export interface ResourceBinding {
  /** Refuses a request that would write what binds resources to tenants (the tenant tag). */
  refuseWrites(ctx: Matched): void;
  /** Whether the engine's input names what the binding can check (a call naming no tagged root is refused). */
  admits(row: RouteSpec, request: AccessRequest, graphql: boolean): boolean;
  /** The anchors of one search result, with its root's tenant; undefined: not shown. */
  resultAnchors(spec: SearchFilterSpec, resolver: Resolver, tenant: string | undefined): (item: Record<string, unknown>) => Promise<Anchors | undefined>;
  /** A described root found in `tenant` (explain, the permission matrix), as the resolver would read it. */
  inTenant(anchors: Anchors, tenant: string): Anchors;
}

export interface TenancyMode {
  readonly name: TenancyModeName;
  /**
   * Where the resolver reads a root's own tenant (src/policy/resolve.ts `tagKey`): tag mode's
   * tenant tag; undefined where a root's tenant is the request's (workspace and instance modes).
   */
  readonly rootTenantTag: string | undefined;
  /** Tenants are MLflow workspaces: making a tenant makes its workspace (src/services/workspaces.ts). */
  readonly tenantsAreWorkspaces: boolean;
  /**
   * The gateway itself presents the tenants as MLflow workspaces (server-info, the workspace
   * routes; virtual-workspaces.ts), because MLflow has none for them.
   */
  readonly presentsWorkspaces: boolean;
  /** Problems of `tenants[]` under this mode, by dotted path (config validation). */
  tenantProblems(tenants: readonly TenantUpstream[]): { path: (string | number)[]; message: string }[];
  /** Paths of a configuration change that pick upstreams built at start, and so need a restart. */
  restartPaths(before: readonly TenantUpstream[], after: readonly TenantUpstream[]): string[];
  /** The MLflow servers behind the gateway: which one serves a tenant, with which workspace header. */
  upstreams(mlflow: UpstreamOptions, tenants: readonly TenantUpstream[]): Upstreams;
  /** The mode's binding of a call of `row` (undefined: the engine's decision is all). */
  binds(row: RouteRow, admin: boolean): ResourceBinding | undefined;
  /** After a call is authorized: what the mode must forget or prepare (tag mode: cached tags an administrator rewrites). */
  authorized(ctx: Matched, admin: boolean, resolver: Resolver): void;
  /** The rewrite stage: the tenant constraint a forwarded call carries beyond the workspace header (tag mode: stamp, search clause). */
  constrainRequest(ctx: Authorized, policy: PolicySnapshot): void;
}
