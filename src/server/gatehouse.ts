/**
 * The public listener: one node:http server. MLflow traffic goes through the pipeline runner
 * (a hand-written streaming path on undici, DESIGN.md "Facts measured"); Gatehouse's own
 * endpoints (`/_gatehouse/...`, `/healthz`, `/readyz`) are served by Fastify on the same server.
 * MLflow serves nothing under those paths, so nothing there ever reaches MLflow.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import type { Runner } from '../pipeline/runner.ts';
import type { Store } from '../store/store.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { IdentityProvider } from '../identity/principal.ts';

export interface GatehouseServer {
  readonly server: Server;
  readonly app: FastifyInstance;
  listen(): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight requests finish (up to `deadlineMs`), then closes. */
  close(deadlineMs?: number): Promise<void>;
}

export interface ServerDeps {
  readonly config: Readonly<Config>;
  readonly runner: Runner;
  readonly store: Store;
  readonly upstream: Upstream;
  readonly providers: readonly IdentityProvider[];
  readonly log: Logger;
}

export function isGatehousePath(url: string): boolean {
  return url.startsWith('/_gatehouse/') || url === '/healthz' || url.startsWith('/healthz?') || url === '/readyz' || url.startsWith('/readyz?');
}

export async function createGatehouseServer(deps: ServerDeps): Promise<GatehouseServer> {
  const { config, runner } = deps;
  let server!: Server;
  const app = Fastify({
    logger: false,
    serverFactory(fastifyHandler) {
      server = createServer(
        {
          headersTimeout: config.server.headersTimeoutMs,
          requestTimeout: config.server.requestTimeoutMs,
          keepAliveTimeout: config.server.keepAliveTimeoutMs,
          requireHostHeader: true,
        },
        (req: IncomingMessage, res: ServerResponse) => {
          if (isGatehousePath(req.url ?? '')) fastifyHandler(req, res);
          else void runner.handle(req, res);
        },
      );
      return server;
    },
  });
  registerHealth(app, deps);
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
    async close(deadlineMs = 10_000) {
      server.closeIdleConnections();
      const closing = app.close();
      const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
      timer.unref();
      await closing;
      clearTimeout(timer);
    },
  };
}

function registerHealth(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    await Promise.all([
      deps.store.ping().then(
        () => (checks.store = { ok: true }),
        (err: Error) => (checks.store = { ok: false, detail: err.message }),
      ),
      deps.upstream.get('/health').then(
        (r) => (checks.mlflow = r.status === 200 ? { ok: true } : { ok: false, detail: `status ${r.status}` }),
        (err: Error) => (checks.mlflow = { ok: false, detail: err.message }),
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
