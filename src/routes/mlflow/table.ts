/**
 * The MLflow route table: every (method, path) the MLflow 3.18.0 tracking server registers,
 * with the action a caller needs, how the route relates to tenants, how its body is handled
 * and exactly where MLflow's handler reads each resource identifier.
 *
 * The rows were classified by reading the installed server (`mlflow/server/handlers.py`,
 * `server/__init__.py`, `fastapi_app.py`, the FastAPI routers and `server/auth/__init__.py`);
 * `test/routes/table.test.ts` compares the table with the live server in both directions.
 *
 * Conventions the resource extractor relies on:
 * - Several `ids` in one ref form ONE composite key (a model version is `name` + `version`,
 *   a scorer `experiment_id` + `name`, an assessment `trace_id` + `assessment_id`).
 * - `alias` is the handler's fallback when the first field is empty (`run_id or run_uuid`),
 *   or the other half of an "exactly one of" pair (`endpoint_id` or `name`).
 * - `many` marks a repeated field: every value is a separate resource. A dotted `field`
 *   that crosses a repeated message (`models.model_id`) is `many` too.
 * - In a `scoped` row whose action is read/use/edit/manage, the first ref is the subject of the
 *   call and must be present (unless the note says otherwise); every other ref (cross
 *   references, search scopes, the refs of `admin` rows) applies when the request carries it.
 * - `params` follows `handlers._get_request_message`: the query string for GET, the JSON body
 *   otherwise. Protobuf JSON parsing also accepts each field's lowerCamelCase `json_name`
 *   (`runId`), so the extractor must read both spellings; MLflow itself refuses a body that
 *   carries both (`_reject_conflicting_field_aliases`).
 * - For kinds keyed by an opaque id (experiment, gateway endpoint), a field holding a NAME
 *   (`experiment_name`, the gateway `model` body field, the `endpoint_name` path parameter,
 *   `name` as the alias of `endpoint_id`) is resolved by name; the row's note says so.
 * - Kind `artifact` carries a proxied artifact path, `[workspaces/<ws>/]<experiment_id>/...`
 *   (run, `models/<model_id>` and `traces/<trace_id>` tiers below it) or `skills/...`
 *   (Skill Registry uploads); see `auth._parse_artifact_auth_target`.
 * - Registered-model routes serve prompts too: a prompt is a registered model tagged
 *   `mlflow.prompt.is_prompt=true` (`handlers._is_prompt`).
 *
 * Matching: Flask ranks literal segments above parameters (`/traces/get` before
 * `/traces/{trace_id}`); FastAPI takes the first registered route, so the rows of each FastAPI
 * router are listed in its registration order. That decides, for example, that
 * `GET .../skills/@acme/versions` is the organization skill `acme/versions` (not the versions of
 * a skill `@acme`), and how the greedy `{name:path}` routes of the MCP server registry split.
 */
import type { IdSource, ReferenceField, ResourceRef, RouteSpec } from './types.ts';
import { artifactLocation } from './checks/artifact-location.ts';
import { EXPERIMENT_CREATE, EXPERIMENTS_SEARCH, MODEL_VERSIONS_SEARCH, REGISTERED_MODEL_CREATE, REGISTERED_MODELS_SEARCH, WORKSPACES_LIST } from './filters.ts';
import { MODEL_ARTIFACT_DOWNLOAD } from './usage.ts';
import type { ResourceKind } from '../../model/resource.ts';

type RefAction = ResourceRef['action'];
type IdOptions = Omit<IdSource, 'in' | 'field'>;

const AJAX = ['ajax-api'] as const;

const param = (field: string, more: IdOptions = {}): IdSource => ({ in: 'params', field, ...more });
const query = (field: string, more: IdOptions = {}): IdSource => ({ in: 'query', field, ...more });
const body = (field: string, more: IdOptions = {}): IdSource => ({ in: 'body', field, ...more });
const path = (field: string): IdSource => ({ in: 'path', field });
const header = (field: string): IdSource => ({ in: 'header', field });

function ref(kind: ResourceKind, ids: readonly IdSource[], action?: RefAction): ResourceRef {
  return action === undefined ? { kind, ids } : { kind, ids, action };
}

/** `run_id or run_uuid`, as `get_run_impl`, `_update_run`, `_log_metric`, `_log_param`, `_set_tag` read it. */
const RUN_ID_OR_UUID = param('run_id', { alias: 'run_uuid' });

const experiment = (src: IdSource = param('experiment_id'), action?: RefAction) => ref('experiment', [src], action);
const experiments = (field = 'experiment_ids', action?: RefAction) =>
  ref('experiment', [param(field, { many: true })], action);
const run = (src: IdSource = param('run_id'), action?: RefAction) => ref('run', [src], action);
const trace = (src: IdSource, action?: RefAction) => ref('trace', [src], action);
const traces = (field: string, action?: RefAction) => ref('trace', [param(field, { many: true })], action);
const loggedModel = (src: IdSource = path('model_id'), action?: RefAction) => ref('logged_model', [src], action);
const loggedModels = (field: string, action?: RefAction) =>
  ref('logged_model', [param(field, { many: true })], action);
const registeredModel = (src: IdSource = param('name'), action?: RefAction) => ref('registered_model', [src], action);
const modelVersion = (name: IdSource = param('name'), version: IdSource = param('version')) =>
  ref('model_version', [name, version]);
const dataset = () => ref('dataset', [path('dataset_id')]);
const scorer = () => ref('scorer', [param('experiment_id'), param('name')]);
const assessment = () => ref('assessment', [path('trace_id'), path('assessment_id')]);
const issue = () => ref('issue', [path('issue_id')]);
const labelSchema = () => ref('label_schema', [param('schema_id')]);
const reviewQueue = () => ref('review_queue', [param('queue_id')]);
const optimizationJob = () => ref('prompt_optimization_job', [path('job_id')]);
const webhook = () => ref('webhook', [path('webhook_id')]);
const workspace = () => ref('workspace', [path('workspace_name')]);
const gatewaySecret = () => ref('gateway_secret', [param('secret_id')]);
const gatewayEndpoint = (src: IdSource = param('endpoint_id')) => ref('gateway_endpoint', [src]);
const gatewayModelDefinition = () => ref('gateway_model_definition', [param('model_definition_id')]);
const gatewayBudget = () => ref('gateway_budget', [param('budget_policy_id')]);
const artifactPath = () => ref('artifact', [{ in: 'artifact-path', field: 'artifact_path' }]);
/** A model version `source`: it names a registered model (models:/<name>/...) or a proxied experiment (mlflow-artifacts:/...). */
const SOURCE = param('source', { reference: 'model-version-source' });
const relativePath = (at: IdSource): ReferenceField => ({ at, read: 'artifact-path' });
const mcpServer = () => ref('mcp_server', [path('name')]);
const skill = () => ref('skill', [path('name')]);
const orgSkill = () => ref('skill', [path('organization'), path('name')]);

const FASTAPI_FIRST =
  'Registered by both FastAPI and Flask; the FastAPI router answers (it runs before the Flask mount), the Flask handler only under gunicorn/waitress.';
const STUB = 'No handler in OSS MLflow: the request class is missing from HANDLERS, so `_not_implemented` answers an empty 404.';
const GATEWAY_BODY_MODEL =
  'Endpoint NAME from the JSON body field `model` (gateway_api._extract_endpoint_name_from_model); a zstd Content-Encoding body hides it and is refused by the json body mode.';
const GATEWAY_PATH_NAME = 'Endpoint NAME from the path (`endpoint_name`), resolved by name.';
const MCP_ORDER =
  'FastAPI registration order decides among the greedy {name:path} routes (keep these rows in order); the Python client percent-encodes the namespace/slug name (ns%2Fslug, rest_mixin._encode_path_param) and Starlette matches the decoded path.';

