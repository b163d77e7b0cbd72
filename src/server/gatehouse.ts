/**
 * The public listener: one node:http server. MLflow traffic goes through the pipeline runner
 * (a hand-written streaming path on undici, docs/design.md "Facts measured"); Gatehouse's own
 * endpoints (`/_gatehouse/...`, `/healthz`, `/readyz`) are served by Fastify on the same server.
 * MLflow serves nothing under those paths, so nothing there ever reaches MLflow.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from '../lib/http-server.ts';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { headerOverflowAnswer } from '../http/error-response.ts';
import Fastify, { type FastifyInstance, type FastifySchemaCompiler, type FastifySerializerCompiler, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import type { Runner } from '../pipeline/runner.ts';
import type { Store } from '../store/store.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import type { AuthResult, IdentityProvider } from '../identity/principal.ts';
import type { SessionRepository } from '../store/sessions.ts';
import { registerLogin } from '../web/login.ts';
import { samlReplayCache } from '../store/saml-replay.ts';
import { registerUsage } from '../admin/usage.ts';
import { isMlflowAuthCompatRequest, registerMlflowAuthCompat } from '../compat/mlflow-auth.ts';
import { registerAdminApi } from '../admin/api.ts';
import { registerScim } from '../scim/http.ts';
import { scimObserver } from '../scim/health.ts';
import { registerConsole } from '../web/console.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { Services } from '../services/index.ts';
import { tlsServerOptions } from './tls.ts';
import { guardClient } from './slow-clients.ts';
import { markCut } from '../lib/connection-cuts.ts';

export interface GatehouseServer {
  readonly server: Server;
  readonly app: FastifyInstance;
  listen(): Promise<AddressInfo>;
  /**
   * Graceful drain: `/readyz` turns 503 `draining` and every response carries `Connection:
   * close` at once; after `delayMs` the listener stops accepting and idle connections close;
   * in-flight requests (streams included) finish up to `deadlineMs`, then are cut.
   */
  close(deadlineMs?: number, delayMs?: number): Promise<void>;
  /** True once `close` was called. */
  readonly draining: boolean;
}

export interface ServerDeps {
  readonly config: Readonly<Config>;
  readonly runner: Runner;
  readonly store: Store;
  readonly upstreams: Upstreams;
  readonly providers: readonly IdentityProvider[];
  /** The link rule the providers apply on every request (src/identity/link.ts); the browser login applies it before opening a session. */
  readonly link: (result: AuthResult) => Promise<AuthResult>;
  readonly log: Logger;
  /** Browser sessions (login page, session cookie). */
  readonly sessions: SessionRepository;
  /** Rate limits and brute-force lockouts (absent when disabled). */
  readonly rateLimits?: RateLimits | undefined;
  /** The policy in force (admin API authorization). */
  readonly policy: () => PolicySnapshot;
  /** The control plane's services: the admin API, console, compat API and login page change things only through them. */
  readonly services: Services;
  /** The gateway's clock (SAML conditions and replay cache); default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Counts the SCIM door's answers (`gatehouse_scim_requests_total`); absent in tests that need no metrics. */
  readonly scimMetrics?: ((method: string, resource: string, status: number) => void) | undefined;
  /** Shared back ends besides the store and MLflow (Redis), each a readiness check. */
  readonly readiness?: Readonly<Record<string, () => Promise<void>>> | undefined;
}

export function isGatehousePath(url: string): boolean {
  return url.startsWith('/_gatehouse/') || url === '/healthz' || url.startsWith('/healthz?') || url === '/readyz' || url.startsWith('/readyz?');
}

const noRouteSchemas: FastifySchemaCompiler<unknown> & FastifySerializerCompiler<unknown> = ({ method, url }) => {
  throw new Error(`${method} ${url} declares a Fastify route schema; Gatehouse routes validate their input with zod`);
};
// Fastify calls each factory for a compiler that it then calls with a route's schema definition
// (fastify/lib/schema-controller.js); its type declarations describe ajv's compile function instead.
export const REFUSE_ROUTE_SCHEMAS = { compilersFactory: { buildValidator: () => noRouteSchemas, buildSerializer: () => noRouteSchemas } } as unknown as NonNullable<FastifyServerOptions['schemaController']>;

