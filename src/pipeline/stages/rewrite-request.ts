/**
 * Builds what MLflow receives: the client's headers minus credentials, hop-by-hop and
 * spoofable identity/steering headers, plus the gateway's own request id, forwarding facts,
 * and the tenant constraint: in workspace mode `X-MLFLOW-WORKSPACE` is set to the resolved
 * tenant (the client's own value never passes).
 */
import { upstreamRequestHeaders } from '../../upstream/headers.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import type { Stage } from '../context.ts';

/** `consumedHeaders`: identity headers the configured providers read (never forwarded). */
export function rewriteRequest(upstreams: Upstreams, consumedHeaders: readonly string[] = []): Stage {
  return {
    name: 'rewrite-request',
    async run(ctx) {
      const headers = upstreamRequestHeaders(ctx.req.headers, consumedHeaders);
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
