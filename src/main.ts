/**
 * The composition root: load nothing global, build every component from the validated config,
 * wire them, start listening. Used by `gatehouse serve` and by the test suites (port 0).
 */
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.ts';
import { bootstrapAdmin, type BootstrapResult } from './identity/bootstrap-admin.ts';
import { buildProvider, localAccountProviders } from './identity/providers.ts';
import { SESSION_PROVIDER_ID, sessionProvider } from './identity/session.ts';
import { createSessionRepository } from './store/sessions.ts';
import { sessionTimeouts } from './web/config.ts';
import { devHeadersProblems } from './identity/dev-headers.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { createRunner, type RequestEvent, type RequestObserver } from './pipeline/runner.ts';
import { createAuditor, type Auditor } from './audit/audit.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createRateLimits } from './ratelimit/limits.ts';
import { createInternalServer } from './metrics/internal-server.ts';
import { buildStages } from './pipeline/stages.ts';
import { compileRoutes } from './routes/mlflow/match.ts';
import { MLFLOW_ROUTES } from './routes/mlflow/table.ts';
import type { RouteRow } from './routes/mlflow/types.ts';
import { createGatehouseServer, type GatehouseServer } from './server/gatehouse.ts';
import { openStore, type Store } from './store/store.ts';
import { createUpstreams } from './upstream/upstreams.ts';
import { loadOwnership } from './policy/ownership.ts';
import { ownershipRepository } from './store/ownership.ts';
import { mergeSources, startPolicyService, type PolicyService } from './policy/service.ts';
import { policyNameWarnings } from './policy/name-warnings.ts';
import { listServiceAccounts } from './store/tokens.ts';
import { policyRepository } from './store/policy.ts';
import { startDeclaredReloader } from './policy/declared-reload.ts';
import { createResolver } from './policy/resolve.ts';
import { connectRedis } from './redis/client.ts';
import { createRedisLimiter } from './redis/limiter.ts';
import { startChangeBus, type Change } from './redis/notify.ts';
import type { IdentityProvider } from './identity/principal.ts';

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** Observes every finished request (tests). */
  readonly onRequest?: (e: RequestEvent) => void;
  /** The route table; default the MLflow table for the pinned version. */
  readonly routes?: readonly RouteRow[];
  /** The clock identity providers use (token expiry, key refetch limits); default `Date.now`. Tests move it. */
  readonly now?: () => number;
  /**
   * The file `config` was loaded from (`gatehouse serve -c`): its policy sections are reloaded on
   * SIGHUP and when it changes (src/policy/declared-reload.ts).
   */
  readonly configFile?: string | undefined;
}

export interface Gatehouse {
  readonly url: string;
  readonly address: AddressInfo;
  readonly store: Store;
  readonly server: GatehouseServer;
  readonly admin: BootstrapResult;
  /** The policy snapshot (config + store), reloaded when the store's policy changes. */
  readonly policy: PolicyService;
  /** The internal listener serving `/metrics`. */
  readonly internalUrl: string;
  readonly metrics: Metrics;
  readonly audit: Auditor;
  /** Drains (src/server/gatehouse.ts `close`), flushes audit, closes everything. */
  close(deadlineMs?: number, delayMs?: number): Promise<void>;
}

