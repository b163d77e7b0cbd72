/**
 * Filter response (docs/design.md, "The request pipeline", step 18): what the caller may not see is
 * dropped from search and list results, keeping pages complete, and what MLflow created is
 * recorded. Three kinds of answer are read, by the row's columns (src/routes/mlflow/types.ts):
 * - a search allowed item by item (the authorize stage's `searchFilter`): paged through here
 *   (routes/mlflow/search-filter.ts), never streamed;
 * - an answer buffered by the forward stage (`answerIsRead`): the row's `responseFilter`, its
 *   `createsRoot` (the creator recorded, src/pipeline/created.ts) and, where the tenancy presents
 *   tenants as workspaces, server-info's workspaces flag;
 * - anything else was streamed (or answered by the gateway) already: nothing to do.
 */
import { filteredSearch } from '../../routes/mlflow/search-filter.ts';
import type { RouteRow } from '../../routes/mlflow/table.ts';
import { withWorkspacesEnabled } from '../../tenancy/virtual-workspaces.ts';
import { parseAnswer } from '../../upstream/upstream.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import type { CreatedRecorder } from '../created.ts';
import type { Authorized, Stage } from '../context.ts';

/** Whether the forward stage buffers this route's answer for this stage instead of streaming it. */
export function answerIsRead(row: RouteRow, presentsWorkspaces: boolean): boolean {
  return row.responseFilter !== undefined || row.createsRoot !== undefined || (presentsWorkspaces && row.serverInfo === true);
}

/** Whether this stage pages the call through MLflow (a search allowed item by item): forward sends nothing. */
export function pagedByFilter(ctx: Authorized): boolean {
  return ctx.searchFilter !== undefined && ctx.route.row.search !== undefined;
}

export interface FilterResponseOptions {
  /** The tenants a caller may see in a list; undefined: all (administrators, anonymous calls). */
  visibleTenants(ctx: Authorized): readonly string[] | undefined;
  readonly created: CreatedRecorder;
  /** The tenancy presents tenants as MLflow workspaces (src/tenancy/). */
  readonly presentsWorkspaces: boolean;
}

export function filterResponse(upstreams: Upstreams, options: FilterResponseOptions): Stage<'rewritten'> {
  return {
    name: 'filter-response',
    needs: 'rewritten',
    async run(ctx) {
      const row = ctx.route.row;
      if (ctx.decision.effect !== 'allow') return;
      if (ctx.searchFilter !== undefined && row.search !== undefined) {
        await filteredSearch(ctx, upstreams.forTenant(ctx.tenant), row.search, ctx.searchFilter);
        return;
      }
      const answer = ctx.answer;
      if (answer === undefined) return;
      let body = answer.body;
      if (answer.status === 200) {
        let json = parseAnswer(body.toString('utf8'), row.op, 'GATEHOUSE_UPSTREAM_BAD_RESPONSE');
        const created = row.createsRoot?.created(json);
        if (row.createsRoot && created !== undefined) await options.created.root(ctx, row.createsRoot.kind, created);
        if (row.responseFilter) json = row.responseFilter(json, { visibleTenants: options.visibleTenants(ctx) });
        if (options.presentsWorkspaces && row.serverInfo) json = withWorkspacesEnabled(json);
        body = Buffer.from(JSON.stringify(json));
      }
      const headers: Record<string, string | string[]> = { ...answer.headers, 'content-length': String(body.length) };
      delete headers['content-encoding'];
      ctx.res.writeHead(answer.status, headers);
      ctx.res.end(body);
    },
  };
}
