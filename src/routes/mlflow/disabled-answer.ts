/**
 * The answer to a call of a route the gateway disables (route rows with action `deny`): for a
 * list of a switched-off feature, what MLflow 3.18 answers when that feature has nothing to show
 * (the row's `disabledAnswer`), byte for byte; for any other call, GATEHOUSE_ROUTE_DISABLED.
 * Nothing is forwarded either way.
 */
import { GatehouseError } from '../../errors.ts';
import type { Matched } from '../../pipeline/context.ts';

export function answerDisabled(ctx: Matched): void {
  const row = ctx.route.row;
  if (row.action !== 'deny' || row.disabledAnswer === undefined) throw new GatehouseError('GATEHOUSE_ROUTE_DISABLED', `${row.op}: not allowed`);
  // Flask's jsonify ends its compact JSON with a newline (flask.json.provider.DefaultJSONProvider.response); FastAPI's JSONResponse does not.
  const bytes = Buffer.from(`${JSON.stringify(row.disabledAnswer)}${row.app === 'flask' ? '\n' : ''}`);
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  ctx.res.end(bytes);
}
