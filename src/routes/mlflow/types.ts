/**
 * The shape of one row of the MLflow route table. The table itself is data
 * (`table.ts`); the matcher, the resource extractor and the docs generator read it.
 */
import type { Action, ResourceAction } from '../../model/permission.ts';
import type { Anchors, Family, ResourceKind } from '../../model/resource.ts';
import type { MetricKey } from '../../metrics/definitions.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Where an identifier is read, exactly as MLflow's handler reads it:
 * - `params`: MLflow's proto rule, the query string for GET and the JSON body otherwise
 *   (`handlers._get_request_message`);
 * - `query` / `body` / `path` / `header`: that place only;
 * - `artifact-path`: the artifact path of the proxied artifact routes (`<experiment_id>/<run_id>/artifacts/...`).
 * `field` is a dotted path into the message (`trace.trace_info.trace_location.mlflow_experiment.experiment_id`);
 * `many` marks a repeated field; `alias` names MLflow's fallback field (`run_id` or `run_uuid`).
 */
export interface IdSource {
  readonly in: 'params' | 'query' | 'body' | 'path' | 'header' | 'artifact-path';
  readonly field: string;
  readonly many?: boolean;
  readonly alias?: string;
  /**
   * The field holds a reference, and the identifier is what it names, read by
   * `references.ts`: a model version `source` names a registered model (`models:/<name>/...`)
   * or, as kind `artifact`, a proxied experiment (`mlflow-artifacts:/<experiment_id>/...`); a
   * proxied artifact path (`[workspaces/<ws>/]<experiment_id>/...`) names its experiment.
   * The `artifact-path` source is always read as a proxied artifact path.
   */
  readonly reference?: 'model-version-source' | 'proxied-artifact-path';
}

/**
 * A field holding a reference MLflow parses, checked by the gateway itself (`references.ts`)
 * before anything is forwarded, whatever MLflow would check downstream:
 * - `artifact-path`: a relative path joined to a trusted artifact root (`validate_path_is_safe`);
 * - `attachment-path`: a trace attachment id (a canonical UUID);
 * - `model-version-source`: read as `_create_model_version` reads it; a runs:/ or models:/<model_id>
 *   source must name the request's run_id / model_id, any other artifact location must lie
 *   inside their artifact root;
 * - `run-link`: an absolute http(s) URL (MLflow's UI renders it as a link).
 */
export interface ReferenceField {
  readonly at: IdSource;
  readonly read: 'artifact-path' | 'attachment-path' | 'model-version-source' | 'run-link';
}

/** One resource a call touches, and where its identifier(s) come from. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly ids: readonly IdSource[];
  /** The caller must be allowed `action` on this reference too (e.g. a model version's source run: `read`). */
  readonly action?: ResourceAction;
  /**
   * An id MLflow stores in no tenant names nothing, and is not checked (the rest of the call
   * still is); an id stored in another tenant is refused like a missing one (src/policy/resolve.ts
   * `stored`). For ids a client may send before MLflow has stored them: the 3.18 client logs
   * traces asynchronously and links them to runs at once. Default: every id must resolve.
   */
  readonly unstoredNamesNothing?: true;
}

/**
 * How the request body is handled:
 * - `none`: the route takes no body; one is refused (a body on GET is a parsing differential);
 * - `json`: buffered (bounded), parsed strictly and checked for ambiguity before anything else sees it;
 * - `stream`: passed through byte for byte, never buffered (artifacts, OTLP protobuf, multipart uploads).
 */
export type BodyMode = 'none' | 'json' | 'stream';

/**
 * How a route relates to tenants:
 * - `scoped`: it reads or writes resources that belong to one tenant;
 * - `search`: it lists resources across the caller's view; results are constrained/filtered;
 * - `global`: no tenant is involved (server info, UI assets);
 * - `admin`: it manages tenants or server-wide configuration.
 */
export type Tenancy = 'scoped' | 'search' | 'global' | 'admin';

/**
 * A search whose results the gateway can filter item by item (search-filter.ts pages through
 * MLflow's answer): a principal allowed only some results sees complete pages of those.
 */
export interface SearchFilterSpec {
  /** The array of results in MLflow's answer. */
  readonly items: string;
  readonly family: Family;
  /** What the engine checks for one result. */
  anchors(item: Record<string, unknown>): Anchors;
  /** Where a result carries its own tags (tag mode reads the tenant tag there); absent: the parent's. */
  tags?(item: Record<string, unknown>): unknown;
  /** MLflow's default page size for this search (`mlflow/store/tracking/__init__.py`, `model_registry/__init__.py`). */
  readonly defaultMaxResults: number;
  /** The search's MLflow filter can carry the tenant clause `tags.<key> = '<tenant>'` (tag tenancy). */
  readonly constrainable?: true;
}

/** What a response filter may use beyond the answer itself. */
export interface FilterContext {
  /** Tenants the caller belongs to; undefined for administrators (no filtering). */
  readonly visibleTenants: readonly string[] | undefined;
}

/** Narrows an answer (2xx JSON) to what the caller may see; the gateway buffers, filters and re-sends it. */
export type ResponseFilter = (body: unknown, f: FilterContext) => unknown;

/**
 * A create of a tenant's root resource (an experiment, a registered model or prompt): tag
 * tenancy stamps the tenant tag on it, and the creator is recorded from MLflow's answer.
 */
