/**
 * Rate limits in two places of the pipeline (src/ratelimit/):
 * - `rateLimitClient`, before authentication: refuses an address whose anonymous bucket is
 *   empty, and a password attempt (HTTP Basic) from an address or for a user name locked out
 *   after failed attempts, before the password is hashed or the directory asked. (The buckets are charged by the limits' runner
 *   observer once a request ended without a principal or with a failed password.)
 * - `rateLimitPrincipal`, once the tenant is known and before the body is read: one token
 *   from the principal's bucket, then from the tenant's, for the route's operation class.
 * Over budget: 429 GATEHOUSE_RATE_LIMITED with Retry-After. Without limits both are no-ops.
 */
import { basicAttempt, type RateLimits } from '../../ratelimit/limits.ts';
import { operationClass } from '../../ratelimit/classes.ts';
import type { Stage } from '../context.ts';

export function rateLimitClient(limits: RateLimits | undefined): Stage<'matched'> {
  return {
    name: 'rate-limit-client',
    needs: 'matched',
    async run(ctx) {
      if (!limits) return;
      const row = ctx.route.row;
      const cls = operationClass(row);
      const address = await limits.take('address', cls, ctx.peer, 0);
      if (!address.allowed) throw limits.rejection('address', cls, address.retryAfterMs);
      const attempt = basicAttempt(ctx.req);
      if (row.action === 'public' || !attempt) return;
      const locked = await limits.lockedOut(ctx.peer, attempt.username);
      if (locked) throw limits.rejection(locked.kind, 'failed-auth', locked.retryAfterMs);
    },
  };
}

export function rateLimitPrincipal(limits: RateLimits | undefined): Stage<'matched'> {
  return {
    name: 'rate-limit',
    needs: 'matched',
    async run(ctx) {
      if (!limits || !ctx.principal) return;
      const cls = operationClass(ctx.route.row);
      const mine = await limits.take('principal', cls, ctx.principal.id);
      if (!mine.allowed) throw limits.rejection('principal', cls, mine.retryAfterMs);
      if (ctx.tenant === undefined) return;
      const tenant = await limits.take('tenant', cls, ctx.tenant);
      if (!tenant.allowed) throw limits.rejection('tenant', cls, tenant.retryAfterMs);
    },
  };
}
