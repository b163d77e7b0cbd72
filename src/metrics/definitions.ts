/**
 * Every metric Gatehouse exports, in one table: name, type, help and the exact label names.
 * `docs/operations.md` is generated from it and a test checks a scrape against it. Label
 * values are bounded by construction: operation ids come from the route table, providers and
 * sinks from the configuration, tenants from the tenant list; never ids, paths or user names.
 */

export interface MetricDef {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram buckets (seconds). */
  readonly buckets?: readonly number[];
}

const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const FAST = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

export const METRICS = {
  requests: {
    name: 'gatehouse_requests_total',
    type: 'counter',
    help: 'Requests through the pipeline, by route operation id (`_unmatched` when no route matched), decision (`allow`, `deny`, `none` before a decision) and status class (`2xx`…`5xx`).',
    labels: ['operation', 'decision', 'status_class'],
  },
  requestDuration: {
    name: 'gatehouse_request_duration_seconds',
    type: 'histogram',
    help: 'Whole request, from arrival until the response was sent, by route operation id.',
    labels: ['operation'],
    buckets: LATENCY,
  },
  upstreamDuration: {
    name: 'gatehouse_upstream_duration_seconds',
    type: 'histogram',
    help: 'Time in the forward stage (MLflow answering and the body streamed to the client), by route operation id.',
    labels: ['operation'],
    buckets: LATENCY,
  },
  decisionDuration: {
    name: 'gatehouse_decision_duration_seconds',
    type: 'histogram',
    help: 'Time in the authorize stage (the policy decision, including parent lookups), by decision.',
    labels: ['decision'],
    buckets: [...FAST, 0.025, 0.1, 0.5, 2.5],
  },
  inFlight: {
    name: 'gatehouse_requests_in_flight',
    type: 'gauge',
    help: 'Requests in the pipeline right now.',
    labels: [],
  },
  authFailures: {
    name: 'gatehouse_authentication_failures_total',
    type: 'counter',
    help: 'Failed authentications by identity provider id (`none` when no credentials were sent) and reason id (`missing-credentials`, `bad-password`, …; `other` for an unknown reason).',
    labels: ['provider', 'reason'],
  },
  upstreamErrors: {
    name: 'gatehouse_upstream_errors_total',
    type: 'counter',
    help: 'Failed calls to MLflow by kind: `unavailable` (503, connection refused), `timeout` (504), `bad_response` (502, broken connection or invalid answer).',
    labels: ['kind'],
  },
  headersDropped: {
    name: 'gatehouse_headers_dropped_total',
    type: 'counter',
    help: 'Headers the gateway did not pass on (src/upstream/headers.ts, docs/security.md "Headers"), by direction (`request`: client to MLflow; `response`: MLflow to client) and name class: `connection` (hop-by-hop, Host, Expect), `credential`, `identity`, `routing`, `mlflow` (X-MLflow-* not on the list), `ambiguous` (`_` or `.` in the name), `state` (Set-Cookie, HSTS, CORS), `server`, `other`. Never names or values.',
    labels: ['direction', 'class'],
  },
  clientAborts: {
    name: 'gatehouse_client_aborts_total',
    type: 'counter',
    help: 'Requests whose client closed the connection before the answer was complete (audit outcome `aborted`, status 499, not a 5xx), by route operation id and phase: `request` (mid-upload or waiting for the answer) or `response` (mid-download).',
    labels: ['operation', 'phase'],
  },
  auditQueueDepth: {
    name: 'gatehouse_audit_queue_depth',
    type: 'gauge',
    help: 'Audit events waiting to be written, by sink id.',
    labels: ['sink'],
  },
  auditLost: {
    name: 'gatehouse_audit_events_lost_total',
    type: 'counter',
    help: 'Audit events a sink did not record, by sink id and reason (`error`: the write failed; `overflow`: the queue was full).',
    labels: ['sink', 'reason'],
  },
  scimRequests: {
    name: 'gatehouse_scim_requests_total',
    type: 'counter',
    help: 'Requests to the SCIM door (`/_gatehouse/scim/v2`), by method, resource (`Users`, `Users:id`, `Users:search`, `Groups`, `ServiceProviderConfig`, ... : route templates, never ids) and status class (`2xx`…`5xx`).',
    labels: ['method', 'resource', 'status_class'],
  },
  rateLimited: {
    name: 'gatehouse_rate_limited_total',
    type: 'counter',
    help: 'Requests refused with 429 by a rate limit, by operation class (`reads`, `writes`, `artifacts`, `searches`; `failed-auth` for brute-force lockouts) and key kind (`principal`, `tenant`, `address`, `username`).',
    labels: ['class', 'key'],
  },
  usageApiCalls: {
    name: 'gatehouse_usage_api_calls_total',
    type: 'counter',
    help: 'MLflow API calls that matched a route, by tenant (`_none` without a tenant).',
    labels: ['tenant'],
  },
  usageRunsCreated: {
    name: 'gatehouse_usage_runs_created_total',
    type: 'counter',
    help: 'Runs created (`runs.create` answered 2xx), by tenant.',
    labels: ['tenant'],
  },
  usageExperimentsCreated: {
    name: 'gatehouse_usage_experiments_created_total',
    type: 'counter',
    help: 'Experiments created (`experiments.create` answered 2xx), by tenant.',
    labels: ['tenant'],
  },
  usageModelsRegistered: {
    name: 'gatehouse_usage_models_registered_total',
    type: 'counter',
    help: 'Registered models created (`registeredModels.create` answered 2xx), by tenant.',
    labels: ['tenant'],
  },
  usageModelVersionsCreated: {
    name: 'gatehouse_usage_model_versions_created_total',
    type: 'counter',
    help: 'Model versions created (`modelVersions.create` answered 2xx), by tenant.',
    labels: ['tenant'],
  },
  usageModelArtifactsDownloaded: {
    name: 'gatehouse_usage_model_artifacts_downloaded_total',
    type: 'counter',
    help: 'Model artifact downloads answered 2xx (`modelVersions.getArtifact`, `loggedModels.getArtifactFile`, and proxied artifact downloads under a logged model\'s `models/` directory), by tenant.',
    labels: ['tenant'],
  },
  cacheLookups: {
    name: 'gatehouse_cache_lookups_total',
    type: 'counter',
    help: 'Lookups in Gatehouse\'s caches, by cache (`oidc-token`: verified bearer tokens; `ldap`: successful LDAP password checks; `local-password`: successful local password checks; `resource`: parent lookups of the resource resolver) and result (`hit`, `miss`). A disabled cache (size or TTL 0) is not counted. Hit ratio: `hit / (hit + miss)`.',
    labels: ['cache', 'result'],
  },
  jwksRefreshes: {
    name: 'gatehouse_jwks_refreshes_total',
    type: 'counter',
    help: 'Attempts to load an OIDC provider\'s signing keys (discovery and JWKS fetch: at start, when older than `jwksMaxAgeSeconds`, on an unknown `kid`), by provider id and outcome (`ok`, `error`; an error keeps the keys already held).',
    labels: ['provider', 'outcome'],
  },
  jwksKeysSkipped: {
    name: 'gatehouse_jwks_keys_skipped_total',
    type: 'counter',
    help: 'Keys in an OIDC provider\'s JWKS that were left out when it was loaded, by provider id and reason (`weak-key`: RSA under 2048 bits; `unusable-key`: Node cannot import it, e.g. an EC point off its curve or an unknown curve; `unsupported-kty`; `malformed`). Counted at every load while the IdP publishes them; a token naming one is refused (401 `unknown-kid`).',
    labels: ['provider', 'reason'],
  },
  poolConnected: {
    name: 'gatehouse_upstream_pool_connected',
    type: 'gauge',
    help: 'Connections open to an MLflow server (at most `mlflow.connections`), by upstream (`mlflow`; `mlflow:<tenant>` in instance tenancy). Read at scrape time.',
    labels: ['upstream'],
  },
  poolFree: {
    name: 'gatehouse_upstream_pool_free',
    type: 'gauge',
    help: 'Open connections to an MLflow server that are idle, by upstream.',
    labels: ['upstream'],
  },
  poolPending: {
    name: 'gatehouse_upstream_pool_pending',
    type: 'gauge',
    help: 'Requests to an MLflow server waiting for a connection (the pool is saturated while this stays above 0), by upstream.',
    labels: ['upstream'],
  },
  poolRunning: {
    name: 'gatehouse_upstream_pool_running',
    type: 'gauge',
    help: 'Requests to an MLflow server in progress on a connection, by upstream.',
    labels: ['upstream'],
  },
  poolSize: {
    name: 'gatehouse_upstream_pool_size',
    type: 'gauge',
    help: 'Requests to an MLflow server waiting or in progress (`pending` + `running`), by upstream.',
    labels: ['upstream'],
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

/** The `tenant` label value when a request has no tenant. */
export const NO_TENANT = '_none';

/** The caches counted in `gatehouse_cache_lookups_total` (the only values of its `cache` label). */
export const CACHES = ['oidc-token', 'ldap', 'local-password', 'resource'] as const;
export type CacheName = (typeof CACHES)[number];

/** What caches report to; passed in through the components' deps, never global. */
export interface CacheMetrics {
  lookup(cache: CacheName, hit: boolean): void;
}

/** What JWKS key sources report to: one call per load attempt, one per key left out. */
export interface JwksMetrics {
  jwksRefresh(provider: string, ok: boolean): void;
  jwksKeySkipped(provider: string, reason: string): void;
}

/** The sink components use when none is given (unit tests building them directly). */
export const NO_METRICS: CacheMetrics & JwksMetrics = { lookup() {}, jwksRefresh() {}, jwksKeySkipped() {} };

/** Undici pool counters of one upstream, as `Pool#stats` reports them. */
export interface PoolStats {
  readonly connected: number;
  readonly free: number;
  readonly pending: number;
  readonly running: number;
  readonly size: number;
}
