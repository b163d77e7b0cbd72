/** Which usage counter a finished request adds to, if any: the row's `usage` column (src/routes/mlflow/types.ts). */
import type { RequestContext } from '../pipeline/context.ts';
import type { MetricKey } from './definitions.ts';

export function usageOf(ctx: RequestContext, status: number): MetricKey | undefined {
  if (status < 200 || status >= 300 || ctx.errorCode || ctx.route === undefined) return undefined;
  const usage = ctx.route.row.usage;
  return typeof usage === 'function' ? usage(ctx.route.params) : usage;
}
