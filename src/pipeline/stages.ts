/**
 * The order of the request pipeline, in one place (DESIGN.md, "The request pipeline").
 * Each stage is a file under stages/; the runner owns timing, logging and error responses.
 */
import type { Config } from '../config/schema.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import type { RouteMatcher } from '../routes/mlflow/match.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { Stage } from './context.ts';
import { assignRequestId } from './stages/assign-request-id.ts';
import { canonicalize } from './stages/canonicalize.ts';
import { matchRoute } from './stages/match-route.ts';
import { checkOrigin } from './stages/check-origin.ts';
import { authenticate } from './stages/authenticate.ts';
import { readBody } from './stages/read-body.ts';
import { extractResource } from './stages/extract-resource.ts';
import { authorize } from './stages/authorize.ts';
import { rewriteRequest } from './stages/rewrite-request.ts';
import { forward } from './stages/forward.ts';

export interface PipelineDeps {
  readonly config: Readonly<Config>;
  readonly routes: RouteMatcher;
  readonly providers: readonly IdentityProvider[];
  readonly upstream: Upstream;
}

export function buildStages(deps: PipelineDeps): readonly Stage[] {
  const { config } = deps;
  return [
    assignRequestId(config.server.trustedProxies),
    canonicalize,
    matchRoute(deps.routes),
    checkOrigin(config.server.publicOrigins),
    authenticate(deps.providers),
    // Bodies are read only once the caller is known, so anonymous clients cannot make the gateway buffer.
    readBody(config.server.maxJsonBodyBytes),
    extractResource,
    authorize(config.authorization.mode),
    rewriteRequest,
    forward(deps.upstream),
  ];
}
