/**
 * The decision: default deny, an error never grants. Until the policy engine lands (issue 4)
 * the model is small: public routes are open, `deny` routes are closed to everyone, platform
 * administrators may call the rest, and `dev-allow-all` (explicit, loudly logged) lets every
 * authenticated principal through.
 */
import { GatehouseError } from '../../errors.ts';
import type { Decision } from '../../policy/decision.ts';
import type { RouteRow } from '../../routes/mlflow/types.ts';
import type { Principal } from '../../identity/principal.ts';
import type { Stage } from '../context.ts';

export type AuthorizationMode = 'admins-only' | 'dev-allow-all';

export function decide(mode: AuthorizationMode, row: RouteRow, principal: Principal | undefined): Decision {
  if (row.action === 'public') return { effect: 'allow', reasons: ['public-route'] };
  if (row.action === 'deny') return { effect: 'deny', reasons: ['route-denied'] };
  if (!principal) return { effect: 'deny', reasons: ['default-deny'] };
  if (principal.admin) return { effect: 'allow', reasons: ['platform-admin'] };
  if (mode === 'dev-allow-all') return { effect: 'allow', reasons: ['dev-allow-all'] };
  return { effect: 'deny', reasons: ['not-admin'] };
}

export function authorize(mode: AuthorizationMode): Stage {
  return {
    name: 'authorize',
    run(ctx) {
      const decision = decide(mode, ctx.route!.row, ctx.principal);
      ctx.decision = decision;
      if (decision.effect === 'allow') return;
      const code = decision.reasons.includes('route-denied') ? 'GATEHOUSE_ROUTE_DISABLED' : 'GATEHOUSE_AUTHZ_DENIED';
      throw new GatehouseError(code, decision.reasons.join(','));
    },
  };
}
