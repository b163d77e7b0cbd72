/**
 * The one configuration schema. Validated once, completely, before anything listens; every
 * problem is reported with its dotted path; the result is frozen. `docs/config.md` is generated
 * from this file (`scripts/gen-docs.ts`), so every option's description and default live here.
 */
import { z } from 'zod';
import { providerIdProblems, providerSchema } from '../identity/providers.ts';
import { devHeadersProblems } from '../identity/dev-headers.ts';
import { policySchemaFields } from '../policy/config.ts';
import { referenceProblems } from '../policy/snapshot.ts';
import { tenancyMode } from '../tenancy/index.ts';
import { auditSchema } from '../audit/schema.ts';
import { rateLimitsSchema } from '../ratelimit/schema.ts';
import { browserSchema } from '../web/config.ts';
import { tlsSchema } from '../server/tls.ts';
import { storeSchema } from '../store/config.ts';
import { redisSchema } from '../redis/config.ts';
import { scimProblems, scimSchema } from '../scim/config.ts';
import { approvalsSchema } from '../approvals/config.ts';
import { tracingSchema } from '../tracing/config.ts';

const port = z.number().int().min(0).max(65535);
const ms = (d: number, what: string) => z.number().int().min(0).default(d).describe(`${what} (milliseconds).`);

const listener = (host: string, portDefault: number, what: string) =>
  z
    .strictObject({
      host: z.string().min(1).default(host).describe(`Address the ${what} listener binds to.`),
      port: port.default(portDefault).describe(`Port of the ${what} listener (0 picks a free port).`),
    })
    .prefault({});

const url = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname.replace(/\/+$/, '') === '' && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL with no path, query or fragment (MLflow served at a sub-path is not supported)');

export const serverSchema = z
  .strictObject({
    public: listener('0.0.0.0', 8080, 'public (MLflow traffic, login, admin API)'),
    internal: listener('127.0.0.1', 9090, 'internal (`/metrics` for Prometheus; keep it off the public network)'),
    maxJsonBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024)
      .describe('Largest JSON request body buffered for inspection; larger ones get 413. Streamed bodies (artifacts, OTLP) have no limit.'),
    maxJsonDepth: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(64)
      .describe('Most arrays and objects nested in one another in a buffered JSON request body; deeper ones get 413. MLflow\'s request messages nest a handful of levels (start-trace\'s `trace.trace_info.trace_location.mlflow_experiment.experiment_id` is the deepest field the gateway reads). At most 1000: some bodies are re-serialised.'),
    maxJsonElements: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Most elements in one array, or members in one object, of a buffered JSON request body; more get 413. MLflow takes at most 1000 metrics, params and tags in one log-batch call (`MAX_ENTITIES_PER_BATCH`) and its client splits larger batches.'),
    jsonBodyTimeoutMs: ms(30_000, 'Time a client has to send a whole buffered JSON body (MLflow API and Gatehouse\'s own endpoints), counted from when the gateway starts reading it; a slower one gets 408 (or, on Gatehouse\'s own endpoints, a closed connection). 0 disables it'),
    clientIdleTimeoutMs: ms(60_000, 'Longest a client may keep the gateway waiting: no byte of a request body it is sending (streamed artifact and OTLP uploads included), or none of its answer taken while more is waiting to be written. The connection is then closed and MLflow\'s side of the exchange aborted. A pause the gateway or MLflow causes (backpressure, MLflow still computing) does not count. 0 disables it'),
    maxHeaderBytes: z
      .number()
      .int()
      .min(8192)
      .max(256 * 1024)
      .default(32 * 1024)
      .describe(
        'Largest request head (request line and all headers together) accepted; a larger one gets 431 GATEHOUSE_REQUEST_HEADERS_TOO_LARGE before anything else runs. Node\'s own default is 16 KiB, which a bearer token with many groups can exceed on its own (docs/identity.md, "Token size and lifetime").',
      ),
    headersTimeoutMs: ms(30_000, 'Time a client has to send the request headers'),
    requestTimeoutMs: ms(0, 'Time a client has to send a whole request; 0 disables it so multi-GiB artifact uploads are not cut'),
    keepAliveTimeoutMs: ms(5_000, 'Idle time before a client keep-alive connection is closed'),
    timeoutCheckIntervalMs: z
      .number()
      .int()
      .min(10)
      .default(1_000)
      .describe('How often the listener checks `headersTimeoutMs` and `requestTimeoutMs` (Node\'s `connectionsCheckingInterval`): a client is cut at most this long after its deadline (milliseconds).'),
    drainDelayMs: ms(0, 'On SIGTERM: how long to keep accepting (answering `/readyz` with 503 draining, every response with `Connection: close`) before the listener closes, so load balancers polling readiness stop sending first. Set it to at least the balancer\'s readiness poll period'),
    drainTimeoutMs: ms(30_000, 'On SIGTERM: how long in-flight requests (artifact streams included) may take to finish once `/readyz` reports draining and no new connections are accepted; the rest are then cut'),
    trustedProxies: z
      .array(z.string())
      .default([])
      .describe('Peer addresses (exact IPs) whose X-Request-ID the gateway keeps. Everyone else gets a fresh request id.'),
    tls: tlsSchema,
    publicOrigins: z
      .array(z.string())
      .default([])
      .describe('Origins (scheme://host[:port]) besides the request\'s own Host that may send state-changing browser requests.'),
    graphql: z
      .strictObject({
        maxDepth: z.number().int().min(1).default(12).describe('Deepest field nesting a `/graphql` request may have (fragments expanded); deeper ones get 400.'),
        maxFields: z.number().int().min(1).default(200).describe('Most field selections a `/graphql` request may make, counted with fragments expanded; more get 400.'),
      })
      .prefault({})
      .describe('Limits on GraphQL requests, checked before anything is looked up or forwarded.'),
  })
  .prefault({});

