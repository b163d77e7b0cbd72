/**
 * Builds what MLflow receives: the client's headers minus credentials, hop-by-hop and
 * spoofable identity/steering headers, plus the gateway's own request id and forwarding facts.
 */
import { upstreamRequestHeaders } from '../../upstream/headers.ts';
import type { Stage } from '../context.ts';

export const rewriteRequest: Stage = {
  name: 'rewrite-request',
  run(ctx) {
    const headers = upstreamRequestHeaders(ctx.req.headers);
    headers['x-request-id'] = ctx.requestId;
    headers['x-forwarded-for'] = ctx.peer;
    headers['x-forwarded-proto'] = 'encrypted' in ctx.req.socket ? 'https' : 'http';
    if (ctx.req.headers.host) headers['x-forwarded-host'] = ctx.req.headers.host;
    if (ctx.body !== undefined) {
      delete headers['content-length'];
      headers['content-length'] = String(ctx.body.length);
    }
    ctx.upstreamHeaders = headers;
  },
};
