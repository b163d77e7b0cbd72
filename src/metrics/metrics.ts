/**
 * The Prometheus registry of one gateway (no global default registry) and the runner observer
 * that feeds it from each finished request.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../errors.ts';
import type { RequestObserver } from '../pipeline/runner.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CACHES, METRICS, NO_TENANT, type CacheMetrics, type JwksMetrics, type MetricDef, type MetricKey, type PoolStats } from './definitions.ts';
import { usageOf } from './usage.ts';
import { HEADER_CLASSES } from '../upstream/headers.ts';

export interface Metrics extends CacheMetrics, JwksMetrics {
  readonly registry: Registry;
  readonly observer: RequestObserver;
  auditLost(sink: string, reason: string, count: number): void;
  /** A request refused by a rate limit (src/ratelimit/limits.ts). */
  rateLimited(cls: string, key: string): void;
  /** An answer of the SCIM door (src/scim/http.ts); `resource` is a route template. */
  scimRequest(method: string, resource: string, status: number): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
}

export interface MetricsDeps {
  /** Configured identity provider ids (the only values of the `provider` label besides `none`/`other`). */
  readonly providers: readonly string[];
  /** Queue depth per audit sink, read at scrape time. */
  readonly auditDepths?: () => Array<{ sink: string; depth: number }>;
  /** Pool counters per upstream name (`mlflow`, `mlflow:<tenant>`), read at scrape time. */
  readonly upstreamPools?: () => Array<{ upstream: string; stats: PoolStats }>;
  /** Node.js process metrics (`process_*`, `nodejs_*`); default true. */
  readonly processMetrics?: boolean;
}

const UPSTREAM_KIND: Partial<Record<ErrorCode, string>> = {
  GATEHOUSE_UPSTREAM_UNAVAILABLE: 'unavailable',
  GATEHOUSE_UPSTREAM_TIMEOUT: 'timeout',
  GATEHOUSE_UPSTREAM_BAD_RESPONSE: 'bad_response',
};

/** The pool gauges and the `Pool#stats` field each one reports. */
const POOL_GAUGES: Partial<Record<MetricKey, keyof PoolStats>> = {
  poolConnected: 'connected',
  poolFree: 'free',
  poolPending: 'pending',
  poolRunning: 'running',
  poolSize: 'size',
};
const KNOWN_CACHES = new Set<string>(CACHES);

