/**
 * The MLflow resources a call can name, the families grants are given in, and an identifier as
 * the pipeline read it from a request.
 */

/** The MLflow resource kinds an identifier can name. Children resolve to parents in the policy stage. */
export type ResourceKind =
  | 'experiment'
  | 'run'
  | 'logged_model'
  | 'trace'
  | 'assessment'
  | 'dataset'
  | 'scorer'
  | 'issue'
  | 'registered_model'
  | 'model_version'
  | 'prompt'
  | 'webhook'
  | 'gateway_secret'
  | 'gateway_endpoint'
  | 'gateway_model_definition'
  | 'gateway_budget'
  | 'workspace'
  | 'job'
  | 'artifact'
  | 'mcp_server'
  | 'skill'
  | 'label_schema'
  | 'review_app'
  | 'review_queue'
  | 'prompt_optimization_job'
  | 'server';

/**
 * What a grant is about. Children share their parent's family: runs, traces, logged models,
 * artifacts... are governed by their experiment; model versions and prompts by their registered
 * model (a prompt is a registered model tagged `mlflow.prompt.is_prompt`).
 */
export type Family = 'experiment' | 'model' | 'gateway' | 'other';
export const FAMILIES: readonly Family[] = ['experiment', 'model', 'gateway', 'other'];

const FAMILY_OF_KIND: Record<ResourceKind, Family> = {
  experiment: 'experiment',
  run: 'experiment',
  logged_model: 'experiment',
  trace: 'experiment',
  assessment: 'experiment',
  dataset: 'experiment',
  scorer: 'experiment',
  issue: 'experiment',
  label_schema: 'experiment',
  review_app: 'experiment',
  review_queue: 'experiment',
  prompt_optimization_job: 'experiment',
  artifact: 'experiment',
  registered_model: 'model',
  model_version: 'model',
  prompt: 'model',
  gateway_secret: 'gateway',
  gateway_endpoint: 'gateway',
  gateway_model_definition: 'gateway',
  gateway_budget: 'gateway',
  webhook: 'other',
  workspace: 'other',
  job: 'other',
  mcp_server: 'other',
  skill: 'other',
  server: 'other',
};

export function familyOfKind(kind: ResourceKind): Family {
  return FAMILY_OF_KIND[kind];
}

/** A resource identifier read from the request, exactly where MLflow's handler reads it. */
export interface ResourceId {
  readonly kind: ResourceKind;
  /** Index of the route row's resource ref it was read for. */
  readonly ref: number;
  /** The identifier; for composite keys, the first part (a model version's registered model name). */
  readonly id: string;
  /** Every part of a composite key, by field (`{name, version}`); just the id otherwise. */
  readonly key: Readonly<Record<string, string>>;
  /** Where it was read: `params:run_id`, `path:model_id`, `header:x-mlflow-experiment-id`, ... */
  readonly from: string;
}

/** Resources a check is about, resolved to what bindings name. */
export interface Anchors {
  readonly experimentIds?: readonly string[];
  readonly experimentNames?: readonly string[];
  readonly modelNames?: readonly string[];
  /**
   * Tag mode: the tenant tag of each root (experiment or registered model) the check touches,
   * '' for a root without one. Every one must be the request's tenant, or the call is refused as
   * if the resource did not exist (platform administrators excepted).
   */
  readonly tenants?: readonly string[];
}

/**
 * The kinds whose identifiers the gateway traces to the root bindings name (src/policy/resolve.ts
 * looks each one up): an experiment (runs, logged models, traces, ... by id) or a registered
 * model (versions and prompts by name). Other kinds of those families (datasets, issues, review
 * queues, ...) cannot be traced, so a resource-scoped binding never covers them.
 */
export const EXPERIMENT_ROOTED = ['experiment', 'artifact', 'run', 'logged_model', 'trace', 'assessment', 'scorer'] as const satisfies readonly ResourceKind[];
export const MODEL_ROOTED = ['registered_model', 'model_version', 'prompt'] as const satisfies readonly ResourceKind[];
export type ExperimentRooted = (typeof EXPERIMENT_ROOTED)[number];
export type ModelRooted = (typeof MODEL_ROOTED)[number];

const ROOTED: ReadonlySet<ResourceKind> = new Set<ResourceKind>([...EXPERIMENT_ROOTED, ...MODEL_ROOTED]);
export const isRooted = (kind: ResourceKind): kind is ExperimentRooted | ModelRooted => ROOTED.has(kind);
export const isModelRooted = (kind: ResourceKind): kind is ModelRooted => (MODEL_ROOTED as readonly ResourceKind[]).includes(kind);
