/**
 * Builds what MLflow receives: the client's headers on the route's allow-list
 * (src/upstream/headers.ts; the others are dropped and counted), plus the gateway's own request id, forwarding facts,
 * and the tenant constraint: in workspace mode `X-MLFLOW-WORKSPACE` is set to the resolved
 * tenant (the client's own value never passes); in tag mode the tenant tag is added to creates
 * and the tenant clause to constrained searches (src/policy/tag-tenancy.ts).
 */
import { requestHeadersFor, upstreamRequestHeaders } from '../../upstream/headers.ts';
import type { Upstreams } from '../../upstream/upstreams.ts';
import { CONSTRAINED_SEARCHES, STAMPED_CREATES, constrainedSearchParams, stampTenantTag, type TagTenancy } from '../../policy/tag-tenancy.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { RequestContext, Stage } from '../context.ts';

/**
 * Tag mode. Creates are stamped with the tenant the caller acts in: always for members; for
 * administrators when it is a declared tenant and they did not choose the tag themselves.
 * Members' searches carry the tenant clause (administrators search everything).
 */
function constrainByTag(ctx: RequestContext, tag: TagTenancy, policy: PolicySnapshot): void {
  const op = ctx.route!.row.op;
  const tenant = ctx.tenant;
  if (ctx.decision?.effect !== 'allow' || tenant === undefined || ctx.graphql) return;
  const admin = ctx.decision.reasons.includes('platform-admin');
  if (STAMPED_CREATES.has(op) && (!admin || policy.tenants.has(tenant))) stampTenantTag(ctx, tag, tenant);
  if (CONSTRAINED_SEARCHES.has(op) && !admin) ctx.searchParams = constrainedSearchParams(ctx, tag, tenant);
}

export interface RewriteOptions {
  /** Identity headers the configured providers read (never forwarded). */
  readonly consumedHeaders?: readonly string[];
  /** Tag-mode tenancy; absent in the other modes. */
  readonly tag?: TagTenancy | undefined;
  readonly policy: () => PolicySnapshot;
}

export function rewriteRequest(upstreams: Upstreams, options: RewriteOptions): Stage {
  const consumedHeaders = options.consumedHeaders ?? [];
  return {
    name: 'rewrite-request',
    async run(ctx) {
      if (options.tag) constrainByTag(ctx, options.tag, options.policy());
      const headers = upstreamRequestHeaders(ctx.req.headers, requestHeadersFor(ctx.route!.row), consumedHeaders, ctx);
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
