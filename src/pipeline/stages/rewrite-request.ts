/**
 * Builds what MLflow receives: the client's headers minus credentials, hop-by-hop and
 * spoofable identity/steering headers, plus the gateway's own request id, forwarding facts,
 * and the tenant constraint: in workspace mode `X-MLFLOW-WORKSPACE` is set to the resolved
 * tenant (the client's own value never passes).
 */
import { upstreamRequestHeaders } from '../../upstream/headers.ts';
import type { ServerInfo } from '../../upstream/server-info.ts';
import type { Stage } from '../context.ts';

export function rewriteRequest(serverInfo: () => Promise<ServerInfo>): Stage {
  return {
    name: 'rewrite-request',
    async run(ctx) {
      const headers = upstreamRequestHeaders(ctx.req.headers);
      headers['x-request-id'] = ctx.requestId;
      headers['x-forwarded-for'] = ctx.peer;
      headers['x-forwarded-proto'] = 'encrypted' in ctx.req.socket ? 'https' : 'http';
      if (ctx.req.headers.host) headers['x-forwarded-host'] = ctx.req.headers.host;
      if (ctx.body !== undefined) headers['content-length'] = String(ctx.body.length);
      if (ctx.tenant !== undefined && (await serverInfo()).workspacesEnabled) headers['x-mlflow-workspace'] = ctx.tenant;
      ctx.upstreamHeaders = headers;
    },
  };
}
