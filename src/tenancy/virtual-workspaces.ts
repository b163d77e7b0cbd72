/**
 * Tenants presented as MLflow workspaces where MLflow itself has none (tag and instance
 * tenancy). The stock client picks a workspace with `MLFLOW_WORKSPACE` only after
 * `server-info` says `workspaces_enabled` (`mlflow/store/workspace_rest_store_mixin.py`), and the
 * UI's workspace picker lists `/ajax-api/3.0/mlflow/workspaces`. So the gateway answers both:
 * server-info says workspaces are enabled, and the workspace routes are answered from the
 * policy (the caller's tenants; all of them for administrators). The header the client then
 * sends selects the tenant (resolve-tenant stage) and is never forwarded.
 */
import { GatehouseError } from '../errors.ts';
import type { RequestContext, Matched } from '../pipeline/context.ts';

export interface VirtualWorkspaces {
  /** The tenants this caller may see, in configuration order. */
  visible(ctx: RequestContext): readonly string[];
}

function send(ctx: RequestContext, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  ctx.upstreamStatus = status;
  ctx.res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  ctx.res.end(bytes);
}

/** Answers a `workspaces.*` call (already authorized) without MLflow; returns false for any other route. */
export function answerWorkspaceRoute(ctx: Matched, workspaces: VirtualWorkspaces): boolean {
  const { op, workspaceApi } = ctx.route.row;
  if (workspaceApi === undefined) return false;
  const visible = workspaces.visible(ctx);
  switch (workspaceApi) {
    case 'list':
      send(ctx, 200, { workspaces: visible.map((name) => ({ name })) });
      return true;
    case 'get': {
      const name = ctx.route.params.workspace_name;
      if (name === undefined || !visible.includes(name)) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', `workspace ${name ?? ''}`);
      send(ctx, 200, { workspace: { name } });
      return true;
    }
    case 'manage':
      throw new GatehouseError('GATEHOUSE_TENANT_WORKSPACES_VIRTUAL', op);
  }
}

/** `server-info` in those modes: the answer MLflow gave, with workspaces enabled. */
export function withWorkspacesEnabled(body: unknown): unknown {
  return body && typeof body === 'object' && !Array.isArray(body) ? { ...body, workspaces_enabled: true } : body;
}
