/**
 * With `audit.mode: required`, a mutating request (any method but GET) is forwarded only
 * after its `pending` audit event is durably accepted; a sink that cannot accept it ends the
 * request with 503 GATEHOUSE_AUDIT_UNAVAILABLE before anything reaches MLflow (fail closed).
 */
import type { Stage } from '../context.ts';

export interface PendingAudit {
  readonly required: boolean;
  pending(ctx: import('../context.ts').RequestContext): Promise<void>;
}

export function auditPending(audit: PendingAudit | undefined): Stage<'authorized'> {
  return {
    name: 'audit-pending',
    needs: 'authorized',
    // Not async: most requests pass without a promise to await (docs/performance.md).
    run(ctx) {
      // A call that is not allowed is never forwarded (a disabled list is answered by the gateway).
      if (!audit?.required || ctx.req.method === 'GET' || ctx.decision?.effect !== 'allow') return;
      return audit.pending(ctx);
    },
  };
}
