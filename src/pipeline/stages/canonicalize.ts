/**
 * One canonical reading of the request target and of the headers the gateway reads; anything
 * two parsers could read differently is refused with 400 (see lib/target.ts). Bodies are
 * canonicalized once the route says what they are (read-body.ts).
 */
import { GatehouseError } from '../../errors.ts';
import { canonicalizeTarget } from '../../lib/target.ts';
import type { Stage } from '../context.ts';

/** Headers the gateway reads (or MLflow reads for routing): each must appear at most once. */
const SINGLE_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'host',
  'x-request-id',
  'x-mlflow-workspace',
  'x-mlflow-experiment-id',
  'origin',
  'cookie',
]);

export const canonicalize: Stage<'arrived'> = {
  name: 'canonicalize',
  needs: 'arrived',
  gives: 'canonical',
  run(ctx) {
    ctx.target = canonicalizeTarget(ctx.req.url ?? '');
    const raw = ctx.req.rawHeaders;
    const seen = new Set<string>();
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (!SINGLE_HEADERS.has(name)) continue;
      if (seen.has(name)) throw new GatehouseError('GATEHOUSE_REQUEST_BAD_HEADERS', `repeated ${name}`);
      seen.add(name);
    }
  },
};