export const mlflowSchema = z
  .strictObject({
    url: url.default('http://127.0.0.1:5000').describe('Base URL of the MLflow tracking server. Bind MLflow to loopback or a cluster-internal address so only Gatehouse reaches it.'),
    connections: z.number().int().min(1).default(128).describe('Keep-alive connections in the upstream pool.'),
    connectTimeoutMs: ms(5_000, 'Time to open a connection to MLflow'),
    headersTimeoutMs: ms(120_000, 'Time MLflow has to send response headers'),
    bodyTimeoutMs: ms(300_000, 'Longest silence between two chunks of a response body from MLflow'),
  })
  .prefault({});

// The store owns its section (SQLite or PostgreSQL options): src/store/config.ts.
export { storeSchema };

export const authSchema = z
  .strictObject({
    providers: z
      .array(providerSchema)
      .min(1)
      .default([
        { type: 'token', id: 'token', lastUsedIntervalMs: 60_000 },
        { type: 'local', id: 'local', scrypt: { cost: 32768, blockSize: 8, parallelization: 1 }, cacheTtlMs: 60_000 },
      ])
      .describe('Identity providers, tried in order; the first that recognises the credentials decides. The default accepts API tokens and local users\' passwords; without a `token` provider no token is minted.'),
    realm: z.string().default('gatehouse').describe('Realm in the WWW-Authenticate challenge.'),
    browser: browserSchema,
  })
  .prefault({});

export const authorizationSchema = z
  .strictObject({
    mode: z
      .enum(['policy', 'dev-allow-all'])
      .default('policy')
      .describe('`policy`: the policy engine decides (tenants, roles, bindings; default deny). `dev-allow-all`: every authenticated principal may call every exposed route — for local development only; logged loudly at every start.'),
  })
  .prefault({});

export const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level.'),
    requests: z.boolean().default(true).describe('Log one line per proxied request (method, operation, status, latency; never credentials).'),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    dataDir: z.string().default('./.data').describe('Directory for the embedded store and other local state.'),
    server: serverSchema,
    mlflow: mlflowSchema,
    store: storeSchema,
    auth: authSchema,
    authorization: authorizationSchema,
    ...policySchemaFields,
    log: logSchema,
    audit: auditSchema,
    rateLimits: rateLimitsSchema,
    redis: redisSchema,
    scim: scimSchema,
    approvals: approvalsSchema,
    tracing: tracingSchema,
  })
  .superRefine((c, ctx) => {
    for (const p of referenceProblems({ ...c, defaultTenant: c.tenancy.defaultTenant })) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    for (const p of tenancyMode(c.tenancy).tenantProblems(c.tenants)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    for (const p of devHeadersProblems(c.auth.providers, c.server.public.host)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    for (const p of providerIdProblems(c.auth.providers, c.auth.browser.oidc, c.auth.browser.saml)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    for (const p of scimProblems(c.scim, c.auth)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    // A held call is decided again by the engine before it executes; dev-allow-all has no engine decision to keep.
    if (c.approvals.rules.length > 0 && c.authorization.mode !== 'policy') ctx.addIssue({ code: 'custom', path: ['approvals', 'rules'], message: 'approval rules need authorization.mode policy' });
    c.auth.providers.forEach((p, i) => {
      if (p.type === 'mtls' && (c.server.tls?.clientCertificates ?? 'none') === 'none') {
        ctx.addIssue({ code: 'custom', path: ['auth', 'providers', i], message: 'an mtls provider needs server.tls with clientCertificates request or require' });
      }
    });
  });

export type Config = z.infer<typeof configSchema>;
