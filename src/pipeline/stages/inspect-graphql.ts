/**
 * Inspects `POST /graphql` before the decision: parses and validates the query against MLflow's
 * schema, applies the depth and field limits (400 before anything is looked up or forwarded),
 * and leaves the per-field uses on the context for the authorize stage. Other routes pass.
 */
import { graphqlResourceIds, inspectGraphql, type GraphqlLimits } from '../../routes/mlflow/graphql.ts';
import type { Stage } from '../context.ts';

export function inspectGraphqlStage(limits: GraphqlLimits): Stage<'matched'> {
  return {
    name: 'inspect-graphql',
    needs: 'matched',
    run(ctx) {
      if (!ctx.route.row.graphql || !ctx.principal) return;
      const inspection = inspectGraphql(ctx.json, limits);
      ctx.graphql = inspection;
      ctx.resources = [...ctx.resources, ...graphqlResourceIds(inspection)];
    },
  };
}