const ROWS = [
  // ── UI shell, probes, server info ────────────────────────────────────────────────────
  { op: 'ui.home', method: 'GET', path: '/', app: 'flask', action: 'authenticated', tenancy: 'global', body: 'none',
    note: 'SPA shell (server.serve); MLflow auth lets any signed-in user load it.' },
  { op: 'ui.staticFiles', method: 'GET', path: '/static-files/{path:path}', app: 'flask', action: 'public', tenancy: 'global', body: 'none',
    note: 'Hashed UI bundle (serve_static_file); unprotected in MLflow auth too.' },
  { op: 'ui.build', method: 'GET', path: '/build/{filename:path}', app: 'flask', action: 'public', tenancy: 'global', body: 'none',
    note: "Flask's implicit static route for static_folder js/build: the same UI files, index.html included." },
  { op: 'ui.telemetryConfig', method: 'GET', path: '/mlflow/ui-telemetry', version: 3, prefixes: AJAX, app: 'flask', action: 'authenticated', tenancy: 'global', body: 'none' },
  { op: 'ui.telemetryRecord', method: 'POST', path: '/mlflow/ui-telemetry', version: 3, prefixes: AJAX, app: 'flask', action: 'authenticated', tenancy: 'global', body: 'json',
    note: 'post_ui_telemetry_handler: UI usage records for MLflow telemetry; no tenant data.' },
  { op: 'server.health', method: 'GET', path: '/health', app: 'fastapi', action: 'public', tenancy: 'global', body: 'none', note: FASTAPI_FIRST },
  { op: 'server.version', method: 'GET', path: '/version', app: 'flask', action: 'authenticated', tenancy: 'global', body: 'none' },
  { op: 'server.info', method: 'GET', path: '/mlflow/server-info', version: 3, app: 'fastapi', action: 'authenticated', tenancy: 'global', body: 'none', serverInfo: true,
    note: `${FASTAPI_FIRST} Returns store type, workspaces flag and artifact limits; MLflow auth lists it as public (_PUBLIC_ROUTE_SUFFIXES).` },
  { op: 'graphql.query', method: 'POST', path: '/graphql', app: 'flask', action: 'read', tenancy: 'search', body: 'json', graphql: true,
    note: 'GraphQL (_graphql), JSON body {query, variables, operationName}: inspected per field (mlflowGetExperiment, mlflowGetRun, mlflowSearchRuns, mlflowListArtifacts, mlflowSearchModelVersions, MlflowRun.modelVersions, ...); the "mutations" are searches.' },
  { op: 'graphql.queryGet', method: 'GET', path: '/graphql', app: 'flask', action: 'deny', tenancy: 'global', body: 'none',
    note: '_graphql reads the query from a JSON body even on GET (_get_request_json); a body on GET is a parsing differential, and the UI (Apollo HttpLink) posts.' },

  // ── Experiments ──────────────────────────────────────────────────────────────────────
  { op: 'experiments.create', method: 'POST', path: '/mlflow/experiments/create', version: 2, app: 'flask', action: 'create', tenancy: 'scoped', body: 'json', createsRoot: EXPERIMENT_CREATE, checks: [artifactLocation], usage: 'usageExperimentsCreated',
    note: '_create_experiment: artifact_location is client-chosen (only its scheme is checked) and could point into another tenant\'s storage; MLflow refuses it only with workspaces on.' },
  { op: 'experiments.get', method: 'GET', path: '/mlflow/experiments/get', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [experiment()] },
  { op: 'experiments.getByName', method: 'GET', path: '/mlflow/experiments/get-by-name', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [experiment(param('experiment_name'))], note: 'Experiment resolved by NAME (experiment_name).' },
  { op: 'experiments.searchGet', method: 'GET', path: '/mlflow/experiments/search', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'none', search: EXPERIMENTS_SEARCH,
    repeated: ['order_by'] },
  { op: 'experiments.search', method: 'POST', path: '/mlflow/experiments/search', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'json', search: EXPERIMENTS_SEARCH },
  { op: 'experiments.delete', method: 'POST', path: '/mlflow/experiments/delete', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [experiment()] },
  { op: 'experiments.restore', method: 'POST', path: '/mlflow/experiments/restore', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [experiment()] },
  { op: 'experiments.update', method: 'POST', path: '/mlflow/experiments/update', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()], note: '_update_experiment renames (new_name); name-pattern bindings should see the new name too.' },
  { op: 'experiments.setTag', method: 'POST', path: '/mlflow/experiments/set-experiment-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()] },
  { op: 'experiments.deleteTag', method: 'POST', path: '/mlflow/experiments/delete-experiment-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()] },
  { op: 'experiments.searchDatasets', method: 'POST', path: '/mlflow/experiments/search-datasets', version: 2, prefixes: AJAX, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments()], note: 'serve_search_datasets → _search_datasets_handler (dataset summaries of at most 20 experiments).' },
  { op: 'experiments.searchDatasetsStub', method: 'POST', path: 'mlflow/experiments/search-datasets', version: 2, app: 'flask', action: 'deny', tenancy: 'global', body: 'json',
    note: `The proto path lacks its leading slash, so it registers as /api/2.0mlflow/...; ${STUB}` },

  // ── Runs ─────────────────────────────────────────────────────────────────────────────
  { op: 'runs.create', method: 'POST', path: '/mlflow/runs/create', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json', usageSeries: 'runsCreated', usage: 'usageRunsCreated',
    resources: [experiment()], note: 'A run is a child of its experiment (_create_run); user_id is client-supplied attribution.' },
  { op: 'runs.update', method: 'POST', path: '/mlflow/runs/update', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(RUN_ID_OR_UUID)] },
  { op: 'runs.delete', method: 'POST', path: '/mlflow/runs/delete', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [run()] },
  { op: 'runs.restore', method: 'POST', path: '/mlflow/runs/restore', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [run()] },
  { op: 'runs.logMetric', method: 'POST', path: '/mlflow/runs/log-metric', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(RUN_ID_OR_UUID), loggedModel(param('model_id'), 'edit')], note: 'model_id also writes the metric onto that logged model (auth validate_can_log_metric).' },
  { op: 'runs.logParam', method: 'POST', path: '/mlflow/runs/log-parameter', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(RUN_ID_OR_UUID)] },
  { op: 'runs.setTag', method: 'POST', path: '/mlflow/runs/set-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(RUN_ID_OR_UUID)] },
  { op: 'runs.deleteTag', method: 'POST', path: '/mlflow/runs/delete-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run()] },
  { op: 'runs.get', method: 'GET', path: '/mlflow/runs/get', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [run(RUN_ID_OR_UUID)] },
  { op: 'runs.search', method: 'POST', path: '/mlflow/runs/search', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments()], note: 'MLflow auth narrows experiment_ids to readable ones before the query (search_runs_impl → auth.filter_experiment_ids).' },
  { op: 'runs.logBatch', method: 'POST', path: '/mlflow/runs/log-batch', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(), loggedModels('metrics.model_id', 'edit')] },
  { op: 'runs.logModel', method: 'POST', path: '/mlflow/runs/log-model', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run()] },
  { op: 'runs.logInputs', method: 'POST', path: '/mlflow/runs/log-inputs', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(), loggedModels('models.model_id', 'edit')], note: '_log_inputs reads run_id only (no run_uuid fallback).' },
  { op: 'runs.logOutputs', method: 'POST', path: '/mlflow/runs/outputs', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(), loggedModels('models.model_id', 'edit')] },
  { op: 'runs.createPromptlabRun', method: 'POST', path: '/mlflow/runs/create-promptlab-run', version: 2, prefixes: AJAX, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment(body('experiment_id'))], note: 'create_promptlab_run_handler reads request.json (not a proto message).' },

  // ── Metrics ──────────────────────────────────────────────────────────────────────────
  { op: 'metrics.getHistory', method: 'GET', path: '/mlflow/metrics/get-history', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [run(RUN_ID_OR_UUID)] },
  { op: 'metrics.getHistoryBulk', method: 'GET', path: '/mlflow/metrics/get-history-bulk', version: 2, prefixes: AJAX, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [run(query('run_id', { many: true }))], repeated: ['run_id'], note: 'get_metric_history_bulk_handler: request.args run_id (list, at most 100).' },
  { op: 'metrics.getHistoryBulkInterval', method: 'GET', path: '/mlflow/metrics/get-history-bulk-interval', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [run(param('run_ids', { many: true }))], repeated: ['run_ids'],
    note: 'The /ajax-api path is registered twice (get_endpoints, then serve_get_metric_history_bulk_interval); both run get_metric_history_bulk_interval_handler.' },

  // ── Run artifacts (tracking service) ─────────────────────────────────────────────────
  { op: 'artifacts.list', method: 'GET', path: '/mlflow/artifacts/list', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [run(RUN_ID_OR_UUID)], references: [relativePath(param('path'))] },
  { op: 'artifacts.presignedUploadUrl', method: 'POST', path: '/mlflow/artifacts/presigned-upload-url', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(param('run_id'), 'edit'), loggedModel(param('model_id'), 'edit')], references: [relativePath(param('path'))],
    note: '_create_presigned_upload_url: exactly one of run_id or model_id is the subject (either ref); the URL grants direct write access to that artifact root.' },
  { op: 'artifacts.presignedDownloadUrl', method: 'POST', path: '/mlflow/artifacts/presigned-download-url', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'json',
    resources: [run()], references: [relativePath(param('path'))] },
  { op: 'artifacts.get', method: 'GET', path: '/get-artifact', app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [run(query('run_id', { alias: 'run_uuid' }))], references: [relativePath(query('path'))], note: 'get_artifact_handler: query run_id or run_uuid, plus path.' },
  { op: 'artifacts.upload', method: 'POST', path: '/mlflow/upload-artifact', version: 2, prefixes: AJAX, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'stream',
    resources: [run(query('run_id', { alias: 'run_uuid' }))], references: [relativePath(query('path'))],
    note: 'upload_artifact_handler: query run_id or run_uuid and path; the raw body (request.data, at most 10 MB) is the file.' },

  // ── Proxied artifacts (MlflowArtifactsService, --serve-artifacts) ────────────────────
  { op: 'artifactsProxy.list', method: 'GET', path: '/mlflow-artifacts/artifacts', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [ref('artifact', [param('path', { reference: 'proxied-artifact-path' })])],
    note: 'The artifact path is the query field path (_list_artifacts_mlflow_artifacts); without it the artifact root (every experiment) is listed.' },
  { op: 'artifactsProxy.download', method: 'GET', path: '/mlflow-artifacts/artifacts/{artifact_path:path}', version: 2, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none', usage: MODEL_ARTIFACT_DOWNLOAD,
    resources: [artifactPath()], note: `${FASTAPI_FIRST} (artifact_router.download_artifact)` },
  { op: 'artifactsProxy.upload', method: 'PUT', path: '/mlflow-artifacts/artifacts/{artifact_path:path}', version: 2, app: 'fastapi', action: 'edit', tenancy: 'scoped', body: 'stream',
    resources: [artifactPath()], note: `${FASTAPI_FIRST} (artifact_router.upload_artifact streams request.stream())` },
  { op: 'artifactsProxy.delete', method: 'DELETE', path: '/mlflow-artifacts/artifacts/{artifact_path:path}', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'none',
    resources: [artifactPath()], note: 'Recursive: removes the whole subtree (auth judges every tier it reaches).' },
  { op: 'artifactsProxy.mpuCreate', method: 'POST', path: '/mlflow-artifacts/mpu/create/{artifact_path:path}', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [artifactPath()] },
  { op: 'artifactsProxy.mpuComplete', method: 'POST', path: '/mlflow-artifacts/mpu/complete/{artifact_path:path}', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [artifactPath()] },
  { op: 'artifactsProxy.mpuAbort', method: 'POST', path: '/mlflow-artifacts/mpu/abort/{artifact_path:path}', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [artifactPath()] },
  { op: 'artifactsProxy.presignedDownload', method: 'GET', path: '/mlflow-artifacts/presigned/{artifact_path:path}', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [artifactPath()] },

  // ── Logged models ────────────────────────────────────────────────────────────────────
  { op: 'loggedModels.create', method: 'POST', path: '/mlflow/logged-models', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment(), run(param('source_run_id'), 'read')] },
  { op: 'loggedModels.get', method: 'GET', path: '/mlflow/logged-models/{model_id}', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none', usageSeries: 'modelReferences',
    resources: [loggedModel()] },
  { op: 'loggedModels.finalize', method: 'PATCH', path: '/mlflow/logged-models/{model_id}', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [loggedModel()], note: '_finalize_logged_model acts on the path model_id; the body model_id is required but ignored.' },
  { op: 'loggedModels.delete', method: 'DELETE', path: '/mlflow/logged-models/{model_id}', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [loggedModel()], note: 'The Python client (RestStore.delete_logged_model) sends {model_id} as a JSON body; _delete_logged_model ignores it and uses the path.' },
  { op: 'loggedModels.search', method: 'POST', path: '/mlflow/logged-models/search', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments()] },
  { op: 'loggedModels.setTags', method: 'PATCH', path: '/mlflow/logged-models/{model_id}/tags', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [loggedModel()] },
  { op: 'loggedModels.deleteTag', method: 'DELETE', path: '/mlflow/logged-models/{model_id}/tags/{tag_key}', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'none',
    resources: [loggedModel()] },
  { op: 'loggedModels.listArtifacts', method: 'GET', path: '/mlflow/logged-models/{model_id}/artifacts/directories', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [loggedModel()], references: [relativePath(param('artifact_directory_path'))] },
  { op: 'loggedModels.logParams', method: 'POST', path: '/mlflow/logged-models/{model_id}/params', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [loggedModel()], note: '_log_logged_model_params acts on the path model_id; the body model_id is required but ignored.' },
  { op: 'loggedModels.getArtifactFile', method: 'GET', path: '/mlflow/logged-models/{model_id}/artifacts/files', version: 2, prefixes: AJAX, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none', usageSeries: 'modelReferences', usage: 'usageModelArtifactsDownloaded',
    resources: [loggedModel()], references: [relativePath(query('artifact_file_path'))], note: 'get_logged_model_artifact_handler: query artifact_file_path; presigned=true returns a signed URL instead.' },

  // ── Traces (v2 legacy and v3) and OTLP ingest ────────────────────────────────────────
  { op: 'traces.startV2', method: 'POST', path: '/mlflow/traces', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()] },
  { op: 'traces.start', method: 'POST', path: '/mlflow/traces', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment(param('trace.trace_info.trace_location.mlflow_experiment.experiment_id'))], creates: trace(param('trace.trace_info.trace_id')),
    note: '_start_trace_v3: the trace id is client-chosen; trace_info.assessments are stored with it.' },
  { op: 'traces.endV2', method: 'PATCH', path: '/mlflow/traces/{request_id}', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(path('request_id'))] },
  { op: 'traces.getInfoV2', method: 'GET', path: '/mlflow/traces/{request_id}/info', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [trace(path('request_id'))] },
  { op: 'traces.setTagV2', method: 'PATCH', path: '/mlflow/traces/{request_id}/tags', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(path('request_id'))] },
  { op: 'traces.deleteTagV2', method: 'DELETE', path: '/mlflow/traces/{request_id}/tags', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(path('request_id'))], note: '_delete_trace_tag reads key from the JSON body.' },
  { op: 'traces.getInfo', method: 'GET', path: '/mlflow/traces/{trace_id}', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [trace(path('trace_id'))] },
  { op: 'traces.setTag', method: 'PATCH', path: '/mlflow/traces/{trace_id}/tags', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(path('trace_id'))] },
  { op: 'traces.deleteTag', method: 'DELETE', path: '/mlflow/traces/{trace_id}/tags', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(path('trace_id'))], note: '_delete_trace_tag_v3 reads key from the JSON body.' },
  { op: 'traces.get', method: 'GET', path: '/mlflow/traces/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [trace(param('trace_id'))] },
  { op: 'traces.batchGet', method: 'GET', path: '/mlflow/traces/batchGet', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [traces('trace_ids'), experiments('experiment_ids')], repeated: ['trace_ids', 'experiment_ids'],
    note: 'experiment_ids only narrows the lookup (_batch_get_traces); the trace ids decide what is read.' },
  { op: 'traces.batchGetInfos', method: 'POST', path: '/mlflow/traces/batchGetInfos', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'json',
    resources: [traces('trace_ids'), experiments('experiment_ids')] },
  { op: 'traces.searchV2', method: 'GET', path: '/mlflow/traces', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [experiments()], repeated: ['experiment_ids', 'order_by'] },
  { op: 'traces.search', method: 'POST', path: '/mlflow/traces/search', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments('locations.mlflow_experiment.experiment_id')] },
  { op: 'traces.deleteV2', method: 'POST', path: '/mlflow/traces/delete-traces', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [experiment(), traces('request_ids', 'manage')], note: 'Deletes by age/count or by id within experiment_id; assessments cascade (auth validate_can_delete_traces).' },
  { op: 'traces.delete', method: 'POST', path: '/mlflow/traces/delete-traces', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [experiment(), traces('request_ids', 'manage')], note: 'DeleteTracesV3 is served by the same _delete_traces handler as v2.' },
  { op: 'traces.linkToRun', method: 'POST', path: '/mlflow/traces/link-to-run', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [run(), { ...traces('trace_ids', 'read'), unstoredNamesNothing: true }],
    note: '_link_traces_to_run reads run_id only; linked traces need read (auth validate_can_link_traces_to_run). The async client links a trace before it is stored, and MLflow accepts an unknown id: one stored nowhere is not checked.' },
  { op: 'traces.linkPrompts', method: 'POST', path: '/mlflow/traces/link-prompts', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(param('trace_id')), ref('prompt', [param('prompt_versions.name', { many: true })], 'read')] },
  { op: 'traces.calculateFilterCorrelation', method: 'POST', path: '/mlflow/traces/calculate-filter-correlation', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments()] },
  { op: 'traces.queryMetrics', method: 'POST', path: '/mlflow/traces/metrics', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments()] },
  { op: 'traces.getArtifactV2', method: 'GET', path: '/mlflow/get-trace-artifact', version: 2, prefixes: AJAX, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [trace(query('request_id'))], references: [{ at: query('path'), read: 'attachment-path' }], note: 'get_trace_artifact_handler: query request_id, optional attachment path.' },
  { op: 'traces.getArtifact', method: 'GET', path: '/mlflow/get-trace-artifact', version: 3, prefixes: AJAX, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [trace(query('request_id'))], references: [{ at: query('path'), read: 'attachment-path' }], note: 'Same handler as traces.getArtifactV2.' },
  { op: 'traces.searchUnified', method: 'GET', path: '/mlflow/unified-traces', version: 2, app: 'flask', action: 'deny', tenancy: 'global', body: 'none',
    repeated: ['experiment_ids', 'order_by'], note: STUB },
  { op: 'traces.getOnlineDetails', method: 'GET', path: '/mlflow/get-online-trace-details', version: 2, app: 'flask', action: 'deny', tenancy: 'global', body: 'none', note: STUB },
  { op: 'traces.exportOtlp', method: 'POST', path: '/v1/traces', app: 'fastapi', action: 'edit', tenancy: 'scoped', body: 'stream',
    resources: [experiment(header('x-mlflow-experiment-id')), run(header('x-mlflow-run-id'), 'edit')], requestHeaders: ['content-encoding'],
    note: 'otel_api.export_traces: OTLP protobuf or JSON, optionally compressed (Content-Encoding gzip or deflate, decompress_otlp_body); spans land in the experiment from the header, and x-mlflow-run-id links the completed traces to that run.' },

  // ── Assessments ──────────────────────────────────────────────────────────────────────
  { op: 'assessments.create', method: 'POST', path: '/mlflow/traces/{trace_id}/assessments', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [trace(path('trace_id'))], note: '_create_assessment overrides assessment.trace_id with the path trace_id.' },
  { op: 'assessments.get', method: 'GET', path: '/mlflow/traces/{trace_id}/assessments/{assessment_id}', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [assessment()] },
  { op: 'assessments.update', method: 'PATCH', path: '/mlflow/traces/{trace_id}/assessments/{assessment_id}', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [assessment()], note: '_update_assessment acts on the path ids; the ids inside the body assessment are ignored.' },
  { op: 'assessments.delete', method: 'DELETE', path: '/mlflow/traces/{trace_id}/assessments/{assessment_id}', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [assessment()],
    note: 'Edit, as MLflow (auth validate_can_delete_assessment falls back to experiment update). The Python client sends the ids as a JSON body too; _delete_assessment uses the path.' },

  // ── Evaluation datasets ──────────────────────────────────────────────────────────────
  { op: 'datasets.create', method: 'POST', path: '/mlflow/datasets/create', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiments('experiment_ids', 'edit')],
    note: 'A dataset is linked to the experiments it is created in; the handler accepts none, MLflow auth refuses that (validate_can_create_dataset).' },
  { op: 'datasets.get', method: 'GET', path: '/mlflow/datasets/{dataset_id}', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [dataset()] },
  { op: 'datasets.delete', method: 'DELETE', path: '/mlflow/datasets/{dataset_id}', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'none',
    resources: [dataset()] },
  { op: 'datasets.searchGet', method: 'GET', path: '/mlflow/datasets/search', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [experiments()], repeated: ['experiment_ids', 'order_by'] },
  { op: 'datasets.search', method: 'POST', path: '/mlflow/datasets/search', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiments()] },
  { op: 'datasets.setTags', method: 'PATCH', path: '/mlflow/datasets/{dataset_id}/tags', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [dataset()] },
  { op: 'datasets.deleteTag', method: 'DELETE', path: '/mlflow/datasets/{dataset_id}/tags/{key}', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'none',
    resources: [dataset()] },
  { op: 'datasets.upsertRecords', method: 'POST', path: '/mlflow/datasets/{dataset_id}/records', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [dataset()] },
  { op: 'datasets.getRecords', method: 'GET', path: '/mlflow/datasets/{dataset_id}/records', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [dataset()] },
  { op: 'datasets.deleteRecords', method: 'DELETE', path: '/mlflow/datasets/{dataset_id}/records', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [dataset()], note: '_delete_dataset_records_handler reads dataset_record_ids from the JSON body.' },
  { op: 'datasets.getExperimentIds', method: 'GET', path: '/mlflow/datasets/{dataset_id}/experiment-ids', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [dataset()] },
  { op: 'datasets.addExperiments', method: 'POST', path: '/mlflow/datasets/{dataset_id}/add-experiments', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [dataset(), experiments('experiment_ids', 'edit')] },
  { op: 'datasets.removeExperiments', method: 'POST', path: '/mlflow/datasets/{dataset_id}/remove-experiments', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [dataset()] },

  // ── Scorers and online scoring ───────────────────────────────────────────────────────
  { op: 'scorers.register', method: 'POST', path: '/mlflow/scorers/register', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()], note: 'Registers a new scorer version in the experiment; serialized_scorer is code the server later runs.' },
  { op: 'scorers.list', method: 'GET', path: '/mlflow/scorers/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [experiment(), experiments()], repeated: ['experiment_ids'],
    note: '_list_scorers: experiment_id, or experiment_ids, or neither (every active experiment of the workspace).' },
  { op: 'scorers.listVersions', method: 'GET', path: '/mlflow/scorers/versions', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [scorer()] },
  { op: 'scorers.get', method: 'GET', path: '/mlflow/scorers/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [scorer()] },
  { op: 'scorers.delete', method: 'DELETE', path: '/mlflow/scorers/delete', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [scorer()], note: 'Manage, as MLflow (auth validate_can_delete_scorer).' },
  { op: 'scorers.getOnlineConfigs', method: 'GET', path: '/mlflow/scorers/online-configs', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'none',
    repeated: ['scorer_ids'], note: '_get_online_scoring_configs (query scorer_ids); online scoring configuration is admin-only here.' },
  { op: 'scorers.upsertOnlineConfig', method: 'PUT', path: '/mlflow/scorers/online-config', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [experiment(body('experiment_id')), ref('scorer', [body('experiment_id'), body('name')])],
    note: '_upsert_online_scoring_config turns automatic evaluation of a stored scorer on or off (runs server-side scorer code).' },
  { op: 'scorers.invoke', method: 'POST', path: '/mlflow/scorer/invoke', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'json',
    note: '_invoke_scorer_handler submits server-side jobs that execute a caller-supplied serialized scorer over traces.' },

  // ── Issues ───────────────────────────────────────────────────────────────────────────
  { op: 'issues.create', method: 'POST', path: '/mlflow/issues', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment(), run(param('source_run_id'), 'read')] },
  { op: 'issues.get', method: 'GET', path: '/mlflow/issues/{issue_id}', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [issue()] },
  { op: 'issues.update', method: 'PATCH', path: '/mlflow/issues/{issue_id}', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [issue()], note: '_update_issue acts on the path issue_id; the body issue_id is required but ignored.' },
  { op: 'issues.search', method: 'POST', path: '/mlflow/issues/search', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiment()], note: 'experiment_id is optional in the handler; MLflow auth requires it (validate_can_search_issues).' },
  { op: 'issues.invokeDetection', method: 'POST', path: '/mlflow/issues/invoke', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'json',
    note: '_invoke_issue_detection_handler submits LLM jobs using a gateway secret or endpoint named in the body.' },
  { op: 'issues.syncSchedule', method: 'POST', path: '/mlflow/issues/schedule/state', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'json',
    note: '_sync_issue_detection_schedule_state_handler writes issue-detection scheduler state (and lacks catch_mlflow_exception).' },

  // ── Label schemas (review questions) ─────────────────────────────────────────────────
  { op: 'labelSchemas.create', method: 'POST', path: '/mlflow/label-schemas/create', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [experiment()], note: 'Experiment-wide review configuration: manage, as MLflow (auth validate_can_create_label_schema).' },
  { op: 'labelSchemas.get', method: 'GET', path: '/mlflow/label-schemas/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [labelSchema()] },
  { op: 'labelSchemas.getByName', method: 'GET', path: '/mlflow/label-schemas/get-by-name', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [experiment()] },
  { op: 'labelSchemas.list', method: 'GET', path: '/mlflow/label-schemas/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [experiment()] },
  { op: 'labelSchemas.update', method: 'PATCH', path: '/mlflow/label-schemas/update', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [labelSchema()], note: 'Manage, as MLflow (auth validate_can_manage_label_schema).' },
  { op: 'labelSchemas.delete', method: 'DELETE', path: '/mlflow/label-schemas/delete', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [labelSchema()] },

  // ── Review queues ────────────────────────────────────────────────────────────────────
  { op: 'reviewQueues.create', method: 'POST', path: '/mlflow/review-queues/create', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()], note: 'The owner (created_by) is stamped from the authenticated user only when an MLflow auth plugin is active.' },
  { op: 'reviewQueues.get', method: 'GET', path: '/mlflow/review-queues/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [reviewQueue()] },
  { op: 'reviewQueues.getByName', method: 'GET', path: '/mlflow/review-queues/get-by-name', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [ref('review_queue', [param('experiment_id'), param('name')])], note: 'Queue resolved by NAME within experiment_id.' },
  { op: 'reviewQueues.getOrCreateUser', method: 'POST', path: '/mlflow/review-queues/get-or-create-user', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [experiment()], note: '_get_or_create_user_queue creates the personal queue of the body `user`, any user.' },
  { op: 'reviewQueues.list', method: 'GET', path: '/mlflow/review-queues/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [experiment()] },
  { op: 'reviewQueues.update', method: 'POST', path: '/mlflow/review-queues/update', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [reviewQueue()], note: 'new_owner reassigns the queue; MLflow requires manage for that (validate_can_update_review_queue).' },
  { op: 'reviewQueues.delete', method: 'POST', path: '/mlflow/review-queues/delete', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [reviewQueue()] },
  { op: 'reviewQueues.addItems', method: 'POST', path: '/mlflow/review-queues/items/add', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [reviewQueue()], note: '_add_items_to_review_queue checks that every item (trace id) is in the queue\'s experiment.' },
  { op: 'reviewQueues.listItems', method: 'GET', path: '/mlflow/review-queues/items/list', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [reviewQueue()] },
  { op: 'reviewQueues.removeItems', method: 'POST', path: '/mlflow/review-queues/items/remove', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [reviewQueue()], note: 'Un-assigning work: manage, as MLflow (owners of custom queues excepted there).' },
  { op: 'reviewQueues.setItemStatus', method: 'POST', path: '/mlflow/review-queues/items/set-status', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [reviewQueue()], note: 'MLflow also requires membership of the queue (validate_can_review_queue_item).' },

  // ── Prompt optimization jobs ─────────────────────────────────────────────────────────
  { op: 'promptOptimization.createJob', method: 'POST', path: '/mlflow/prompt-optimization/jobs', version: 3, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'json',
    note: '_create_prompt_optimization_job hands work to a job worker with no caller identity; the prompt, scorers and gateway endpoint it uses are named in free-form fields (source_prompt_uri, config.optimizer_config_json).' },
  { op: 'promptOptimization.getJob', method: 'GET', path: '/mlflow/prompt-optimization/jobs/{job_id}', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [optimizationJob()], note: 'Accepts ANY job id (generic job store); the experiment comes from the job params.' },
  { op: 'promptOptimization.searchJobsGet', method: 'GET', path: '/mlflow/prompt-optimization/jobs/search', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [experiment()] },
  { op: 'promptOptimization.searchJobs', method: 'POST', path: '/mlflow/prompt-optimization/jobs/search', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'json',
    resources: [experiment()] },
  { op: 'promptOptimization.cancelJob', method: 'POST', path: '/mlflow/prompt-optimization/jobs/{job_id}/cancel', version: 3, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'none',
    resources: [optimizationJob()], note: '_cancel_prompt_optimization_job reads no body; it cancels any job id and kills the run named in its params.' },
  { op: 'promptOptimization.deleteJob', method: 'DELETE', path: '/mlflow/prompt-optimization/jobs/{job_id}', version: 3, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'none',
    resources: [optimizationJob()], note: 'Deletes any job id and the run named in its params.' },

  // ── Registered models (and prompts) ──────────────────────────────────────────────────
  { op: 'registeredModels.create', method: 'POST', path: '/mlflow/registered-models/create', version: 2, app: 'flask', action: 'create', tenancy: 'scoped', body: 'json', usageSeries: 'modelRegistrations', createsRoot: REGISTERED_MODEL_CREATE, usage: 'usageModelsRegistered',
    note: 'Also creates prompts (tag mlflow.prompt.is_prompt=true); the new name is the body name.' },
  { op: 'registeredModels.get', method: 'GET', path: '/mlflow/registered-models/get', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [registeredModel()] },
  { op: 'registeredModels.update', method: 'PATCH', path: '/mlflow/registered-models/update', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()] },
  { op: 'registeredModels.rename', method: 'POST', path: '/mlflow/registered-models/rename', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()], note: 'new_name becomes the identity; name-pattern bindings must allow creating it.' },
  { op: 'registeredModels.delete', method: 'DELETE', path: '/mlflow/registered-models/delete', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()], note: 'DELETE with a JSON body, parsed whatever the Content-Type.' },
  { op: 'registeredModels.search', method: 'GET', path: '/mlflow/registered-models/search', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'none', search: REGISTERED_MODELS_SEARCH,
    repeated: ['order_by'] },
  { op: 'registeredModels.getLatestVersionsGet', method: 'GET', path: '/mlflow/registered-models/get-latest-versions', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [registeredModel()], repeated: ['stages'] },
  { op: 'registeredModels.getLatestVersions', method: 'POST', path: '/mlflow/registered-models/get-latest-versions', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()] },
  { op: 'registeredModels.setTag', method: 'POST', path: '/mlflow/registered-models/set-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()], note: 'Setting mlflow.prompt.is_prompt moves the object between models and prompts.' },
  { op: 'registeredModels.deleteTag', method: 'DELETE', path: '/mlflow/registered-models/delete-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()] },
  { op: 'registeredModels.setAlias', method: 'POST', path: '/mlflow/registered-models/alias', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [registeredModel(), modelVersion()] },
  { op: 'registeredModels.deleteAlias', method: 'DELETE', path: '/mlflow/registered-models/alias', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [registeredModel()] },
  { op: 'registeredModels.getVersionByAlias', method: 'GET', path: '/mlflow/registered-models/alias', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [registeredModel()] },

  // ── Model versions ───────────────────────────────────────────────────────────────────
  { op: 'modelVersions.create', method: 'POST', path: '/mlflow/model-versions/create', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json', usageSeries: 'modelRegistrations', usage: 'usageModelVersionsCreated',
    resources: [registeredModel(), run(param('run_id'), 'read'), loggedModel(param('model_id'), 'read'), registeredModel(SOURCE, 'read'), ref('artifact', [SOURCE], 'read')],
    references: [{ at: param('source'), read: 'model-version-source' }, { at: param('run_link'), read: 'run-link' }],
    note: 'The source URI names a resource too: models:/<name>/<v> or models:/<name>@<alias> (that registered model, read: MLflow copies its version), models:/<model_id> (must match model_id, read), runs:/<run_id>/... (must match run_id), mlflow-artifacts:/<experiment_id>/... (that experiment, read, inside the run\'s or model\'s root); any other location must lie inside the artifact root of run_id or model_id (auth validate_can_create_model_version).' },
  { op: 'modelVersions.update', method: 'PATCH', path: '/mlflow/model-versions/update', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [modelVersion()] },
  { op: 'modelVersions.transitionStage', method: 'POST', path: '/mlflow/model-versions/transition-stage', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [modelVersion()], note: 'archive_existing_versions also changes the other versions of the model.' },
  { op: 'modelVersions.delete', method: 'DELETE', path: '/mlflow/model-versions/delete', version: 2, app: 'flask', action: 'manage', tenancy: 'scoped', body: 'json',
    resources: [modelVersion()] },
  { op: 'modelVersions.get', method: 'GET', path: '/mlflow/model-versions/get', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [modelVersion()] },
  { op: 'modelVersions.search', method: 'GET', path: '/mlflow/model-versions/search', version: 2, app: 'flask', action: 'read', tenancy: 'search', body: 'none', search: MODEL_VERSIONS_SEARCH,
    repeated: ['order_by'] },
  { op: 'modelVersions.getDownloadUri', method: 'GET', path: '/mlflow/model-versions/get-download-uri', version: 2, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none', usageSeries: 'modelReferences',
    resources: [modelVersion()] },
  { op: 'modelVersions.setTag', method: 'POST', path: '/mlflow/model-versions/set-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [modelVersion()] },
  { op: 'modelVersions.deleteTag', method: 'DELETE', path: '/mlflow/model-versions/delete-tag', version: 2, app: 'flask', action: 'edit', tenancy: 'scoped', body: 'json',
    resources: [modelVersion()] },
  { op: 'modelVersions.getArtifact', method: 'GET', path: '/model-versions/get-artifact', app: 'flask', action: 'read', tenancy: 'scoped', body: 'none', usageSeries: 'modelReferences', usage: 'usageModelArtifactsDownloaded',
    resources: [modelVersion(query('name'), query('version'))], references: [relativePath(query('path'))],
    note: 'get_model_version_artifact_handler: query name, version, path; presigned=true signs a URL into the source run without a run check.' },

  // ── Webhooks (WebhookService) ────────────────────────────────────────────────────────
  { op: 'webhooks.create', method: 'POST', path: '/mlflow/webhooks', version: 2, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    note: 'Webhooks send registry events to arbitrary URLs (admin-only in MLflow auth too).' },
  { op: 'webhooks.list', method: 'GET', path: '/mlflow/webhooks', version: 2, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'none' },
  { op: 'webhooks.get', method: 'GET', path: '/mlflow/webhooks/{webhook_id}', version: 2, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [webhook()] },
  { op: 'webhooks.update', method: 'PATCH', path: '/mlflow/webhooks/{webhook_id}', version: 2, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [webhook()] },
  { op: 'webhooks.delete', method: 'DELETE', path: '/mlflow/webhooks/{webhook_id}', version: 2, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [webhook()] },
  { op: 'webhooks.test', method: 'POST', path: '/mlflow/webhooks/{webhook_id}/test', version: 2, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [webhook()] },

  // ── Workspaces ───────────────────────────────────────────────────────────────────────
  { op: 'workspaces.list', method: 'GET', path: '/mlflow/workspaces', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none', workspaceApi: 'list', responseFilter: WORKSPACES_LIST,
    note: 'The tenant list: filtered to the caller\'s tenants. The Python client sends no workspace header on /mlflow/workspaces calls.' },
  { op: 'workspaces.create', method: 'POST', path: '/mlflow/workspaces', version: 3, app: 'flask', action: 'admin', tenancy: 'admin', body: 'json', workspaceApi: 'manage' },
  { op: 'workspaces.get', method: 'GET', path: '/mlflow/workspaces/{workspace_name}', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none', workspaceApi: 'get',
    resources: [workspace()] },
  { op: 'workspaces.update', method: 'PATCH', path: '/mlflow/workspaces/{workspace_name}', version: 3, app: 'flask', action: 'admin', tenancy: 'admin', body: 'json', workspaceApi: 'manage',
    resources: [workspace()] },
  { op: 'workspaces.delete', method: 'DELETE', path: '/mlflow/workspaces/{workspace_name}', version: 3, app: 'flask', action: 'admin', tenancy: 'admin', body: 'none', workspaceApi: 'manage',
    resources: [workspace()], note: '_delete_workspace_handler: query mode RESTRICT (default), SET_DEFAULT or CASCADE (deletes every resource in it).' },

  // ── AI gateway: secrets ──────────────────────────────────────────────────────────────
  { op: 'gatewaySecrets.create', method: 'POST', path: '/mlflow/gateway/secrets/create', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'gatewaySecrets.get', method: 'GET', path: '/mlflow/gateway/secrets/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [gatewaySecret()], note: '_get_gateway_secret_info reads secret_id only; the proto\'s secret_name is ignored. Returns metadata, not the value.' },
  { op: 'gatewaySecrets.update', method: 'POST', path: '/mlflow/gateway/secrets/update', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewaySecret()] },
  { op: 'gatewaySecrets.delete', method: 'DELETE', path: '/mlflow/gateway/secrets/delete', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewaySecret()] },
  { op: 'gatewaySecrets.list', method: 'GET', path: '/mlflow/gateway/secrets/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none' },
  { op: 'gatewaySecrets.config', method: 'GET', path: '/mlflow/gateway/secrets/config', version: 3, prefixes: AJAX, app: 'flask', action: 'admin', tenancy: 'global', body: 'none',
    note: '_get_secrets_config tells whether the default KEK passphrase is in use; only secret creation (admin) needs it.' },

  // ── AI gateway: endpoints, bindings, tags ────────────────────────────────────────────
  { op: 'gatewayEndpoints.create', method: 'POST', path: '/mlflow/gateway/endpoints/create', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [ref('gateway_model_definition', [param('model_configs.model_definition_id', { many: true })], 'read'), experiment(param('experiment_id'), 'edit')] },
  { op: 'gatewayEndpoints.get', method: 'GET', path: '/mlflow/gateway/endpoints/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [gatewayEndpoint(param('endpoint_id', { alias: 'name' }))], note: 'Exactly one of endpoint_id or name (resolved by NAME).' },
  { op: 'gatewayEndpoints.update', method: 'POST', path: '/mlflow/gateway/endpoints/update', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(), ref('gateway_model_definition', [param('model_configs.model_definition_id', { many: true })], 'read'), experiment(param('experiment_id'), 'edit')] },
  { op: 'gatewayEndpoints.delete', method: 'DELETE', path: '/mlflow/gateway/endpoints/delete', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()] },
  { op: 'gatewayEndpoints.list', method: 'GET', path: '/mlflow/gateway/endpoints/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none' },
  { op: 'gatewayEndpoints.attachModel', method: 'POST', path: '/mlflow/gateway/endpoints/models/attach', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(), ref('gateway_model_definition', [param('model_config.model_definition_id')], 'read')] },
  { op: 'gatewayEndpoints.detachModel', method: 'POST', path: '/mlflow/gateway/endpoints/models/detach', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(), gatewayModelDefinition()] },
  { op: 'gatewayEndpoints.createBinding', method: 'POST', path: '/mlflow/gateway/endpoints/bindings/create', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()], note: 'Binds the endpoint to resource_type/resource_id (e.g. a scorer or experiment).' },
  { op: 'gatewayEndpoints.deleteBinding', method: 'DELETE', path: '/mlflow/gateway/endpoints/bindings/delete', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()] },
  { op: 'gatewayEndpoints.listBindings', method: 'GET', path: '/mlflow/gateway/endpoints/bindings/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    resources: [gatewayEndpoint()], note: 'endpoint_id, resource_type and resource_id are all optional filters.' },
  { op: 'gatewayEndpoints.setTag', method: 'POST', path: '/mlflow/gateway/endpoints/set-tag', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()] },
  { op: 'gatewayEndpoints.deleteTag', method: 'DELETE', path: '/mlflow/gateway/endpoints/delete-tag', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()] },

  // ── AI gateway: model definitions ────────────────────────────────────────────────────
  { op: 'gatewayModelDefinitions.create', method: 'POST', path: '/mlflow/gateway/model-definitions/create', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewaySecret()] },
  { op: 'gatewayModelDefinitions.get', method: 'GET', path: '/mlflow/gateway/model-definitions/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [gatewayModelDefinition()] },
  { op: 'gatewayModelDefinitions.list', method: 'GET', path: '/mlflow/gateway/model-definitions/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none' },
  { op: 'gatewayModelDefinitions.update', method: 'POST', path: '/mlflow/gateway/model-definitions/update', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayModelDefinition(), gatewaySecret()] },
  { op: 'gatewayModelDefinitions.delete', method: 'DELETE', path: '/mlflow/gateway/model-definitions/delete', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayModelDefinition()] },

  // ── AI gateway: budgets ──────────────────────────────────────────────────────────────
  { op: 'gatewayBudgets.create', method: 'POST', path: '/mlflow/gateway/budgets/create', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'gatewayBudgets.get', method: 'GET', path: '/mlflow/gateway/budgets/get', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [gatewayBudget()] },
  { op: 'gatewayBudgets.update', method: 'POST', path: '/mlflow/gateway/budgets/update', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayBudget()] },
  { op: 'gatewayBudgets.delete', method: 'DELETE', path: '/mlflow/gateway/budgets/delete', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayBudget()] },
  { op: 'gatewayBudgets.list', method: 'GET', path: '/mlflow/gateway/budgets/list', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none' },
  { op: 'gatewayBudgets.listWindows', method: 'GET', path: '/mlflow/gateway/budgets/windows', version: 3, app: 'flask', action: 'read', tenancy: 'search', body: 'none',
    note: '_list_budget_windows: current spend of GLOBAL policies plus those of the request workspace.' },

  // ── AI gateway: guardrails ───────────────────────────────────────────────────────────
  { op: 'gatewayGuardrails.create', method: 'POST', path: '/mlflow/gateway/guardrails/create', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'gatewayGuardrails.get', method: 'GET', path: '/mlflow/gateway/guardrails/get', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'none',
    note: 'Standalone guardrails are admin-only, reads included (auth: sender_is_admin).' },
  { op: 'gatewayGuardrails.delete', method: 'DELETE', path: '/mlflow/gateway/guardrails/delete', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'gatewayGuardrails.list', method: 'GET', path: '/mlflow/gateway/guardrails/list', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'none' },
  { op: 'gatewayGuardrails.addToEndpoint', method: 'POST', path: '/mlflow/gateway/guardrails/add-to-endpoint', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()] },
  { op: 'gatewayGuardrails.removeFromEndpoint', method: 'DELETE', path: '/mlflow/gateway/guardrails/remove-from-endpoint', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()] },
  { op: 'gatewayGuardrails.listForEndpoint', method: 'GET', path: '/mlflow/gateway/guardrails/list-for-endpoint', version: 3, app: 'flask', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [gatewayEndpoint()] },
  { op: 'gatewayGuardrails.updateConfig', method: 'PATCH', path: '/mlflow/gateway/guardrails/update-config', version: 3, app: 'flask', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint()], note: '_update_endpoint_guardrail_config is the only gateway handler without _disable_if_artifacts_only.' },

  // ── AI gateway: provider discovery (UI) ──────────────────────────────────────────────
  { op: 'gatewayDiscovery.supportedProviders', method: 'GET', path: '/mlflow/gateway/supported-providers', version: 3, prefixes: AJAX, app: 'flask', action: 'authenticated', tenancy: 'global', body: 'none' },
  { op: 'gatewayDiscovery.supportedModels', method: 'GET', path: '/mlflow/gateway/supported-models', version: 3, prefixes: AJAX, app: 'flask', action: 'authenticated', tenancy: 'global', body: 'none' },
  { op: 'gatewayDiscovery.providerConfig', method: 'GET', path: '/mlflow/gateway/provider-config', version: 3, prefixes: AJAX, app: 'flask', action: 'authenticated', tenancy: 'global', body: 'none',
    note: 'Also reports whether the server holds provider credentials in its environment.' },

  // ── AI gateway: invocation (FastAPI gateway_router) ──────────────────────────────────
  { op: 'gateway.invocations', method: 'POST', path: '/gateway/{endpoint_name}/mlflow/invocations', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(path('endpoint_name'))], note: GATEWAY_PATH_NAME },
  { op: 'gateway.chatCompletions', method: 'POST', path: '/gateway/mlflow/v1/chat/completions', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: GATEWAY_BODY_MODEL },
  { op: 'gateway.listModels', method: 'GET', path: '/gateway/mlflow/v1/models', app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    note: 'OpenAI-style model list: every endpoint name of the workspace.' },
  { op: 'gateway.openaiChat', method: 'POST', path: '/gateway/openai/v1/chat/completions', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: GATEWAY_BODY_MODEL },
  { op: 'gateway.openaiEmbeddings', method: 'POST', path: '/gateway/openai/v1/embeddings', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: GATEWAY_BODY_MODEL },
  { op: 'gateway.typesafeSystemOne', method: 'POST', path: '/gateway/typesafe/v1/systemone', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: GATEWAY_BODY_MODEL },
  { op: 'gateway.openaiResponses', method: 'POST', path: '/gateway/openai/v1/responses', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: GATEWAY_BODY_MODEL },
  { op: 'gateway.openaiResponsesCompact', method: 'POST', path: '/gateway/openai/v1/responses/compact', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: `${GATEWAY_BODY_MODEL} Missing from MLflow auth's _ROUTES_NEEDING_BODY, so basic-auth refuses it ("No endpoint name found").` },
  { op: 'gateway.anthropicMessages', method: 'POST', path: '/gateway/anthropic/v1/messages', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(body('model'))], note: GATEWAY_BODY_MODEL },
  { op: 'gateway.geminiGenerateContent', method: 'POST', path: '/gateway/gemini/v1beta/models/{endpoint_name}:generateContent', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(path('endpoint_name'))], note: `${GATEWAY_PATH_NAME} The parameter is followed by a literal :generateContent inside the segment.` },
  { op: 'gateway.geminiStreamGenerateContent', method: 'POST', path: '/gateway/gemini/v1beta/models/{endpoint_name}:streamGenerateContent', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(path('endpoint_name'))], note: `${GATEWAY_PATH_NAME} The parameter is followed by a literal :streamGenerateContent inside the segment.` },
  { op: 'gateway.rawProxy', method: 'POST', path: '/gateway/proxy/{endpoint_name}/{path:path}', app: 'fastapi', action: 'use', tenancy: 'scoped', body: 'json',
    resources: [gatewayEndpoint(path('endpoint_name'))],
    note: `${GATEWAY_PATH_NAME} raw_proxy forwards the caller-chosen upstream path, the query string and the request headers to the provider.` },
  { op: 'gateway.deploymentsProxyGet', method: 'GET', path: '/mlflow/gateway-proxy', version: 2, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'global', body: 'none',
    disabledAnswer: { endpoints: [] },
    note: 'gateway_proxy_handler relays to MLFLOW_DEPLOYMENTS_TARGET (legacy deployments server); without one it answers {"endpoints": []}, which the UI lists on every runs page.' },
  { op: 'gateway.deploymentsProxy', method: 'POST', path: '/mlflow/gateway-proxy', version: 2, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'global', body: 'json',
    note: 'gateway_proxy_handler relays gateway/<name>/invocations calls to MLFLOW_DEPLOYMENTS_TARGET.' },

  // ── MCP server registry (FastAPI mcp_server_router, registration order) ──────────────
  { op: 'mcpServers.create', method: 'POST', path: '/mlflow/mcp-servers', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'mcpServers.search', method: 'GET', path: '/mlflow/mcp-servers', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    repeated: ['order_by'] },
  { op: 'mcpServers.searchAllEndpoints', method: 'GET', path: '/mlflow/mcp-servers/endpoints', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    repeated: ['order_by'], note: `Registered before the {name:path} routes. ${MCP_ORDER}` },
  { op: 'mcpServers.setVersionTag', method: 'POST', path: '/mlflow/mcp-servers/{name:path}/versions/{version:path}/tags', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.deleteVersionTag', method: 'DELETE', path: '/mlflow/mcp-servers/{name:path}/versions/{version:path}/tags/{key:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.getVersion', method: 'GET', path: '/mlflow/mcp-servers/{name:path}/versions/{version:path}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.updateVersion', method: 'PATCH', path: '/mlflow/mcp-servers/{name:path}/versions/{version:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.deleteVersion', method: 'DELETE', path: '/mlflow/mcp-servers/{name:path}/versions/{version:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.createVersion', method: 'POST', path: '/mlflow/mcp-servers/{name:path}/versions', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: `Creates the server too when it does not exist. ${MCP_ORDER}` },
  { op: 'mcpServers.searchVersions', method: 'GET', path: '/mlflow/mcp-servers/{name:path}/versions', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    resources: [mcpServer()], repeated: ['order_by'], note: MCP_ORDER },
  { op: 'mcpServers.createEndpoint', method: 'POST', path: '/mlflow/mcp-servers/{name:path}/endpoints', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.getEndpoint', method: 'GET', path: '/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.updateEndpoint', method: 'PATCH', path: '/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.deleteEndpoint', method: 'DELETE', path: '/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.searchEndpoints', method: 'GET', path: '/mlflow/mcp-servers/{name:path}/endpoints', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    resources: [mcpServer()], repeated: ['order_by'], note: MCP_ORDER },
  { op: 'mcpServers.setTag', method: 'POST', path: '/mlflow/mcp-servers/{name:path}/tags', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.deleteTag', method: 'DELETE', path: '/mlflow/mcp-servers/{name:path}/tags/{key:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.setAlias', method: 'POST', path: '/mlflow/mcp-servers/{name:path}/aliases', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.getVersionByAlias', method: 'GET', path: '/mlflow/mcp-servers/{name:path}/aliases/{alias:path}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.deleteAlias', method: 'DELETE', path: '/mlflow/mcp-servers/{name:path}/aliases/{alias:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: MCP_ORDER },
  { op: 'mcpServers.get', method: 'GET', path: '/mlflow/mcp-servers/{name:path}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: `Catch-all, registered last. ${MCP_ORDER}` },
  { op: 'mcpServers.update', method: 'PATCH', path: '/mlflow/mcp-servers/{name:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [mcpServer()], note: `Catch-all, registered last. ${MCP_ORDER}` },
  { op: 'mcpServers.delete', method: 'DELETE', path: '/mlflow/mcp-servers/{name:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [mcpServer()], note: `Catch-all, registered last. ${MCP_ORDER}` },

  // ── Skill registry (FastAPI skill_registry_router, registration order) ───────────────
  { op: 'skills.create', method: 'POST', path: '/mlflow/skills', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'skills.search', method: 'GET', path: '/mlflow/skills', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    repeated: ['order_by', 'include_skill_identities'] },
  { op: 'skills.getOrg', method: 'GET', path: '/mlflow/skills/@{organization}/{name}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.searchVersionsOrg', method: 'GET', path: '/mlflow/skills/@{organization}/{name}/versions', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    resources: [orgSkill()], repeated: ['order_by'] },
  { op: 'skills.searchVersions', method: 'GET', path: '/mlflow/skills/{name}/versions', version: 3, app: 'fastapi', action: 'read', tenancy: 'search', body: 'none',
    resources: [skill()], repeated: ['order_by'] },
  { op: 'skills.setTagOrg', method: 'POST', path: '/mlflow/skills/@{organization}/{name}/tags', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [orgSkill()] },
  { op: 'skills.deleteTagOrg', method: 'DELETE', path: '/mlflow/skills/@{organization}/{name}/tags/{key:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.setVersionTagOrg', method: 'POST', path: '/mlflow/skills/@{organization}/{name}/versions/{version}/tags', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [orgSkill()] },
  { op: 'skills.deleteVersionTagOrg', method: 'DELETE', path: '/mlflow/skills/@{organization}/{name}/versions/{version}/tags/{key:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.setTag', method: 'POST', path: '/mlflow/skills/{name}/tags', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [skill()] },
  { op: 'skills.deleteTag', method: 'DELETE', path: '/mlflow/skills/{name}/tags/{key:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.setVersionTag', method: 'POST', path: '/mlflow/skills/{name}/versions/{version}/tags', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [skill()] },
  { op: 'skills.deleteVersionTag', method: 'DELETE', path: '/mlflow/skills/{name}/versions/{version}/tags/{key:path}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.update', method: 'PATCH', path: '/mlflow/skills/{name}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [skill()] },
  { op: 'skills.updateOrg', method: 'PATCH', path: '/mlflow/skills/@{organization}/{name}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [orgSkill()] },
  { op: 'skills.get', method: 'GET', path: '/mlflow/skills/{name}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.createVersion', method: 'POST', path: '/mlflow/skills/{name}/versions', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'stream',
    resources: [skill()], note: 'JSON metadata or multipart/form-data (metadata + content archive); creates the skill when missing.' },
  { op: 'skills.createVersionOrg', method: 'POST', path: '/mlflow/skills/@{organization}/{name}/versions', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'stream',
    resources: [orgSkill()], note: 'JSON metadata or multipart/form-data (metadata + content archive); creates the skill when missing.' },
  { op: 'skills.bulkRegister', method: 'POST', path: '/mlflow/skills/bulk-register', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json' },
  { op: 'skills.getVersion', method: 'GET', path: '/mlflow/skills/{name}/versions/{version}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.getVersionOrg', method: 'GET', path: '/mlflow/skills/@{organization}/{name}/versions/{version}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.getVersionByAlias', method: 'GET', path: '/mlflow/skills/{name}/aliases/{alias}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.getVersionByAliasOrg', method: 'GET', path: '/mlflow/skills/@{organization}/{name}/aliases/{alias}', version: 3, app: 'fastapi', action: 'read', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.setAlias', method: 'POST', path: '/mlflow/skills/{name}/aliases', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [skill()] },
  { op: 'skills.setAliasOrg', method: 'POST', path: '/mlflow/skills/@{organization}/{name}/aliases', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [orgSkill()] },
  { op: 'skills.deleteAlias', method: 'DELETE', path: '/mlflow/skills/{name}/aliases/{alias}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.deleteAliasOrg', method: 'DELETE', path: '/mlflow/skills/@{organization}/{name}/aliases/{alias}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },

  { op: 'skills.deleteVersion', method: 'DELETE', path: '/mlflow/skills/{name}/versions/{version}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.deleteVersionOrg', method: 'DELETE', path: '/mlflow/skills/@{organization}/{name}/versions/{version}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.delete', method: 'DELETE', path: '/mlflow/skills/{name}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [skill()] },
  { op: 'skills.deleteOrg', method: 'DELETE', path: '/mlflow/skills/@{organization}/{name}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'none',
    resources: [orgSkill()] },
  { op: 'skills.updateVersion', method: 'PATCH', path: '/mlflow/skills/{name}/versions/{version}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [skill()] },
  { op: 'skills.updateVersionOrg', method: 'PATCH', path: '/mlflow/skills/@{organization}/{name}/versions/{version}', version: 3, app: 'fastapi', action: 'admin', tenancy: 'scoped', body: 'json',
    resources: [orgSkill()] },

  // ── Background jobs (UI-internal) ────────────────────────────────────────────────────
  { op: 'jobs.submit', method: 'POST', path: '/jobs/', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json',
    note: 'job_api.submit_job runs any registered job function with caller-chosen params.' },
  { op: 'jobs.search', method: 'POST', path: '/jobs/search', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json',
    disabledAnswer: { jobs: [] }, note: 'job_api.search_jobs lists every job of every user and experiment.' },
  { op: 'jobs.get', method: 'GET', path: '/jobs/{job_id}', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none',
    note: 'Jobs carry no tenant; MLflow gates them on the recorded creator only.' },
  { op: 'jobs.cancel', method: 'PATCH', path: '/jobs/cancel/{job_id}', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none',
    note: 'Jobs carry no tenant; MLflow gates them on the recorded creator only.' },
  { op: 'jobs.getStatus', method: 'GET', path: '/mlflow/jobs/{job_id}', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'global', body: 'none',
    note: 'Flask twin of jobs.get (handlers._get_job).' },
  { op: 'jobs.cancelStatus', method: 'PATCH', path: '/mlflow/jobs/cancel/{job_id}', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'global', body: 'none',
    note: 'Flask twin of jobs.cancel (handlers._cancel_job).' },

  // ── GenAI evaluation (UI-internal) ───────────────────────────────────────────────────
  { op: 'genaiEvaluate.invoke', method: 'POST', path: '/mlflow/genai/evaluate/invoke', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'json',
    note: '_invoke_genai_evaluate_handler submits evaluation jobs that run scorers and LLM calls server-side.' },

  // ── Demo data (UI-internal) ──────────────────────────────────────────────────────────
  { op: 'demo.generate', method: 'POST', path: '/mlflow/demo/generate', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'json',
    note: '_generate_demo writes a demo experiment, traces, prompts and models.' },
  { op: 'demo.delete', method: 'POST', path: '/mlflow/demo/delete', version: 3, prefixes: AJAX, app: 'flask', action: 'deny', tenancy: 'scoped', body: 'none',
    note: '_delete_demo hard-deletes the demo experiment and everything in it.' },

  // ── Assistant (FastAPI assistant_router, UI-internal) ────────────────────────────────
  { op: 'assistant.getConfig', method: 'GET', path: '/mlflow/assistant/config', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none',
    note: 'The Assistant runs coding agents and shell tools on the server host or in a sandbox.' },
  { op: 'assistant.updateConfig', method: 'PUT', path: '/mlflow/assistant/config', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json' },
  { op: 'assistant.sendMessage', method: 'POST', path: '/mlflow/assistant/message', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json' },
  { op: 'assistant.listProviders', method: 'GET', path: '/mlflow/assistant/providers', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none' },
  { op: 'assistant.providerHealth', method: 'GET', path: '/mlflow/assistant/providers/{provider}/health', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none' },
  { op: 'assistant.listProviderModels', method: 'GET', path: '/mlflow/assistant/providers/{provider}/models', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none' },
  { op: 'assistant.patchSession', method: 'PATCH', path: '/mlflow/assistant/sessions/{session_id}', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json' },
  { op: 'assistant.resolvePermission', method: 'POST', path: '/mlflow/assistant/sessions/{session_id}/permission', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json' },
  { op: 'assistant.streamResponse', method: 'GET', path: '/mlflow/assistant/sessions/{session_id}/stream', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'none' },
  { op: 'assistant.resolveToolResult', method: 'POST', path: '/mlflow/assistant/sessions/{session_id}/tool-result', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json' },
  { op: 'assistant.installSkills', method: 'POST', path: '/mlflow/assistant/skills/install', version: 3, prefixes: AJAX, app: 'fastapi', action: 'deny', tenancy: 'global', body: 'json' },
] as const satisfies readonly RouteSpec[];

/** Every operation id of the table: a misspelled one does not compile. */
export type Op = (typeof ROWS)[number]['op'];

/** A row of the table: its `op` is one the table lists. */
export interface RouteRow extends RouteSpec {
  readonly op: Op;
}

export const MLFLOW_ROUTES: readonly RouteRow[] = ROWS;

const BY_OP: ReadonlyMap<string, RouteRow> = new Map(MLFLOW_ROUTES.map((r) => [r.op, r]));

/** The row of an operation id given as text (`policy explain`, the CLI); undefined when the table has none. */
export function routeOfOp(op: string): RouteRow | undefined {
  return BY_OP.get(op);
}