export interface RootCreate {
  readonly kind: 'experiment' | 'registered_model';
  /** The created resource's id (experiment) or name (registered model) in MLflow's 2xx answer. */
  created(body: unknown): string | undefined;
}

/** What a route check reads of the request (checks/: one file per route-specific check). */
export interface CheckInput {
  /** The parsed JSON body (`json` routes). */
  readonly json: unknown;
  /** The caller is a platform administrator. */
  readonly admin: boolean;
}

/** A check one route needs beyond its action and resources; throws GatehouseError to refuse. */
export interface RouteCheck {
  readonly name: string;
  run(input: CheckInput): void;
}

/**
 * The usage analytics series a call answered 2xx counts in (GET /_gatehouse/api/v1/usage,
 * src/admin/usage.ts): runs created, model registrations (registered models and versions
 * created), model references (a client fetching a model to use it).
 */
export type UsageSeries = 'runsCreated' | 'modelRegistrations' | 'modelReferences';

/** The usage counter a successful call adds to: fixed, or read from the path parameters. */
export type Usage = MetricKey | ((params: Readonly<Record<string, string>>) => MetricKey | undefined);

/**
 * A route of the table, with `op` any string: the shape rows are checked against. The table's
 * rows are `RouteRow` (table.ts), whose `op` is the union of the operation ids it lists.
 */
export interface RouteSpec {
  /** Stable operation id, `family.operation` (`runs.logMetric`); used in audit, metrics and policy. */
  readonly op: string;
  readonly method: HttpMethod;
  /**
   * For versioned API routes: the path after `/api/{v}.0` or `/ajax-api/{v}.0` (`/mlflow/runs/get`).
   * Otherwise the absolute path (`/graphql`). Parameters as `{name}` (one segment) or `{name:path}` (rest of path).
   */
  readonly path: string;
  /** API major version of a versioned route; absent for absolute paths. */
  readonly version?: 2 | 3;
  /** Which prefixes serve a versioned route; default both `/api` and its `/ajax-api` twin. */
  readonly prefixes?: readonly ('api' | 'ajax-api')[];
  /** The MLflow app whose handler answers (FastAPI routes take precedence over the Flask mount). */
  readonly app: 'flask' | 'fastapi';
  readonly action: Action;
  readonly tenancy: Tenancy;
  readonly body: BodyMode;
  /** The resource(s) the call acts on; absent when none (searches, creates without a parent, global routes). */
  readonly resources?: readonly ResourceRef[];
  /** Fields holding references the gateway checks itself (artifact paths, model version sources, run links). */
  readonly references?: readonly ReferenceField[];
  /**
   * Request headers this route's handler reads beyond the common allow-list
   * (src/upstream/headers.ts), forwarded here only; header ids named in `resources` are too.
   */
  readonly requestHeaders?: readonly string[];
  /**
   * The resource the call creates under an id the client chose (a v3 trace's `trace_id`): once
   * MLflow has answered 2xx, no remembered "missing" of that id may hide it (src/policy/resolve.ts).
   */
  readonly creates?: ResourceRef;
  /**
   * For a route the gateway disables (action `deny`) that lists what the switched-off feature holds:
   * the answer MLflow 3.18 gives when the feature has nothing to show. The gateway sends it itself
   * to any authenticated caller (the decision stays `route-denied`, nothing is forwarded): MLflow's
   * UI lists from these on ordinary pages, where a refusal shows as an error toast. Absent: the
   * call is refused with GATEHOUSE_ROUTE_DISABLED (writes, invocations, reads of one item).
   */
  readonly disabledAnswer?: Readonly<Record<string, unknown>>;
  /** Query parameters MLflow reads as lists (proto `repeated`); any other repeated query parameter is refused. */
  readonly repeated?: readonly string[];
  /** Why the row is classified as it is, when that is not obvious. */
  readonly note?: string;
  /** A search the gateway can filter item by item (and, when `constrainable`, constrain to a tag tenant). */
  readonly search?: SearchFilterSpec;
  /** The answer is narrowed to what the caller may see (filter-response). */
  readonly responseFilter?: ResponseFilter;
  /** The call creates a tenant root: stamped in tag tenancy, its creator recorded. */
  readonly createsRoot?: RootCreate;
  /** Checks this route needs beyond its action and resources (checks/), run once the call is allowed. */
  readonly checks?: readonly RouteCheck[];
  /** The usage counter a 2xx answer adds to (docs/operations.md, usage metrics). */
  readonly usage?: Usage;
  /** The usage analytics series the call counts in, when answered 2xx. */
  readonly usageSeries?: UsageSeries;
  /**
   * A route of MLflow's workspace API, which is about tenants themselves: no tenant is resolved
   * for it, members may `list` their workspaces and `get` one of them, and `manage` is for
   * administrators. Tag and instance tenancy answer these from the policy (src/tenancy/virtual-workspaces.ts).
   */
  readonly workspaceApi?: 'list' | 'get' | 'manage';
  /** MLflow's server-info, whose answer says whether workspaces are enabled (tenancy may present them). */
  readonly serverInfo?: true;
  /** The GraphQL endpoint: its document is inspected field by field (inspect-graphql stage). */
  readonly graphql?: true;
}
