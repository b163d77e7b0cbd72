/**
 * Instance tenancy (docs/design.md "Tenancy modes"): each tenant has its own MLflow
 * (`tenants[].mlflowUrl`) with its own keep-alive pool; isolation is physical. No workspace
 * header is sent; the gateway presents the tenants as workspaces (virtual-workspaces.ts).
 */
import { createUpstream, type Upstream } from '../upstream/upstream.ts';
import { upstreamSet } from '../upstream/upstreams.ts';
import type { TenancyMode, TenantUpstream } from './mode.ts';

/** `tenants[].mlflowUrl` is refused outside instance mode. */
export function noTenantUrls(tenants: readonly TenantUpstream[]): ReturnType<TenancyMode['tenantProblems']> {
  return tenants.flatMap((t, i) => (t.mlflowUrl ? [{ path: ['tenants', i, 'mlflowUrl'], message: 'only used in instance mode (tenancy.mode: instance)' }] : []));
}

export const instanceTenancy: TenancyMode = {
  name: 'instance',
  rootTenantTag: undefined,
  tenantsAreWorkspaces: false,
  presentsWorkspaces: true,
  tenantProblems: (tenants) => tenants.flatMap((t, i) => (t.mlflowUrl ? [] : [{ path: ['tenants', i, 'mlflowUrl'], message: 'required in instance mode' }])),
  // Each tenant's pool is built at start.
  restartPaths: (before, after) => (JSON.stringify(before.map((t) => [t.name, t.mlflowUrl])) !== JSON.stringify(after.map((t) => [t.name, t.mlflowUrl])) ? ['tenants[].mlflowUrl'] : []),
  upstreams(mlflow, tenants) {
    const perTenant = new Map<string, Upstream>(tenants.map((t) => [t.name, createUpstream({ ...mlflow, url: t.mlflowUrl! })]));
    return upstreamSet(createUpstream(mlflow), perTenant, {
      workspaceHeader: async () => undefined,
      canServe: async (tenant) => perTenant.has(tenant),
    });
  },
  binds: () => undefined,
  authorized() {},
  constrainRequest() {},
};
