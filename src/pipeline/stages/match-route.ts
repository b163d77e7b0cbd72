/** Looks up (method, canonical path) in the MLflow route table. No row: 404, never forwarded. */
import { GatehouseError } from '../../errors.ts';
import type { RouteMatcher } from '../../routes/mlflow/match.ts';
import type { Stage } from '../context.ts';

export function matchRoute(matcher: RouteMatcher): Stage<'canonical'> {
  return {
    name: 'match-route',
    needs: 'canonical',
    gives: 'matched',
    run(ctx) {
      const path = ctx.target.path;
      const route = matcher.match(ctx.req.method ?? '', path);
      if (!route) {
        const detail = matcher.pathExists(path) ? `method ${ctx.req.method} not served` : 'no such route';
        throw new GatehouseError('GATEHOUSE_ROUTE_UNKNOWN', detail);
      }
      ctx.route = route;
    },
  };
}