export async function createGatehouseServer(deps: ServerDeps): Promise<GatehouseServer> {
  const { config, runner } = deps;
  let server!: Server;
  let draining = false;
  const open = new Set<Socket>();
  const app = Fastify({
    logger: false,
    // Gatehouse's own routes validate with zod (src/admin/), never with Fastify's JSON-schema
    // compilers. These stand-ins refuse any route schema (such a route fails the start, loudly)
    // and spare every start the 40 ms of loading ajv and fast-json-stringify (docs/performance.md).
    schemaController: REFUSE_ROUTE_SCHEMAS,
    serverFactory(fastifyHandler) {
      const options = {
        maxHeaderSize: config.server.maxHeaderBytes,
        headersTimeout: config.server.headersTimeoutMs,
        requestTimeout: config.server.requestTimeoutMs,
        keepAliveTimeout: config.server.keepAliveTimeoutMs,
        connectionsCheckingInterval: config.server.timeoutCheckIntervalMs,
        requireHostHeader: true,
      };
      const idleMs = config.server.clientIdleTimeoutMs;
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        // Draining: answer, then close the connection, so a keep-alive client reconnects elsewhere instead of meeting a reset.
        if (draining) res.setHeader('connection', 'close');
        // MLflow's auth-app user/permission endpoints: an exact method+path list, disjoint from the MLflow route table.
        if (isGatehousePath(req.url ?? '') || isMlflowAuthCompatRequest(req.method, req.url ?? '')) {
          // Fastify buffers these bodies; the MLflow API's JSON bodies get their 408 from the read-body stage.
          guardClient(req, res, { idleMs, bodyMs: config.server.jsonBodyTimeoutMs });
          fastifyHandler(req, res);
        } else {
          guardClient(req, res, { idleMs, bodyMs: 0 });
          void runner.handle(req, res);
        }
      };
      if (config.server.tls) {
        // An https.Server has the same request/connection API as an http.Server.
        server = createHttpsServer({ ...options, ...tlsServerOptions(config.server.tls) }, handler) as unknown as Server;
        // The peer certificate is read per request: renegotiation must not swap it mid-connection.
        server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
      } else server = createServer(options, handler);
      answerHeaderOverflow(server);
      // The connections a drain's deadline may have to cut (the sockets requests see: TLS ones once secured).
      server.on(config.server.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
        open.add(socket);
        socket.once('close', () => open.delete(socket));
      });
      return server;
    },
  });
  registerHealth(app, deps, () => draining);
  registerLogin(app, { browser: config.auth.browser, publicOrigins: config.server.publicOrigins, providers: deps.providers, sessions: deps.sessions, log: deps.log, rateLimits: deps.rateLimits, audit: deps.services.sessions, now: deps.now ?? Date.now, firstUse: samlReplayCache(deps.store.db, deps.now ?? Date.now).firstUse, link: deps.link });
  registerUsage(app, { providers: deps.providers, store: deps.store, policy: deps.policy, rateLimits: deps.rateLimits });
  registerMlflowAuthCompat(app, { providers: deps.providers, store: deps.store, policy: deps.policy, rateLimits: deps.rateLimits, services: deps.services });
  registerAdminApi(app, { config, providers: deps.providers, store: deps.store, upstreams: deps.upstreams, policy: deps.policy, services: deps.services, rateLimits: deps.rateLimits, log: deps.log });
  registerConsole(app, { providers: deps.providers, rateLimits: deps.rateLimits });
  const now = deps.now ?? Date.now;
  const scimCounted = deps.scimMetrics && ((a: { method: string; resource: string; status: number }) => deps.scimMetrics!(a.method, a.resource, a.status));
  registerScim(app, { config: config.scim, services: deps.services, store: deps.store, log: deps.log, now, rateLimits: deps.rateLimits, observer: scimObserver(deps.store, now, scimCounted) });
  await app.ready();
  return {
    get server() {
      return server;
    },
    app,
    async listen() {
      await app.listen({ host: config.server.public.host, port: config.server.public.port });
      return server.address() as AddressInfo;
    },
    get draining() {
      return draining;
    },
    async close(deadlineMs = 10_000, delayMs = 0) {
      draining = true;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      server.closeIdleConnections();
      const closing = app.close();
      // A connection whose request was in flight when the drain began becomes idle later: close it then.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      // At the deadline, what is still in flight is cut: audited as the drain's cut, not as clients that left.
      const timer = setTimeout(() => {
        for (const socket of open) markCut(socket, 'drain');
        server.closeAllConnections();
      }, deadlineMs);
      timer.unref();
      await closing;
      clearInterval(sweep);
      clearTimeout(timer);
    },
  };
}

/**
 * Node's parser refuses a request head over `maxHeaderSize` before any handler runs; answer it
 * in MLflow's error shape (431, the registry's code) rather than Fastify's default body. Fastify's
 * own `clientError` listener, added after this one, leaves a destroyed socket alone.
 */
function answerHeaderOverflow(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code !== 'HPE_HEADER_OVERFLOW' || socket.destroyed) return;
    if (socket.writable) socket.write(headerOverflowAnswer());
    socket.destroy();
  });
}

function registerHealth(app: FastifyInstance, deps: ServerDeps, draining: () => boolean): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    // Draining first: a load balancer must stop sending here whatever the back ends say.
    if (draining()) return reply.code(503).send({ status: 'draining', checks: {} });
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    await Promise.all([
      ...Object.entries(deps.readiness ?? {}).map(([name, check]) =>
        check().then(
          () => (checks[name] = { ok: true }),
          (err: Error) => (checks[name] = { ok: false, detail: err.message }),
        ),
      ),
      deps.store.ping().then(
        () => (checks.store = { ok: true }),
        (err: Error) => (checks.store = { ok: false, detail: err.message }),
      ),
      ...deps.upstreams.all().map(({ name, upstream }) =>
        upstream.get('/health').then(
          (r) => (checks[name] = r.status === 200 ? { ok: true } : { ok: false, detail: `status ${r.status}` }),
          (err: Error) => (checks[name] = { ok: false, detail: err.message }),
        ),
      ),
      ...deps.providers.map(async (p) => {
        if (!p.ready) return;
        checks[`identity:${p.id}`] = await p.ready().catch((err: Error) => ({ ok: false, detail: err.message }));
      }),
    ]);
    const ok = Object.values(checks).every((c) => c.ok);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', checks });
  });
}
