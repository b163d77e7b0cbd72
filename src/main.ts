/**
 * The composition root: load nothing global, build every component from the validated config,
 * wire them, start listening. Used by `gatehouse serve` and by the test suites (port 0).
 */
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.ts';
import { bootstrapAdmin, type BootstrapResult } from './identity/bootstrap-admin.ts';
import { buildProvider } from './identity/providers.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { createRunner, type RequestEvent, type RequestObserver } from './pipeline/runner.ts';
import { createAuditor, type Auditor } from './audit/audit.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createInternalServer } from './metrics/internal-server.ts';
import { buildStages } from './pipeline/stages.ts';
import { compileRoutes } from './routes/mlflow/match.ts';
import { MLFLOW_ROUTES } from './routes/mlflow/table.ts';
import type { RouteRow } from './routes/mlflow/types.ts';
import { createGatehouseServer, type GatehouseServer } from './server/gatehouse.ts';
import { openStore, type Store } from './store/store.ts';
import { createUpstream, type Upstream } from './upstream/upstream.ts';
import { serverInfoProbe } from './upstream/server-info.ts';
import { buildSnapshot } from './policy/snapshot.ts';
import { createResolver } from './policy/resolve.ts';

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** Observes every finished request (tests). */
  readonly onRequest?: (e: RequestEvent) => void;
  /** The route table; default the MLflow table for the pinned version. */
  readonly routes?: readonly RouteRow[];
  /** The clock identity providers use (token expiry, key refetch limits); default `Date.now`. Tests move it. */
  readonly now?: () => number;
}

export interface Gatehouse {
  readonly url: string;
  readonly address: AddressInfo;
  readonly store: Store;
  readonly server: GatehouseServer;
  readonly admin: BootstrapResult;
  /** The internal listener serving `/metrics`. */
  readonly internalUrl: string;
  readonly metrics: Metrics;
  readonly audit: Auditor;
  close(deadlineMs?: number): Promise<void>;
}

export async function startGatehouse(config: Readonly<Config>, options: StartOptions = {}): Promise<Gatehouse> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger(config.log.level);
  warnAboutUnsafeModes(config, log);

  const store = await openStore({ driver: config.store.driver, path: config.store.path, dataDir: config.dataDir });
  const local = config.auth.providers.find((p) => p.type === 'local');
  const admin = local ? await bootstrapAdmin(store, env, local.scrypt) : { created: false };
  const providers = config.auth.providers.map((p) => buildProvider(p, { store, log, realm: config.auth.realm, now: options.now ?? Date.now }));
  const upstream: Upstream = createUpstream(config.mlflow);
  const metrics = createMetrics({ providers: providers.map((p) => p.id), auditDepths: () => auditor.depths() });
  const auditor = await createAuditor(config.audit, { store, dataDir: config.dataDir, log, now: Date.now, onLoss: metrics.auditLost });
  const serverInfo = serverInfoProbe(upstream);
  const snapshot = buildSnapshot({ ...config, defaultTenant: config.tenancy.defaultTenant });
  const resolver = createResolver(upstream, { ttlMs: 30_000, maxEntries: 100_000, workspaces: async () => (await serverInfo()).workspacesEnabled });
  const stages = buildStages({
    config,
    routes: compileRoutes(options.routes ?? MLFLOW_ROUTES),
    providers,
    upstream,
    policy: () => snapshot,
    resolver,
    serverInfo,
    audit: auditor,
  });
  const observers: RequestObserver[] = [metrics.observer, auditor.observer];
  if (options.onRequest) observers.push({ onDone: options.onRequest });
  const runner = createRunner(stages, log, { logRequests: config.log.requests, observers });
  const server = await createGatehouseServer({ config, runner, store, upstream, providers, log });
  const address = await server.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  const internal = createInternalServer(metrics);
  const internalAddress = await internal.listen(config.server.internal.host, config.server.internal.port);
  const internalUrl = `http://${internalAddress.family === 'IPv6' ? `[${internalAddress.address}]` : internalAddress.address}:${internalAddress.port}`;
  log.info({ url, internalUrl, mlflow: config.mlflow.url, authorization: config.authorization.mode }, 'gatehouse listening');
  return {
    url,
    address,
    store,
    server,
    admin,
    internalUrl,
    metrics,
    audit: auditor,
    async close(deadlineMs) {
      await server.close(deadlineMs);
      await internal.close();
      await auditor.close();
      await Promise.all(providers.map((p) => p.close?.()));
      await upstream.close();
      await store.close();
    },
  };
}

function warnAboutUnsafeModes(config: Readonly<Config>, log: Logger): void {
  if (config.authorization.mode === 'dev-allow-all') {
    log.warn(
      '!!! authorization.mode is dev-allow-all: EVERY authenticated principal may call EVERY exposed MLflow route. Development only. !!!',
    );
  }
}
