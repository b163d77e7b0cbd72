/**
 * The decision stage: builds the access request from the route row and the extracted
 * resources, resolves resources to what bindings name only when the principal's bindings
 * depend on it, and asks the engine. Default deny; a lookup or policy error denies.
 */
import { GatehouseError } from '../../errors.ts';
import { decide, hasResourceScopedBindings, type AccessRequest, type Check } from '../../policy/engine.ts';
import { familyOfKind, familyOfOp } from '../../policy/model.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import type { Decision } from '../../policy/decision.ts';
import type { RequestContext, Stage } from '../context.ts';

export type AuthorizationMode = 'policy' | 'dev-allow-all';

type Need = Check['need'];
const NEEDS = new Set(['read', 'use', 'edit', 'manage', 'create']);

/**
 * The checks a call needs: one per resource ref it carries, or one for the route. Resources are
 * resolved (looked up in the caller's tenant) when the principal's bindings depend on which
 * resource it is, and always for cross references (a model version's source run, a linked
 * trace): a reference into another tenant does not resolve, and is refused as not existing.
 */
export async function buildChecks(ctx: RequestContext, resolver: Resolver, resolveAll: boolean): Promise<Check[]> {
  const row = ctx.route!.row;
  if (!NEEDS.has(row.action)) return [];
  const checks: Check[] = [];
  const refs = row.resources ?? [];
  for (const [index, ref] of refs.entries()) {
    const ids = ctx.resources.filter((r) => r.ref === index);
    if (ids.length === 0) continue;
    const need = (ref.action ?? row.action) as Need;
    const crossReference = index > 0 && ref.action !== undefined;
    const anchors = resolveAll || crossReference ? await resolver.anchors(ref, ids, ctx.tenant) : undefined;
    checks.push({ family: familyOfKind(ref.kind), need, anchors });
  }
  if (checks.length === 0) checks.push({ family: familyOfOp(row.op), need: row.action as Need });
  return checks;
}

export function authorize(mode: AuthorizationMode, snapshot: () => PolicySnapshot, resolver: Resolver): Stage {
  return {
    name: 'authorize',
    async run(ctx) {
      const row = ctx.route!.row;
      let decision: Decision;
      if (mode === 'dev-allow-all' && ctx.principal && row.action !== 'deny') {
        decision = { effect: 'allow', reasons: ['dev-allow-all'], matchedBindings: [] };
      } else {
        const policy = snapshot();
        const needsResolution = ctx.principal !== undefined && hasResourceScopedBindings(policy, ctx.principal);
        const request: AccessRequest = {
          op: row.op,
          action: row.action,
          search: row.tenancy === 'search',
          tenant: ctx.tenant,
          checks: await buildChecks(ctx, resolver, needsResolution),
          workspace: ctx.resources.find((r) => r.kind === 'workspace')?.id,
        };
        decision = decide(policy, ctx.principal, request);
      }
      ctx.decision = decision;
      if (decision.effect === 'allow') return;
      const code = decision.reasons.includes('route-denied') ? 'GATEHOUSE_ROUTE_DISABLED' : 'GATEHOUSE_AUTHZ_DENIED';
      throw new GatehouseError(code, decision.reasons.join(','));
    },
  };
}
