/** The values of the table's `usage` column that depend on the request (types.ts `Usage`). */
import type { Usage } from './types.ts';

/**
 * MLflow 3 stores a logged model's files under `<experiment>/models/<model id>/artifacts/`
 * (`mlflow/store/tracking/sqlalchemy_store.py` create_logged_model); the client downloads them
 * through the artifact proxy.
 */
const MODEL_ARTIFACT = /(^|\/)models\/m-[0-9a-f]+\/artifacts(\/|$)/;

/** A proxied artifact download counts as a model download when it reads a logged model's files. */
export const MODEL_ARTIFACT_DOWNLOAD: Usage = (params) => (MODEL_ARTIFACT.test(params.artifact_path ?? '') ? 'usageModelArtifactsDownloaded' : undefined);
