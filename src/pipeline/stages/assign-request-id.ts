/**
 * Keeps a well-formed X-Request-ID from a trusted proxy, otherwise generates one; echoes it on
 * the response. The forward stage passes it to MLflow.
 */
import { randomUUID } from 'node:crypto';
import type { Stage } from '../context.ts';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

export function assignRequestId(trustedProxies: readonly string[]): Stage<'arrived'> {
  const trusted = new Set(trustedProxies);
  return {
    name: 'assign-request-id',
    needs: 'arrived',
    run(ctx) {
      const inbound = ctx.req.headers['x-request-id'];
      ctx.requestId = trusted.has(ctx.peer) && typeof inbound === 'string' && WELL_FORMED.test(inbound) ? inbound : randomUUID();
      ctx.res.setHeader('x-request-id', ctx.requestId);
    },
  };
}
