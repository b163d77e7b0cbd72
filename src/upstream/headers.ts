/**
 * Which headers cross the gateway: allow-lists both ways (docs/security.md, "Headers", lists
 * them; a test keeps the two equal). A request header reaches MLflow only if MLflow or its
 * clients need it — read from the installed MLflow 3.18 (`handlers.py`, `otel_api.py`,
 * werkzeug's `make_conditional`, the FastAPI artifact router) and from what the stock client
 * and UI send — or if the route's handler reads it (the row's header ids and `requestHeaders`).
 * Everything else is dropped: credentials and identity claims, steering and routing headers
 * (`X-Original-URL`, `Script-Name`, ...), names a WSGI server would fold (`_`, `.`), and
 * whatever a future MLflow, middleware or plugin might start to believe. MLflow's answers pass
 * only the headers describing the answer; nothing that sets state on the gateway's origin
 * (cookies, HSTS, CORS) and nothing naming MLflow's server. Every drop is counted by class
 * (`gatehouse_headers_dropped_total`), never by name or value.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteRow } from '../routes/mlflow/table.ts';

/** Request headers forwarded as the client sent them, on every route. */
export const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'content-type',
  'content-length', // streamed bodies; a buffered JSON body gets the gateway's own count
  'user-agent', // otel_api.export_traces reads it
  'x-mlflow-client-version', // sent by the stock client (default_request_header_provider)
  'traceparent', // W3C trace context (gateway_api reads it)
  'tracestate',
  'range', // artifact downloads: werkzeug make_conditional, Starlette FileResponse
  'if-range',
  'if-match',
  'if-none-match',
  'if-modified-since',
] as const;

/** Request headers MLflow receives with the gateway's value, never the client's (src/pipeline/stages/rewrite-request.ts). */
export const GATEWAY_REQUEST_HEADERS = ['host', 'content-length', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-mlflow-workspace'] as const;

/** Response headers passed back from MLflow: they describe the answer, nothing else. */
export const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-disposition',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control', // on public routes; elsewhere no-store (see below)
  'expires',
  'pragma',
  'vary',
  'date',
  'location',
  'retry-after',
  'allow',
  'x-content-type-options',
  'x-frame-options',
  'content-security-policy',
  'referrer-policy',
  'x-mlflow-gateway-duration-ms', // the AI gateway's timing headers (fastapi_app.py)
  'x-mlflow-gateway-overhead-duration-ms',
] as const;

/** Header name classes: the `class` label of `gatehouse_headers_dropped_total`. */
export const HEADER_CLASSES = ['connection', 'credential', 'identity', 'routing', 'mlflow', 'ambiguous', 'state', 'server', 'other'] as const;
export type HeaderClass = (typeof HEADER_CLASSES)[number];

/**
 * Where drops are counted, by `<direction>:<class>` (`request:identity`); the request context
 * is one (the metrics observer reads it).
 */
export interface HeaderDropSink {
  droppedHeaders?: Record<string, number>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'http2-settings', 'host', 'expect']);
const CREDENTIAL = /^(authorization|cookie|www-authenticate|authentication-info)$|(^|-)(token|key|apikey|secret|password|passwd|credentials?|session|csrf|xsrf|signature|authorization)(-|$)/;
const IDENTITY = /(^|-)(user|users|username|uid|email|mail|group|groups|role|roles|tenant|tenants|subject|principal|identity|account|org|organization|team|scopes?|claims?|impersonate|auth|remote)(-|$)/;
const ROUTING = /^(forwarded|via|origin)$|(^|-)(forwarded|original|rewrite|script|path|uri|url|method|override|host|proto|scheme|port|prefix|real|ip|envoy|proxy)(-|$)/;
const STATE = /^(set-cookie2?|strict-transport-security|clear-site-data|alt-svc|timing-allow-origin|refresh|nel|report-to|reporting-endpoints|expect-ct|service-worker-allowed|origin-agent-cluster)$|^(access-control|public-key-pins|cross-origin)-/;
const SERVER = /^(server|x-powered-by|x-runtime|x-version|x-served-by|x-backend-server)$|^x-(aspnet|aspnetmvc|generator|debug)/;

type Direction = 'request' | 'response';

function classify(name: string, direction: Direction): HeaderClass {
  if (HOP_BY_HOP.has(name)) return 'connection';
  if (name.includes('_') || name.includes('.')) return 'ambiguous';
  if (direction === 'response' && STATE.test(name)) return 'state';
  if (CREDENTIAL.test(name)) return 'credential';
  if (name.startsWith('x-mlflow-')) return 'mlflow';
  if (direction === 'response') return SERVER.test(name) ? 'server' : 'other';
  if (IDENTITY.test(name)) return 'identity';
  if (ROUTING.test(name)) return 'routing';
  return 'other';
}

/** Classes of the names seen so far, by direction: the same few names recur on every request. Bounded. */
const CLASS_CACHE = { request: new Map<string, HeaderClass>(), response: new Map<string, HeaderClass>() };
const CLASS_CACHE_MAX = 1024;

