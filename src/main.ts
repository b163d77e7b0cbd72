/**
 * The composition root: load nothing global, build every component from the validated config,
 * wire them, start listening. Used by `gatehouse serve` and by the test suites (port 0).
 */
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.ts';
import { bootstrapAdmin, type BootstrapResult } from './identity/bootstrap-admin.ts';
import { buildProvider } from './identity/providers.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { createRunner, type RequestEvent } from './pipeline/runner.ts';
import { buildStages } from './pipeline/stages.ts';
import { compileRoutes } from './routes/mlflow/match.ts';
import { MLFLOW_ROUTES } from './routes/mlflow/table.ts';
import type { RouteRow } from './routes/mlflow/types.ts';
import { createGatehouseServer, type GatehouseServer } from './server/gatehouse.ts';
import { openStore, type Store } from './store/store.ts';
import { createUpstream, type Upstream } from './upstream/upstream.ts';

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** Observes every finished request (tests). */
  readonly onRequest?: (e: RequestEvent) => void;
  /** The route table; default the MLflow table for the pinned version. */
  readonly routes?: readonly RouteRow[];
}

export interface Gatehouse {
  readonly url: string;
  readonly address: AddressInfo;
  readonly store: Store;
  readonly server: GatehouseServer;
  readonly admin: BootstrapResult;
  close(deadlineMs?: number): Promise<void>;
}

export async function startGatehouse(config: Readonly<Config>, options: StartOptions = {}): Promise<Gatehouse> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger(config.log.level);
  warnAboutUnsafeModes(config, log);

  const store = await openStore({ driver: config.store.driver, path: config.store.path, dataDir: config.dataDir });
  const local = config.auth.providers.find((p) => p.type === 'local');
  const admin = local ? await bootstrapAdmin(store, env, local.scrypt) : { created: false };
  const providers = config.auth.providers.map((p) => buildProvider(p, { store, log, realm: config.auth.realm, now: Date.now }));
  const upstream: Upstream = createUpstream(config.mlflow);
  const stages = buildStages({ config, routes: compileRoutes(options.routes ?? MLFLOW_ROUTES), providers, upstream });
  const runner = createRunner(stages, log, { logRequests: config.log.requests, ...(options.onRequest && { onDone: options.onRequest }) });
  const server = await createGatehouseServer({ config, runner, store, upstream, providers, log });
  const address = await server.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  log.info({ url, mlflow: config.mlflow.url, authorization: config.authorization.mode }, 'gatehouse listening');
  return {
    url,
    address,
    store,
    server,
    admin,
    async close(deadlineMs) {
      await server.close(deadlineMs);
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
