/**
 * The MLflow servers behind the gateway. Which server serves a tenant, and with which
 * workspace header, is the tenancy mode's choice (src/tenancy/): each mode builds its
 * `Upstreams` with `upstreamSet`. `main` (`mlflow.url`) serves tenant-less routes (UI shell).
 */
import type { Upstream } from './upstream.ts';

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

/** What a tenancy mode decides about one tenant's calls. */
export interface TenantRouting {
  /** The workspace header for a tenant; undefined: none is sent. */
  workspaceHeader(tenant: string): Promise<string | undefined>;
  canServe(tenant: string): Promise<boolean>;
}

/** The upstreams: `main`, and (instance tenancy) one pool per tenant. */
export function upstreamSet(main: Upstream, perTenant: ReadonlyMap<string, Upstream>, routing: TenantRouting): Upstreams {
  return {
    forTenant: (tenant) => (tenant !== undefined ? perTenant.get(tenant) : undefined) ?? main,
    workspaceHeader: async (tenant) => (tenant === undefined ? undefined : routing.workspaceHeader(tenant)),
    canServe: (tenant) => routing.canServe(tenant),
    all: () => [{ name: 'mlflow', upstream: main }, ...[...perTenant].map(([name, upstream]) => ({ name: `mlflow:${name}`, upstream }))],
    async close() {
      await Promise.all([main.close(), ...[...perTenant.values()].map((u) => u.close())]);
    },
  };
}