function classOf(name: string, direction: Direction, listed: ReadonlySet<string>): HeaderClass {
  if (listed.has(name)) return 'connection';
  const cache = CLASS_CACHE[direction];
  let cls = cache.get(name);
  if (cls === undefined) {
    cls = classify(name, direction);
    if (cache.size < CLASS_CACHE_MAX) cache.set(name, cls);
  }
  return cls;
}

/** The sink keys, `<direction>:<class>`, made once. */
const KEYS = {
  request: Object.fromEntries(HEADER_CLASSES.map((c) => [c, `request:${c}`])) as Record<HeaderClass, string>,
  response: Object.fromEntries(HEADER_CLASSES.map((c) => [c, `response:${c}`])) as Record<HeaderClass, string>,
};

function count(sink: HeaderDropSink | undefined, direction: Direction, cls: HeaderClass): void {
  if (!sink) return;
  const key = KEYS[direction][cls];
  const drops = (sink.droppedHeaders ??= {});
  drops[key] = (drops[key] ?? 0) + 1;
}

const NONE: ReadonlySet<string> = new Set();

/** The names listed in a `Connection` header: hop-by-hop for this message only (RFC 9110 §7.6.1). */
function connectionListed(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return NONE;
  return new Set(String(value).split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

const COMMON_REQUEST: ReadonlySet<string> = new Set(FORWARDED_REQUEST_HEADERS);
const perRoute = new WeakMap<RouteRow, ReadonlySet<string>>();

/** The headers a route's handler reads beyond the common list: its header ids and the row's `requestHeaders`. */
function routeExtras(row: RouteRow): string[] {
  const ids = (row.resources ?? []).flatMap((r) => r.ids.filter((s) => s.in === 'header').map((s) => s.field.toLowerCase()));
  return [...new Set([...ids, ...(row.requestHeaders ?? []).map((h) => h.toLowerCase())])];
}

/** The request headers forwarded on this route (computed once per row). */
export function requestHeadersFor(row: RouteRow): ReadonlySet<string> {
  let set = perRoute.get(row);
  if (!set) {
    const extras = routeExtras(row);
    perRoute.set(row, (set = extras.length === 0 ? COMMON_REQUEST : new Set([...COMMON_REQUEST, ...extras])));
  }
  return set;
}

/** The rows that forward more than the common list, and what (docs/security.md lists them). */
export function routeRequestHeaders(rows: readonly RouteRow[]): Array<{ op: string; headers: string[] }> {
  return rows.flatMap((row) => {
    const headers = routeExtras(row);
    return headers.length === 0 ? [] : [{ op: row.op, headers }];
  });
}

/** The normalized `consumed` names, computed once per list (the rewrite stage passes the same array every time). */
const consumedSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function consumedSet(consumed: readonly string[]): ReadonlySet<string> {
  let set = consumedSets.get(consumed);
  if (!set) consumedSets.set(consumed, (set = new Set(consumed.map((n) => n.toLowerCase()))));
  return set;
}

/**
 * The client's headers MLflow may see: those in `allowed`, minus any named in `Connection` and
 * the identity headers the configured providers read (`consumed`). The rewrite stage adds the
 * gateway's own (GATEWAY_REQUEST_HEADERS).
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>, consumed: readonly string[] = [], sink?: HeaderDropSink): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection);
  const identity = consumed.length === 0 ? NONE : consumedSet(consumed);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    // Node lower-cases incoming names.
    if (allowed.has(name) && !listed.has(name) && !identity.has(name)) out[name] = value;
    else count(sink, 'request', identity.has(name) ? 'identity' : classOf(name, 'request', listed));
  }
  return out;
}

export interface AnswerHeaderOptions {
  /**
   * MLflow's caching headers stand (public routes: static UI assets, the health probe).
   * Otherwise the answer is `Cache-Control: no-store` and `Pragma: no-cache`, unless MLflow's own
   * Cache-Control already says `no-store`.
   */
  readonly cacheable: boolean;
}

/** The caching headers of an answer to an authenticated call, whoever wrote it (MLflow, the gateway). */
export const NO_STORE: Readonly<Record<string, string>> = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** MLflow's response headers the client may see (FORWARDED_RESPONSE_HEADERS), with the caching rule applied. */
export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>, options: AnswerHeaderOptions, sink?: HeaderDropSink): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (FORWARDED_RESPONSE.has(lower) && !listed.has(lower)) out[lower] = value;
    else count(sink, 'response', classOf(lower, 'response', listed));
  }
  if (options.cacheable) return out;
  const mlflows = out['cache-control'];
  delete out.expires;
  if (mlflows === undefined || !/(^|[\s,])no-store([\s,]|$)/i.test(String(mlflows))) out['cache-control'] = NO_STORE['cache-control']!;
  out.pragma = NO_STORE.pragma!;
  return out;
}

const FORWARDED_RESPONSE: ReadonlySet<string> = new Set(FORWARDED_RESPONSE_HEADERS);
