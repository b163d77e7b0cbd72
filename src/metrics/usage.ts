/** Which usage counter a finished request adds to, if any: the operations a platform team trends. */
import type { RequestContext } from '../pipeline/context.ts';
import type { MetricKey } from './definitions.ts';

const CREATED: Readonly<Record<string, MetricKey>> = {
  'runs.create': 'usageRunsCreated',
  'experiments.create': 'usageExperimentsCreated',
  'registeredModels.create': 'usageModelsRegistered',
  'modelVersions.create': 'usageModelVersionsCreated',
  'modelVersions.getArtifact': 'usageModelArtifactsDownloaded',
  'loggedModels.getArtifactFile': 'usageModelArtifactsDownloaded',
};

/**
 * MLflow 3 stores a logged model's files under `<experiment>/models/<model id>/artifacts/`
 * (`mlflow/store/tracking/sqlalchemy_store.py` create_logged_model); the client downloads them
 * through the artifact proxy.
 */
const MODEL_ARTIFACT = /(^|\/)models\/m-[0-9a-f]+\/artifacts(\/|$)/;

export function usageOf(ctx: RequestContext, status: number): MetricKey | undefined {
  if (status < 200 || status >= 300 || ctx.errorCode) return undefined;
  const op = ctx.route?.row.op;
  if (op === undefined) return undefined;
  if (op === 'artifactsProxy.download') {
    const path = ctx.route!.params.artifact_path ?? '';
    return MODEL_ARTIFACT.test(path) ? 'usageModelArtifactsDownloaded' : undefined;
  }
  return CREATED[op];
}
