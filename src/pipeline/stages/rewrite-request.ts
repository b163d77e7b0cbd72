/**
 * Builds what MLflow receives: the client's headers on the route's allow-list
 * (src/upstream/headers.ts; the others are dropped and counted), plus the gateway's own request id, forwarding facts,
 * and the tenant constraint: in workspace mode `X-MLFLOW-WORKSPACE` is set to the resolved
 * tenant (the client's own value never passes); the tenancy mode adds its own (src/tenancy/: tag
 * mode stamps creates and constrains searches).
 */
import { requestHeadersFor, upstreamRequestHeaders } from '../../upstream/headers.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { TenancyMode } from '../../tenancy/mode.ts';
import type { Stage } from '../context.ts';

export interface RewriteOptions {
  /** Identity headers the configured providers read (never forwarded). */
  readonly consumedHeaders?: readonly string[];
  /** The tenancy mode: the constraint it adds beyond the workspace header. */
  readonly tenancy: TenancyMode;
  readonly policy: () => PolicySnapshot;
}

export function rewriteRequest(upstreams: Upstreams, options: RewriteOptions): Stage<'authorized'> {
  const consumedHeaders = options.consumedHeaders ?? [];
  return {
    name: 'rewrite-request',
    needs: 'authorized',
    gives: 'rewritten',
    async run(ctx) {
      options.tenancy.constrainRequest(ctx, options.policy());
      const headers = upstreamRequestHeaders(ctx.req.headers, requestHeadersFor(ctx.route.row), consumedHeaders, ctx);
      headers['x-request-id'] = ctx.requestId;
      headers['x-forwarded-for'] = ctx.peer;
      headers['x-forwarded-proto'] = 'encrypted' in ctx.req.socket ? 'https' : 'http';
      if (ctx.req.headers.host) headers['x-forwarded-host'] = ctx.req.headers.host;
      if (ctx.body !== undefined) headers['content-length'] = String(ctx.body.length);
      const workspace = await upstreams.workspaceHeader(ctx.tenant);
      if (workspace !== undefined) headers['x-mlflow-workspace'] = workspace;
      ctx.upstreamHeaders = headers;
    },
  };
}
