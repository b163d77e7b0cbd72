/**
 * The one factory of the tenancy mode, chosen from configuration (`tenancy.mode`), and the
 * configuration facts that depend on it. See mode.ts for the interface.
 */
import type { UpstreamOptions } from '../upstream/upstream.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import { instanceTenancy } from './instance.ts';
import type { TenancyMode, TenancySettings, TenantUpstream } from './mode.ts';
import { tagTenancy } from './tag.ts';
import { workspaceTenancy } from './workspace.ts';

export type { TenancyMode, TenancySettings, ResourceBinding } from './mode.ts';

export function tenancyMode(settings: TenancySettings): TenancyMode {
  switch (settings.mode) {
    case 'workspace':
      return workspaceTenancy;
    case 'tag':
      return tagTenancy(settings.tagKey);
    case 'instance':
      return instanceTenancy;
  }
}

/** The MLflow servers behind the gateway, as the configured mode routes tenants to them. */
export function createUpstreams(config: { readonly mlflow: UpstreamOptions; readonly tenancy: TenancySettings; readonly tenants: readonly TenantUpstream[] }): Upstreams {
  return tenancyMode(config.tenancy).upstreams(config.mlflow, config.tenants);
}

/** The tenancy paths of a configuration change that need a restart: the mode and what it built at start. */
export function tenancyRestartPaths(
  before: { readonly tenancy: TenancySettings; readonly tenants: readonly TenantUpstream[] },
  after: { readonly tenancy: TenancySettings; readonly tenants: readonly TenantUpstream[] },
): string[] {
  const paths: string[] = [];
  if (before.tenancy.mode !== after.tenancy.mode) paths.push('tenancy.mode');
  if (before.tenancy.tagKey !== after.tenancy.tagKey) paths.push('tenancy.tagKey');
  return [...paths, ...tenancyMode(after.tenancy).restartPaths(before.tenants, after.tenants)];
}
