/**
 * A model version built from an artifact location (`mlflow-artifacts:/...`, `s3://...`, a local
 * path) must take it from inside the artifact root of the run or logged model the request names
 * (`run_id`, `model_id`), which the authorize stage has just checked as a read. MLflow enforces
 * that only for proxied and local sources (`handlers._validate_source_run`); for `s3:`, `gs:`
 * and the rest it stores any location, and `model-versions/get-artifact` later serves it with the
 * server's own credentials — another tenant's files included. The gateway checks every kind
 * itself. Platform administrators may register any location.
 */
import { GatehouseError } from '../../errors.ts';
import { isAdmin } from '../../policy/engine.ts';
import type { Resolver } from '../../policy/resolve.ts';
import type { PolicySnapshot } from '../../policy/snapshot.ts';
import { isWithinRoot } from '../../routes/mlflow/references.ts';
import type { Stage } from '../context.ts';

export function checkSourceRoot(snapshot: () => PolicySnapshot, resolver: Resolver): Stage<'authorized'> {
  return {
    name: 'check-source-root',
    needs: 'authorized',
    async run(ctx) {
      const claim = ctx.sourceRoot;
      if (claim === undefined) return;
      if (ctx.principal !== undefined && isAdmin(snapshot(), ctx.principal) !== undefined) return;
      // `_create_model_version` validates against model_id when one is given, else against run_id.
      const [kind, id, field] = claim.modelId !== '' ? (['logged_model', claim.modelId, 'model_id'] as const) : (['run', claim.runId, 'run_id'] as const);
      const inside = id !== '' && isWithinRoot(claim.uri, await resolver.artifactRoot(kind, id, ctx.tenant));
      if (!inside) {
        throw new GatehouseError(
          'GATEHOUSE_REQUEST_UNRESOLVED_SOURCE',
          `source outside the artifact root of ${field} ${JSON.stringify(id)}`,
          undefined,
          `Invalid model version source: '${claim.source}'. The ${field} request parameter must identify the resource that contains the source.`,
        );
      }
    },
  };
}
