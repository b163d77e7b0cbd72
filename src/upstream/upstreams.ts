/**
 * The MLflow servers behind the gateway, by tenancy mode (DESIGN.md, "Tenancy modes"):
 * - `workspace`: one MLflow; a tenant is one of its workspaces, carried in X-MLFLOW-WORKSPACE
 *   (only `default` can be served when that MLflow has no workspaces);
 * - `tag`: one MLflow, any version; tenants are a tag on experiments and registered models
 *   (src/policy/tag-tenancy.ts) and no workspace header is sent;
 * - `instance`: each tenant has its own MLflow, with its own keep-alive pool; isolation is
 *   physical and no workspace header is sent. `mlflow.url` serves tenant-less routes (UI shell).
 */
import { serverInfoProbe } from './server-info.ts';
import { createUpstream, type Upstream, type UpstreamOptions } from './upstream.ts';

export interface Upstreams {
  /** The MLflow that serves this tenant; the main one for tenant-less requests. */
  forTenant(tenant: string | undefined): Upstream;
  /** The X-MLFLOW-WORKSPACE value MLflow must receive for this tenant, if any. */
  workspaceHeader(tenant: string | undefined): Promise<string | undefined>;
  /** Whether the tenant can be served at all by what is behind the gateway. */
  canServe(tenant: string): Promise<boolean>;
  /** Every upstream, named, for readiness. */
  all(): readonly { readonly name: string; readonly upstream: Upstream }[];
  close(): Promise<void>;
}

export const DEFAULT_WORKSPACE = 'default';

/** What the upstreams are made from (the configuration's `mlflow`, `tenancy` and `tenants`). */
export interface UpstreamsOptions {
  readonly mlflow: UpstreamOptions;
  readonly tenancy: { readonly mode: 'workspace' | 'tag' | 'instance' };
  readonly tenants: readonly { readonly name: string; readonly mlflowUrl?: string | undefined }[];
}

export function createUpstreams(config: UpstreamsOptions): Upstreams {
  const main = createUpstream(config.mlflow);
  const info = serverInfoProbe(main);
  const perTenant = new Map<string, Upstream>();
  if (config.tenancy.mode === 'instance') {
    for (const t of config.tenants) perTenant.set(t.name, createUpstream({ ...config.mlflow, url: t.mlflowUrl! }));
  }
  const instance = config.tenancy.mode === 'instance';
  const tag = config.tenancy.mode === 'tag';
  return {
    forTenant: (tenant) => (tenant !== undefined ? perTenant.get(tenant) : undefined) ?? main,
    async workspaceHeader(tenant) {
      if (instance || tag || tenant === undefined) return undefined;
      return (await info()).workspacesEnabled ? tenant : undefined;
    },
    async canServe(tenant) {
      if (instance) return perTenant.has(tenant);
      if (tag) return true;
      return tenant === DEFAULT_WORKSPACE || (await info()).workspacesEnabled;
    },
    all: () => [{ name: 'mlflow', upstream: main }, ...[...perTenant].map(([name, upstream]) => ({ name: `mlflow:${name}`, upstream }))],
    async close() {
      await Promise.all([main.close(), ...[...perTenant.values()].map((u) => u.close())]);
    },
  };
}
