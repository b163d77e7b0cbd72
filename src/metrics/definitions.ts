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
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

/** The `tenant` label value when a request has no tenant. */
export const NO_TENANT = '_none';
