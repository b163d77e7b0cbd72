/**
 * A call that creates a resource under an id the client chose (its row's `creates`: a v3 trace's
 * `trace_id`) may follow a lookup of that id, which the resolver remembers as missing. Once MLflow
 * has answered the create with 2xx, the resolver forgets that (src/policy/resolve.ts), so the
 * client is not told its new resource does not exist. Creates whose id MLflow chooses report it
 * from their answer instead (routes/mlflow/filters.ts).
 */
import type { Resolver } from '../policy/resolve.ts';
import type { RequestObserver } from './runner.ts';
import { readIds } from './stages/extract-resource.ts';

export function forgetCreated(resolver: Pick<Resolver, 'created'>): RequestObserver {
  return {
    onDone({ ctx, status }) {
      const creates = ctx.route?.row.creates;
      if (creates === undefined || ctx.errorCode !== undefined || status < 200 || status > 299) return;
      for (const source of creates.ids) for (const id of readIds(ctx, source, creates.kind)) resolver.created(creates.kind, id);
    },
  };
}
