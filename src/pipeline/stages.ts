/**
 * The order of the request pipeline, in one place (docs/design.md, "The request pipeline").
 * Each stage is a file under stages/; the runner owns timing, logging and error responses.
 */
import type { Config } from '../config/schema.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { isAdmin, tenantsOf } from '../policy/engine.ts';
import type { Resolver } from '../policy/resolve.ts';
import type { OwnershipIndex } from '../policy/ownership.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { RouteMatcher } from '../routes/mlflow/match.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import type { TenancyMode } from '../tenancy/mode.ts';
import type { RequestContext, Stage } from './context.ts';
import { assignRequestId } from './stages/assign-request-id.ts';
import { canonicalize } from './stages/canonicalize.ts';
import { matchRoute } from './stages/match-route.ts';
import { checkOrigin } from './stages/check-origin.ts';
import { authenticate } from './stages/authenticate.ts';
import { resolveTenant } from './stages/resolve-tenant.ts';
import { readBody } from './stages/read-body.ts';
import { extractResource } from './stages/extract-resource.ts';
import { inspectGraphqlStage } from './stages/inspect-graphql.ts';
import { authorize } from './stages/authorize.ts';
import { checkSourceRoot } from './stages/check-source-root.ts';
import { rewriteRequest } from './stages/rewrite-request.ts';
import { forward } from './stages/forward.ts';
import { filterResponse } from './stages/filter-response.ts';
import type { CreatedRecorder } from './created.ts';
import { auditPending, type PendingAudit } from './stages/audit-pending.ts';
import { rateLimitClient, rateLimitPrincipal } from './stages/rate-limit.ts';
import { holdForApproval } from './stages/hold-for-approval.ts';
import type { ApprovalsService } from '../services/approvals.ts';
import type { RateLimits } from '../ratelimit/limits.ts';

export interface PipelineDeps {
  readonly config: Readonly<Config>;
  readonly routes: RouteMatcher;
  readonly providers: readonly IdentityProvider[];
  readonly upstreams: Upstreams;
  /** The tenancy mode (src/tenancy/), built from `config.tenancy`. */
  readonly tenancy: TenancyMode;
  readonly policy: () => PolicySnapshot;
  readonly resolver: Resolver;
  readonly ownership: OwnershipIndex;
  /** Records what calls created (src/pipeline/created.ts). */
  readonly created: CreatedRecorder;
  /** The audit trail's durable pre-forward record (audit.mode required). */
  readonly audit?: PendingAudit;
  /** Rate limits (src/ratelimit/); absent when `rateLimits.enabled` is false. */
  readonly rateLimits?: RateLimits | undefined;
  /** The approvals service (src/services/approvals.ts) that stores calls `config.approvals.rules` hold. */
  readonly approvals?: () => ApprovalsService | undefined;
}

/** The tenants a caller may see: its own; every declared one for administrators. */
function visibleTenantsOf(policy: PolicySnapshot, principal: RequestContext['principal']): readonly string[] {
  if (!principal) return [];
  return isAdmin(policy, principal) !== undefined ? [...policy.tenants.keys()] : tenantsOf(policy, principal);
}

export function buildStages(deps: PipelineDeps): readonly Stage[] {
  const { config } = deps;
  return [
    assignRequestId(config.server.trustedProxies),
    canonicalize,
    matchRoute(deps.routes),
    // Before authentication (the operation class needs the route): anonymous floods and lockouts cost no password check.
    rateLimitClient(deps.rateLimits),
    checkOrigin(config.server.publicOrigins),
    authenticate(deps.providers, { loginRedirect: config.auth.browser.loginRedirect }),
    resolveTenant(deps.policy, deps.upstreams),
    rateLimitPrincipal(deps.rateLimits),
    // Bodies are read only once the caller is known, so anonymous clients cannot make the gateway buffer.
    readBody({ maxBytes: config.server.maxJsonBodyBytes, maxDepth: config.server.maxJsonDepth, maxElements: config.server.maxJsonElements, timeoutMs: config.server.jsonBodyTimeoutMs }),
    extractResource,
    inspectGraphqlStage(config.server.graphql),
    authorize({ mode: config.authorization.mode, tenancy: deps.tenancy }, deps.policy, deps.resolver, deps.ownership),
    // After authorize: the run or logged model whose root it looks up is one the caller may read.
    checkSourceRoot(deps.policy, deps.resolver),
    rewriteRequest(deps.upstreams, { consumedHeaders: deps.providers.flatMap((p) => p.consumedHeaders ?? []), tenancy: deps.tenancy, policy: deps.policy }),
    // After the rewrite (what is held is what would be forwarded), before anything is forwarded.
    holdForApproval(() => config.approvals.rules, deps.approvals ?? (() => undefined)),
    auditPending(deps.audit),
    forward(deps.upstreams, deps.tenancy.presentsWorkspaces ? { visible: (ctx) => visibleTenantsOf(deps.policy(), ctx.principal) } : undefined),
    filterResponse(deps.upstreams, {
      visibleTenants: (ctx) => (ctx.principal && isAdmin(deps.policy(), ctx.principal) === undefined ? tenantsOf(deps.policy(), ctx.principal) : undefined),
      created: deps.created,
      presentsWorkspaces: deps.tenancy.presentsWorkspaces,
    }),
  ];
}
