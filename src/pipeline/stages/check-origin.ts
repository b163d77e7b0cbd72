/**
 * Refuses state-changing requests whose Origin is neither the gateway's own origin nor one
 * configured in `server.publicOrigins`. MLflow's own cross-origin guard
 * (`mlflow/server/security.py` block_cross_origin_state_changes) cannot judge this behind a
 * gateway, so the Origin header is checked here and not forwarded.
 */
import { GatehouseError } from '../../errors.ts';
import type { Stage } from '../context.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkOrigin(publicOrigins: readonly string[]): Stage<'matched'> {
  const allowed = new Set(publicOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  return {
    name: 'check-origin',
    needs: 'matched',
    run(ctx) {
      const origin = ctx.req.headers.origin;
      if (origin === undefined || SAFE.has(ctx.req.method ?? '')) return;
      const o = origin.toLowerCase();
      if (allowed.has(o)) return;
      const host = ctx.req.headers.host?.toLowerCase();
      if (host !== undefined && (o === `http://${host}` || o === `https://${host}`)) return;
      throw new GatehouseError('GATEHOUSE_REQUEST_FOREIGN_ORIGIN', `origin ${origin.slice(0, 100)}`);
    },
  };
}
