/** Sends the authorized request to MLflow and streams the answer back. */
import type { Upstream } from '../../upstream/upstream.ts';
import type { Stage } from '../context.ts';
import { hasBody } from './read-body.ts';

export function forward(upstream: Upstream): Stage {
  return {
    name: 'forward',
    async run(ctx) {
      const { rawPath, rawQuery } = ctx.target!;
      ctx.upstreamStatus = await upstream.forward(
        {
          method: ctx.req.method!,
          path: rawQuery === '' ? rawPath : `${rawPath}?${rawQuery}`,
          headers: ctx.upstreamHeaders!,
          body: ctx.body ?? (hasBody(ctx) ? ctx.req : null),
        },
        ctx.res,
        (status) => (ctx.upstreamStatus = status),
      );
    },
  };
}
