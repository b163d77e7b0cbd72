/** Which operation class a route's calls count against (the buckets of `rateLimits.*`). */
import type { RouteRow } from '../routes/mlflow/table.ts';
import type { OperationClass } from './schema.ts';

/**
 * Artifact file transfers: every streamed request body (uploads, OTLP), the artifact families
 * (`artifacts.*`, `artifactsProxy.*`) and the handlers that send a file back
 * (`modelVersions.getArtifact`, `loggedModels.getArtifactFile`, `traces.getArtifact`, ...),
 * whose responses stream even though their requests have no body.
 */
const ARTIFACT_OP = /^artifacts(Proxy)?\.|\.getArtifact/;

/**
 * Artifact transfers are `artifacts`; cross-resource listings are `searches` (whatever their
 * method: MLflow searches are mostly POSTs); GETs and other read-level calls are `reads`;
 * everything else changes state and is `writes`.
 */
export function operationClass(row: Pick<RouteRow, 'op' | 'method' | 'action' | 'tenancy' | 'body'>): OperationClass {
  if (row.body === 'stream' || ARTIFACT_OP.test(row.op)) return 'artifacts';
  if (row.tenancy === 'search') return 'searches';
  if (row.method === 'GET' || row.action === 'read' || row.action === 'public' || row.action === 'authenticated') return 'reads';
  return 'writes';
}
