/**
 * Workspace tenancy (the default; docs/design.md "Tenancy modes"): one MLflow started with
 * `--enable-workspaces`, where a tenant is one of its workspaces. The gateway owns the
 * `X-MLFLOW-WORKSPACE` header (the rewrite stage pins it to the resolved tenant). An MLflow
 * without workspaces can serve only the `default` one, and then receives no header.
 */
import { serverInfoProbe } from '../upstream/server-info.ts';
import { createUpstream } from '../upstream/upstream.ts';
import { DEFAULT_WORKSPACE, upstreamSet } from '../upstream/upstreams.ts';
import type { TenancyMode } from './mode.ts';
import { noTenantUrls } from './instance.ts';

export const workspaceTenancy: TenancyMode = {
  name: 'workspace',
  rootTenantTag: undefined,
  tenantsAreWorkspaces: true,
  presentsWorkspaces: false,
  tenantProblems: noTenantUrls,
  restartPaths: () => [],
  upstreams(mlflow) {
    const main = createUpstream(mlflow);
    const info = serverInfoProbe(main);
    return upstreamSet(main, new Map(), {
      workspaceHeader: async (tenant) => ((await info()).workspacesEnabled ? tenant : undefined),
      canServe: async (tenant) => tenant === DEFAULT_WORKSPACE || (await info()).workspacesEnabled,
    });
  },
  binds: () => undefined,
  authorized() {},
  constrainRequest() {},
};
