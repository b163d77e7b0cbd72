/**
 * A tenant's MLflow resources for the stub-upstream suites that name them in every place a route
 * reads an identifier (the tag-mode route sweep, the JSON body fuzz): their ids, the value one
 * identifier field of the route table takes for them, and one MLflow answer that holds every
 * message the gateway's lookups and response filters read.
 */
import type { IdSource } from '../../src/routes/mlflow/types.ts';
import type { ResourceKind } from '../../src/model/resource.ts';

export interface ResourceIds {
  readonly experiment: string;
  readonly experimentName: string;
  readonly run: string;
  readonly loggedModel: string;
  readonly trace: string;
  readonly model: string;
}

/** The value of one identifier field naming `ids`' resource: where a handler reads a name, a name; else the id. */
export function idFieldValue(kind: ResourceKind, src: IdSource, index: number, ids: ResourceIds): string {
  const f = src.field;
  // A model version source is a URI naming the resource (models:/<name>/<v>, mlflow-artifacts:/<experiment>/...).
  if (src.reference === 'model-version-source') return kind === 'artifact' ? `mlflow-artifacts:/${ids.experiment}/${ids.run}/artifacts/model` : `models:/${ids.model}/1`;
  switch (kind) {
    case 'experiment':
      return f.includes('name') ? ids.experimentName : ids.experiment;
    case 'run':
      return ids.run;
    case 'logged_model':
      return ids.loggedModel;
    case 'trace':
      return ids.trace;
    case 'assessment':
      return index === 0 ? ids.trace : 'a-1';
    case 'registered_model':
    case 'prompt':
      return ids.model;
    case 'model_version':
      return index === 0 ? ids.model : '1';
    case 'artifact':
      // The proxied artifact path, `<experiment_id>/<run_id>/artifacts/...`, in the URL or the `path` parameter.
      return `${ids.experiment}/${ids.run}/artifacts/f.bin`;
    case 'scorer':
      return index === 0 ? ids.experiment : 'scorer-a';
    case 'review_queue':
      return f === 'experiment_id' ? ids.experiment : `${f}-1`;
    default:
      return `${f}-1`;
  }
}

/** One answer that is every MLflow message the gateway may read: each lookup finds its fields, every list holds the item. */
export function everyMessage(ids: ResourceIds, tags: readonly { key: string; value: string }[]): string {
  const experiment = { experiment_id: ids.experiment, name: ids.experimentName, lifecycle_stage: 'active', artifact_location: `mlflow-artifacts:/${ids.experiment}`, tags };
  const traceInfo = {
    trace_id: ids.trace,
    request_id: ids.trace,
    experiment_id: ids.experiment,
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ids.experiment } },
    tags: {},
  };
  const registeredModel = { name: ids.model, tags };
  const modelVersion = { name: ids.model, version: '1', run_id: ids.run };
  return JSON.stringify({
    experiment,
    run: { info: { run_id: ids.run, run_uuid: ids.run, experiment_id: ids.experiment, lifecycle_stage: 'active', artifact_uri: `mlflow-artifacts:/${ids.experiment}/${ids.run}/artifacts` }, data: {} },
    model: { info: { model_id: ids.loggedModel, experiment_id: ids.experiment, tags: [] } },
    trace: { trace_info: traceInfo },
    trace_info: traceInfo,
    registered_model: registeredModel,
    model_version: modelVersion,
    experiments: [experiment],
    registered_models: [registeredModel],
    model_versions: [modelVersion],
    runs: [{ info: { run_id: ids.run, experiment_id: ids.experiment } }],
    models: [{ info: { model_id: ids.loggedModel, experiment_id: ids.experiment } }],
    traces: [traceInfo],
  });
}
