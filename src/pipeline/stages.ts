/**
 * The order of the request pipeline, in one place (DESIGN.md, "The request pipeline").
 * Each stage is a file under stages/; the runner owns timing, logging and error responses.
 */
import type { Config } from '../config/schema.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { isAdmin, tenantsOf } from '../policy/engine.ts';
import type { Resolver } from '../policy/resolve.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { RouteMatcher } from '../routes/mlflow/match.ts';
import type { ServerInfo } from '../upstream/server-info.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { Stage } from './context.ts';
import { assignRequestId } from './stages/assign-request-id.ts';
import { canonicalize } from './stages/canonicalize.ts';
import { matchRoute } from './stages/match-route.ts';
import { checkOrigin } from './stages/check-origin.ts';
import { authenticate } from './stages/authenticate.ts';
import { resolveTenant } from './stages/resolve-tenant.ts';
import { readBody } from './stages/read-body.ts';
import { extractResource } from './stages/extract-resource.ts';
import { authorize } from './stages/authorize.ts';
import { rewriteRequest } from './stages/rewrite-request.ts';
import { forward } from './stages/forward.ts';
import { auditPending, type PendingAudit } from './stages/audit-pending.ts';

export interface PipelineDeps {
  readonly config: Readonly<Config>;
  readonly routes: RouteMatcher;
  readonly providers: readonly IdentityProvider[];
  readonly upstream: Upstream;
  readonly policy: () => PolicySnapshot;
  readonly resolver: Resolver;
  readonly serverInfo: () => Promise<ServerInfo>;
  /** The audit trail's durable pre-forward record (audit.mode required). */
  readonly audit?: PendingAudit;
}

export function buildStages(deps: PipelineDeps): readonly Stage[] {
  const { config } = deps;
  return [
    assignRequestId(config.server.trustedProxies),
    canonicalize,
    matchRoute(deps.routes),
    checkOrigin(config.server.publicOrigins),
    authenticate(deps.providers),
    resolveTenant(deps.policy, deps.serverInfo),
    // Bodies are read only once the caller is known, so anonymous clients cannot make the gateway buffer.
    readBody(config.server.maxJsonBodyBytes),
    extractResource,
    authorize(config.authorization.mode, deps.policy, deps.resolver),
    rewriteRequest(deps.serverInfo),
    auditPending(deps.audit),
    forward(deps.upstream, (ctx) => ({
      visibleTenants: ctx.principal && isAdmin(deps.policy(), ctx.principal) === undefined ? tenantsOf(deps.policy(), ctx.principal) : undefined,
    })),
  ];
}