const REASON = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  if (deps.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const m = {} as Record<MetricKey, Counter | Gauge | Histogram>;
  for (const [key, def] of Object.entries(METRICS) as Array<[MetricKey, MetricDef]>) {
    const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
    if (def.type === 'counter') m[key] = new Counter(common);
    else if (def.type === 'histogram') m[key] = new Histogram({ ...common, buckets: [...(def.buckets ?? [])] });
    else if (key === 'auditQueueDepth') {
      m[key] = new Gauge({
        ...common,
        collect() {
          for (const { sink, depth } of deps.auditDepths?.() ?? []) this.set({ sink }, depth);
        },
      });
    } else if (POOL_GAUGES[key]) {
      const field = POOL_GAUGES[key];
      m[key] = new Gauge({
        ...common,
        collect() {
          for (const { upstream, stats } of deps.upstreamPools?.() ?? []) this.set({ upstream }, stats[field]);
        },
      });
    } else m[key] = new Gauge(common);
  }
  const counter = (k: MetricKey) => m[k] as Counter;
  const histogram = (k: MetricKey) => m[k] as Histogram;
  const inFlight = m.inFlight as Gauge;
  const providers = new Set(deps.providers);
  // Every valid (class, key) pair starts at 0, so rate() works before the first refusal.
  for (const cls of ['reads', 'writes', 'artifacts', 'searches']) for (const key of ['principal', 'tenant', 'address']) counter('rateLimited').inc({ class: cls, key }, 0);
  for (const key of ['address', 'username']) counter('rateLimited').inc({ class: 'failed-auth', key }, 0);
  // The SCIM door's series exist from the start (at zero), like the ones above, so a dashboard sees the door before its first call.
  for (const resource of ['Users', 'Groups']) counter('scimRequests').inc({ method: 'GET', resource, status_class: '2xx' }, 0);
  for (const direction of ['request', 'response']) for (const cls of HEADER_CLASSES) counter('headersDropped').inc({ direction, class: cls }, 0);

  function authFailure(ctx: RequestContext): void {
    if (ctx.errorCode === 'GATEHOUSE_AUTHN_REQUIRED') {
      counter('authFailures').inc({ provider: 'none', reason: 'missing-credentials' });
      return;
    }
    if (ctx.errorCode !== 'GATEHOUSE_AUTHN_INVALID') return;
    // The authenticate stage's detail is `<provider id>: <reason id>`; anything else is bounded to `other`.
    const [provider = '', reason = ''] = (ctx.errorDetail ?? '').split(': ', 2);
    counter('authFailures').inc({ provider: providers.has(provider) ? provider : 'other', reason: REASON.test(reason) ? reason : 'other' });
  }

  return {
    registry,
    observer: {
      onStart() {
        inFlight.inc();
      },
      onDone({ ctx, status, durationMs }) {
        inFlight.dec();
        const operation = ctx.route?.row.op ?? '_unmatched';
        const decision = ctx.decision?.effect ?? 'none';
        counter('requests').inc({ operation, decision, status_class: `${Math.floor(status / 100)}xx` });
        histogram('requestDuration').observe({ operation }, durationMs / 1000);
        // MLflow answering and the answer sent: forward, plus filter-response where the gateway reads the answer (or pages a search).
        const forwardMs = ctx.stageMs.forward;
        if (forwardMs !== undefined) histogram('upstreamDuration').observe({ operation }, (forwardMs + (ctx.stageMs['filter-response'] ?? 0)) / 1000);
        const decideMs = ctx.stageMs.authorize;
        if (decideMs !== undefined) histogram('decisionDuration').observe({ decision }, decideMs / 1000);
        authFailure(ctx);
        if (ctx.droppedHeaders) {
          // Keys are `<direction>:<class>` from src/upstream/headers.ts: bounded by construction.
          for (const key in ctx.droppedHeaders) {
            const [direction, cls] = key.split(':');
            counter('headersDropped').inc({ direction, class: cls }, ctx.droppedHeaders[key]);
          }
        }
        if (ctx.clientGone) counter('clientAborts').inc({ operation, phase: ctx.clientGone });
        const kind = ctx.errorCode && UPSTREAM_KIND[ctx.errorCode];
        if (kind) counter('upstreamErrors').inc({ kind });
        if (ctx.route) {
          const tenant = ctx.tenant ?? NO_TENANT;
          counter('usageApiCalls').inc({ tenant });
          const usage = usageOf(ctx, status);
          if (usage) counter(usage).inc({ tenant });
        }
      },
    },
    rateLimited(cls, key) {
      counter('rateLimited').inc({ class: cls, key });
    },
    scimRequest(method, resource, status) {
      // `/Users/{id}` → `Users:id`, `/Users/.search` → `Users:search`: label values carry no `/`.
      const label = resource.replace(/^\//, '').replace('/{id}', ':id').replace(/\/?\.search$/, ':search').replace(/^:/, '');
      counter('scimRequests').inc({ method, resource: label, status_class: `${Math.floor(status / 100)}xx` });
    },
    lookup(cache, hit) {
      if (KNOWN_CACHES.has(cache)) counter('cacheLookups').inc({ cache, result: hit ? 'hit' : 'miss' });
    },
    jwksRefresh(provider, ok) {
      counter('jwksRefreshes').inc({ provider: providers.has(provider) ? provider : 'other', outcome: ok ? 'ok' : 'error' });
    },
    jwksKeySkipped(provider, reason) {
      counter('jwksKeysSkipped').inc({ provider: providers.has(provider) ? provider : 'other', reason });
    },
    auditLost(sink, reason, count) {
      counter('auditLost').inc({ sink, reason }, count);
    },
    render: () => registry.metrics(),
  };
}
