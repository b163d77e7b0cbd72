/**
 * Sends the authorized request to MLflow and streams the answer back. An answer the gateway
 * reads (filter-response.ts `answerIsRead`) is buffered, bounded, for the filter-response stage
 * instead; a search allowed item by item is paged by that stage. Every answer to a route that is
 * not public is `no-store` (src/upstream/headers.ts), whoever writes it: MLflow, a filter, or the
 * gateway itself.
 */
import type { ForwardRequest } from '../../upstream/upstream.ts';
import { NO_STORE } from '../../upstream/headers.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import type { Stage } from '../context.ts';
import { hasBody } from './read-body.ts';
import { answerIsRead, pagedByFilter } from './filter-response.ts';
import { answerDisabled } from '../../routes/mlflow/disabled-answer.ts';
import { answerWorkspaceRoute, type VirtualWorkspaces } from '../../tenancy/virtual-workspaces.ts';

const MAX_READ_BYTES = 32 * 1024 * 1024;

/** `virtualWorkspaces`: tag and instance tenancy present the tenants as MLflow workspaces (src/tenancy/virtual-workspaces.ts). */
export function forward(upstreams: Upstreams, virtualWorkspaces?: VirtualWorkspaces): Stage<'rewritten'> {
  const presentsWorkspaces = virtualWorkspaces !== undefined;
  return {
    name: 'forward',
    needs: 'rewritten',
    async run(ctx) {
      const row = ctx.route.row;
      const cacheable = row.action === 'public';
      if (!cacheable) for (const name in NO_STORE) ctx.res.setHeader(name, NO_STORE[name]!);
      // Only an allowed call is forwarded; a disabled list is answered here (routes/mlflow/disabled-answer.ts).
      if (ctx.decision.effect !== 'allow') return answerDisabled(ctx);
      if (virtualWorkspaces && answerWorkspaceRoute(ctx, virtualWorkspaces)) return;
      if (pagedByFilter(ctx)) return;
      const { rawPath, rawQuery } = ctx.target;
      const upstream = upstreams.forTenant(ctx.tenant);
      const request: ForwardRequest = {
        method: ctx.method,
        path: rawQuery === '' ? rawPath : `${rawPath}?${rawQuery}`,
        headers: ctx.upstreamHeaders,
        body: ctx.body ?? (hasBody(ctx) ? ctx.req : null),
        cacheable,
        sink: ctx,
      };
      if (!answerIsRead(row, presentsWorkspaces)) {
        ctx.upstreamStatus = await upstream.forward(request, ctx.res, (status) => (ctx.upstreamStatus = status));
        return;
      }
      const answer = await upstream.forwardBuffered(request, MAX_READ_BYTES);
      ctx.upstreamStatus = answer.status;
      ctx.answer = answer;
    },
  };
}
