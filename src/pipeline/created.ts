/**
 * What a call created, recorded in one place.
 * - A root MLflow created under an id it chose (an experiment id, a registered model's name; the
 *   row's `createsRoot`), read from its answer by the filter-response stage: the caller is
 *   recorded as its creator (src/policy/ownership.ts), and no remembered "missing" of that id
 *   may hide it (src/policy/resolve.ts).
 * - A resource created under an id the client chose (the row's `creates`: a v3 trace's
 *   `trace_id`) may follow a lookup of that id, which the resolver remembers as missing. Once
 *   MLflow has answered the create with 2xx, the resolver forgets that (an observer: the answer
 *   streams, nothing reads it).
 */
import type { OwnershipIndex } from '../policy/ownership.ts';
import type { Resolver } from '../policy/resolve.ts';
import type { RootCreate } from '../routes/mlflow/types.ts';
import { reached, type Authorized } from './context.ts';
import type { RequestObserver } from './runner.ts';
import { readIds } from './stages/extract-resource.ts';

export interface CreatedRecorder {
  /** MLflow created root `id` of `kind` for the caller of `ctx`. */
  root(ctx: Authorized, kind: RootCreate['kind'], id: string): Promise<void>;
  /** Forgets remembered "missing" of the client-chosen ids of a successful create. */
  readonly observer: RequestObserver;
}

export function createdRecorder(resolver: Pick<Resolver, 'created'>, ownership: Pick<OwnershipIndex, 'record'>): CreatedRecorder {
  return {
    async root(ctx, kind, id) {
      resolver.created(kind, id);
      if (ctx.principal && ctx.tenant !== undefined) await ownership.record({ tenant: ctx.tenant, kind, resource: id, principalId: ctx.principal.id });
    },
    observer: {
      onDone({ ctx, status }) {
        if (!reached.matched(ctx)) return;
        const creates = ctx.route.row.creates;
        if (creates === undefined || ctx.errorCode !== undefined || status < 200 || status > 299) return;
        for (const source of creates.ids) for (const id of readIds(ctx, source, creates.kind)) resolver.created(creates.kind, id);
      },
    },
  };
}
