/**
 * Sends the authorized request to MLflow and streams the answer back. The few routes with a
 * response filter (routes/mlflow/filters.ts) are buffered, filtered and re-sent instead.
 * Every answer to a route that is not public is `no-store` (src/upstream/headers.ts), whoever
 * writes it: MLflow, a filter, or the gateway itself.
 */
import type { FilterContext, RootCreate } from '../../routes/mlflow/types.ts';
import { filteredSearch } from '../../routes/mlflow/search-filter.ts';
import { parseAnswer, type ForwardRequest } from '../../upstream/upstream.ts';
import { NO_STORE } from '../../upstream/headers.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import type { RequestContext, Stage } from '../context.ts';
import { hasBody } from './read-body.ts';
import { answerDisabled } from '../../routes/mlflow/disabled-answer.ts';
import { answerWorkspaceRoute, withWorkspacesEnabled, type VirtualWorkspaces } from '../../tenancy/virtual-workspaces.ts';

const MAX_FILTERED_BYTES = 32 * 1024 * 1024;

/** `virtualWorkspaces`: tag and instance tenancy present the tenants as MLflow workspaces (src/tenancy/virtual-workspaces.ts). */
/** What the forward stage needs to know of one caller to handle an answer it reads. */
export interface AnswerContext extends FilterContext {
  /**
   * MLflow created an experiment (id) or registered model (name) for the caller: it is recorded as
   * the creator, and no remembered "missing" of that id may hide it (src/policy/resolve.ts).
   */
  created(kind: RootCreate['kind'], resource: string): Promise<void>;
}

export function forward(upstreams: Upstreams, answerContext: (ctx: RequestContext) => AnswerContext, virtualWorkspaces?: VirtualWorkspaces): Stage {
  return {
    name: 'forward',
    async run(ctx) {
      const cacheable = ctx.route!.row.action === 'public';
      if (!cacheable) for (const name in NO_STORE) ctx.res.setHeader(name, NO_STORE[name]!);
      // Only an allowed call is forwarded; a disabled list is answered here (routes/mlflow/disabled-answer.ts).
      if (ctx.decision?.effect !== 'allow') return answerDisabled(ctx);
      if (virtualWorkspaces && answerWorkspaceRoute(ctx, virtualWorkspaces)) return;
      const { rawPath, rawQuery } = ctx.target!;
      const upstream = upstreams.forTenant(ctx.tenant);
      const row = ctx.route!.row;
      const search = row.search;
      if (ctx.searchFilter && search) {
        await filteredSearch(ctx, upstream, search, ctx.searchFilter);
        return;
      }
      const request: ForwardRequest = {
        method: ctx.req.method!,
        path: rawQuery === '' ? rawPath : `${rawPath}?${rawQuery}`,
        headers: ctx.upstreamHeaders!,
        body: ctx.body ?? (hasBody(ctx) ? ctx.req : null),
        cacheable,
        sink: ctx,
      };
      const { op, responseFilter, createsRoot } = row;
      const presentWorkspaces = virtualWorkspaces !== undefined && row.serverInfo === true;
      if (!responseFilter && !createsRoot && !presentWorkspaces) {
        ctx.upstreamStatus = await upstream.forward(request, ctx.res, (status) => (ctx.upstreamStatus = status));
        return;
      }
      const answer = await upstream.forwardBuffered(request, MAX_FILTERED_BYTES);
      ctx.upstreamStatus = answer.status;
      let body = answer.body;
      if (answer.status === 200) {
        let json = parseAnswer(body.toString('utf8'), op, 'GATEHOUSE_UPSTREAM_BAD_RESPONSE');
        const f = answerContext(ctx);
        const created = createsRoot?.created(json);
        if (createsRoot && created !== undefined) await f.created(createsRoot.kind, created);
        if (responseFilter) json = responseFilter(json, f);
        if (presentWorkspaces) json = withWorkspacesEnabled(json);
        body = Buffer.from(JSON.stringify(json));
      }
      const headers: Record<string, string | string[]> = { ...answer.headers, 'content-length': String(body.length) };
      delete headers['content-encoding'];
      ctx.res.writeHead(answer.status, headers);
      ctx.res.end(body);
    },
  };
}