export async function startGatehouse(config: Readonly<Config>, options: StartOptions = {}): Promise<Gatehouse> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger(config.log.level);
  warnAboutUnsafeModes(config, log);

  const store = await openStore({
    ...config.store,
    dataDir: config.dataDir,
    onConnectionError: (err) => log.warn({ err: err.message }, 'store connection lost'),
  });
  const local = config.auth.providers.find((p) => p.type === 'local');
  const admin = local ? await bootstrapAdmin(store, env, local.scrypt) : { created: false };
  const sessions = createSessionRepository(store.db, sessionTimeouts(config.auth.browser), options.now ?? Date.now);
  const metrics = createMetrics({
    providers: [...config.auth.providers.map((p) => p.id), SESSION_PROVIDER_ID],
    auditDepths: () => auditor.depths(),
    upstreamPools: () => upstreams.all().map(({ name, upstream }) => ({ upstream: name, stats: upstream.stats() })),
  });
  // Browser sessions come last: explicit credentials (Basic, bearer) win over a cookie.
  const providers = [
    ...config.auth.providers.map((p) => buildProvider(p, { store, log, realm: config.auth.realm, now: options.now ?? Date.now, metrics })),
    sessionProvider({ sessions, publicOrigins: config.server.publicOrigins, log, localProviders: localAccountProviders(config.auth.providers) }),
  ];
  const upstreams = createUpstreams(config);
  const auditor = await createAuditor(config.audit, { store, dataDir: config.dataDir, log, now: Date.now, onLoss: metrics.auditLost });
  const policy = await startPolicyService({ ...config, defaultTenant: config.tenancy.defaultTenant }, policyRepository(store.db), log, { pollMs: 1000 });
  await warnAboutPolicyNames(config, policy, store, log);
  const declaredReloader = options.configFile
    ? startDeclaredReloader({ file: options.configFile, initial: config, env, log, sighup: true, apply: (d) => policy.reloadDeclared(d) })
    : undefined;
  // Redis (optional): shared rate-limit buckets and change notification between replicas (src/redis/).
  const redis = config.redis ? connectRedis(config.redis, log) : undefined;
  if (redis && !(await redis.connected(config.redis!.connectTimeoutMs))) log.warn('redis not reachable at start; rate limits answer as rateLimits.onBackendError says until it is');
  let lastLimitWarning = 0;
  const rateLimits = createRateLimits(config.rateLimits, {
    now: options.now ?? Date.now,
    onReject: metrics.rateLimited,
    ...(redis && {
      limiter: (name, spec) => createRedisLimiter({ ...spec, redis: redis.command, prefix: `${redis.keyPrefix}rl:${name}:`, ...(options.now && { now: options.now }) }),
      onBackendError: (err) => {
        if (Date.now() - lastLimitWarning < 10_000) return;
        lastLimitWarning = Date.now();
        log.warn({ err: err.message }, 'rate-limit back end (redis) failed; requests pass unlimited (rateLimits.onBackendError allow-with-warning)');
      },
    }),
  });
  const onChange = (change: Change) => {
    if (change.kind === 'policy') void policy.reload().catch((err: Error) => log.error({ err: err.message }, 'policy reload failed; keeping the previous snapshot'));
    if (change.kind === 'user') for (const p of providers) p.forgetUser?.(change.name);
  };
  const bus = redis ? await startChangeBus(redis, log, onChange) : undefined;
  // What this process changes, every replica hears of (itself too, harmlessly).
  const reloadPolicy = async () => {
    await policy.reload();
    await bus?.publish({ kind: 'policy' });
  };
  const announcing = bus ? providers.map((p) => announceUserChanges(p, bus.publish)) : providers;
  const resolver = createResolver(upstreams, { ttlMs: 30_000, maxEntries: 100_000, metrics, ...(config.tenancy.mode === 'tag' && { tagKey: config.tenancy.tagKey }) });
  const ownership = await loadOwnership(ownershipRepository(store.db));
  const stages = buildStages({
    config,
    routes: compileRoutes(options.routes ?? MLFLOW_ROUTES),
    providers,
    upstreams,
    policy: policy.snapshot,
    resolver,
    ownership,
    audit: auditor,
    rateLimits,
  });
  const observers: RequestObserver[] = [metrics.observer, auditor.observer];
  if (rateLimits) observers.push(rateLimits.observer);
  if (options.onRequest) observers.push({ onDone: options.onRequest });
  const runner = createRunner(stages, log, { logRequests: config.log.requests, observers });
  const server = await createGatehouseServer({
    config,
    runner,
    store,
    upstreams,
    providers: announcing,
    log,
    sessions,
    rateLimits,
    policy: policy.snapshot,
    reloadPolicy,
    declared: policy.declared,
    readiness: redis && { redis: redis.ping },
  });
  const address = await server.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${config.server.tls ? 'https' : 'http'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
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
    policy,
    internalUrl,
    metrics,
    audit: auditor,
    async close(deadlineMs, delayMs) {
      await server.close(deadlineMs, delayMs);
      await internal.close();
      await auditor.close();
      await bus?.close();
      await redis?.close();
      await Promise.all(providers.map((p) => p.close?.()));
      declaredReloader?.close();
      policy.close();
      await upstreams.close();
      await store.close();
    },
  };
}

/** The provider as it was, except that forgetting a user (it changed) is announced to every replica. */
function announceUserChanges(p: IdentityProvider, publish: (c: Change) => Promise<void>): IdentityProvider {
  const forget = p.forgetUser;
  if (!forget) return p;
  const wrapped = Object.create(p) as IdentityProvider;
  wrapped.forgetUser = (name: string) => {
    forget.call(p, name);
    void publish({ kind: 'user', name });
  };
  return wrapped;
}

/** Names in the policy that no longer mean what they may have meant (src/policy/name-warnings.ts). */
async function warnAboutPolicyNames(config: Readonly<Config>, policy: PolicyService, store: Store, log: Logger): Promise<void> {
  const [stored, users, accounts] = await Promise.all([policyRepository(store.db).load(), store.listUsers(), listServiceAccounts(store.db)]);
  const providers = [...config.auth.providers, ...config.auth.browser.oidc.map((b) => ({ ...b, type: 'oidc' }))];
  const local = { users: new Set(users.map((u) => u.username)), serviceAccounts: new Set(accounts.map((a) => a.name)) };
  for (const warning of policyNameWarnings(mergeSources(policy.declared(), stored), providers, local)) log.warn(warning);
}

function warnAboutUnsafeModes(config: Readonly<Config>, log: Logger): void {
  // Also a configuration error (config/schema.ts); checked again here for configs built in code.
  const devProblem = devHeadersProblems(config.auth.providers, config.server.public.host)[0];
  if (devProblem) throw new Error(`${devProblem.path.join('.')}: ${devProblem.message}`);
  if (config.auth.providers.some((p) => p.type === 'dev-headers')) {
    log.warn(
      `!!! DEVELOPMENT MODE: the dev-headers identity provider believes X-Subject / X-Tenant / X-Groups from ANY client on ${config.server.public.host}. Never use it in production. !!!`,
    );
  }
  if (config.authorization.mode === 'dev-allow-all') {
    log.warn(
      '!!! authorization.mode is dev-allow-all: EVERY authenticated principal may call EVERY exposed MLflow route. Development only. !!!',
    );
  }
}
