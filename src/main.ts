/**
 * The composition root: load nothing global, build every component from the validated config,
 * wire them, start listening. Used by `gatehouse serve` and by the test suites (port 0).
 */
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.ts';
import { linkBySubject, linkingProvider, linkModes, principalLinker } from './identity/link.ts';
import { provisionedOnly, scimLinkOf } from './scim/config.ts';
import { bootstrapAdmin, type BootstrapResult } from './identity/bootstrap-admin.ts';
import { buildProvider, localAccountProviders } from './identity/providers.ts';
import { SESSION_PROVIDER_ID, sessionProvider } from './identity/session.ts';
import { createSessionRepository } from './store/sessions.ts';
import { sessionTimeouts } from './web/config.ts';
import { devHeadersProblems } from './identity/dev-headers.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { loadTracing } from './tracing/index.ts';
import { createRunner, type RequestEvent, type RequestObserver } from './pipeline/runner.ts';
import { createAuditor, type Auditor } from './audit/audit.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createRateLimits } from './ratelimit/limits.ts';
import { createInternalServer } from './metrics/internal-server.ts';
import { buildStages } from './pipeline/stages.ts';
import { compileRoutes } from './routes/mlflow/match.ts';
import { MLFLOW_ROUTES } from './routes/mlflow/table.ts';
import type { RouteRow } from './routes/mlflow/table.ts';
import { createGatehouseServer, type GatehouseServer } from './server/gatehouse.ts';
import { openStore, type Store } from './store/store.ts';
import { tenancyMode } from './tenancy/index.ts';
import { createOwnershipIndex } from './policy/ownership.ts';
import { ownershipRepository } from './store/ownership.ts';
import { createPolicyService, mergeSources, type PolicyService } from './policy/service.ts';
import { policyNameWarnings } from './policy/name-warnings.ts';
import { listServiceAccounts } from './store/tokens.ts';
import { policyRepository } from './store/policy.ts';
import { startDeclaredReloader } from './policy/declared-reload.ts';
import { createResolver } from './policy/resolve.ts';
import { createdRecorder } from './pipeline/created.ts';
import { connectRedis } from './redis/client.ts';
import { createRedisLimiter } from './redis/limiter.ts';
import { startChangeBus, type Change } from './redis/notify.ts';
import type { IdentityProvider } from './identity/principal.ts';
import { whenStoreReady } from './store/when-ready.ts';
import { startJournalDrain } from './audit/journal.ts';
import { createServices, type Services } from './services/index.ts';
import { CONFIG_ACTOR, providerIdsOf } from './services/context.ts';
import { applyDeclared } from './services/declared.ts';
import { recordBootstrapAdmin } from './services/users.ts';
import { mlflowWorkspaces } from './services/workspaces.ts';
import { upstreamSend } from './services/approvals.ts';
import { listenOrExplain } from './server/listen-error.ts';

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** Observes every finished request (tests). */
  readonly onRequest?: (e: RequestEvent) => void;
  /** The route table; default the MLflow table for the pinned version. */
  readonly routes?: readonly RouteRow[];
  /**
   * The gateway's one clock (token and session expiry, key refetch limits, audit event times and
   * file rotation, the store's timestamps, the resolver's cache); default `Date.now`. Tests move it.
   */
  readonly now?: () => number;
  /**
   * The file `config` was loaded from (`gatehouse serve -c`): its policy sections are reloaded on
   * SIGHUP and when it changes (src/policy/declared-reload.ts).
   */
  readonly configFile?: string | undefined;
  /**
   * Told when the first administrator was created (`gatehouse serve` shows it once): during the
   * start, or later when the store was down at start and came back.
   */
  readonly onBootstrap?: (admin: BootstrapResult) => void;
}

export interface Gatehouse {
  readonly url: string;
  readonly address: AddressInfo;
  readonly store: Store;
  readonly server: GatehouseServer;
  /** The policy snapshot (config + store), reloaded when the store's policy changes. */
  readonly policy: PolicyService;
  /** The internal listener serving `/metrics`. */
  readonly internalUrl: string;
  readonly metrics: Metrics;
  readonly audit: Auditor;
  /** The control plane's services (every door calls them). */
  readonly services: Services;
  /** Drains (src/server/gatehouse.ts `close`), flushes audit, closes everything. */
  close(deadlineMs?: number, delayMs?: number): Promise<void>;
}

export async function startGatehouse(config: Readonly<Config>, options: StartOptions = {}): Promise<Gatehouse> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const log = options.log ?? createLogger(config.log.level);
  warnAboutUnsafeModes(config, log);

  let lastStoreWarning = -Infinity;
  // A gateway starts while PostgreSQL is down: not ready, 503 for what needs the store, ready once it is back.
  const store = await openStore({
    ...config.store,
    dataDir: config.dataDir,
    startWhileDown: true,
    onConnectionError: (err) => log.warn({ err: err.message }, 'store connection lost'),
    now: () => new Date(now()),
    onNotReady: (err) => {
      if (now() - lastStoreWarning < 10_000) return;
      lastStoreWarning = now();
      log.warn({ err: err.message }, 'store not reachable: not ready, retrying; requests that need it get 503');
    },
  });
  const local = config.auth.providers.find((p) => p.type === 'local');
  const sessions = createSessionRepository(store.db, sessionTimeouts(config.auth.browser), now);
  const metrics = createMetrics({
    providers: [...config.auth.providers.map((p) => p.id), SESSION_PROVIDER_ID],
    auditDepths: () => auditor.depths(),
    upstreamPools: () => upstreams.all().map(({ name, upstream }) => ({ upstream: name, stats: upstream.stats() })),
  });
  const linkDeps = { store, log, linking: linkModes(config.auth), required: provisionedOnly(config.scim) };
  // Browser sessions come last: explicit credentials (Basic, bearer) win over a cookie.
  const providers = [
    ...config.auth.providers.map((p) => buildProvider(p, { store, log, realm: config.auth.realm, now, metrics })),
    sessionProvider({ sessions, publicOrigins: config.server.publicOrigins, log, localProviders: localAccountProviders(config.auth.providers) }),
  ].map((p) => linkingProvider(p, linkDeps));
  const tenancy = tenancyMode(config.tenancy);
  const upstreams = tenancy.upstreams(config.mlflow, config.tenants);
  const auditor = await createAuditor(config.audit, { store, dataDir: config.dataDir, log, now, onLoss: metrics.auditLost });
  // A user changed elsewhere (another replica, the CLI) is forgotten at once when Redis announces it;
  // without Redis, local providers re-confirm what they remember once the store's users version moves.
  const forgetUser = (name: string) => providers.forEach((p) => p.forgetUser?.(name));
  const policy = createPolicyService({ ...config, defaultTenant: config.tenancy.defaultTenant }, policyRepository(store.db), log, { pollMs: 1000 });
  const ownership = createOwnershipIndex(ownershipRepository(store.db));
  // Redis (optional): shared rate-limit buckets and change notification between replicas (src/redis/).
  const redis = config.redis ? connectRedis(config.redis, log) : undefined;
  if (redis && !(await redis.connected(config.redis!.connectTimeoutMs))) log.warn('redis not reachable at start; rate limits answer as rateLimits.onBackendError says until it is');
  let lastLimitWarning = 0;
  const rateLimits = createRateLimits(config.rateLimits, {
    now,
    onReject: metrics.rateLimited,
    ...(redis && {
      // Redis buckets keep Redis's own clock (replicas' clocks may differ) unless a test moves the gateway's.
      limiter: (name, spec) => createRedisLimiter({ ...spec, redis: redis.command, prefix: `${redis.keyPrefix}rl:${name}:`, ...(options.now && { now: options.now }) }),
      onBackendError: (err) => {
        if (now() - lastLimitWarning < 10_000) return;
        lastLimitWarning = now();
        log.warn({ err: err.message }, 'rate-limit back end (redis) failed; requests pass unlimited (rateLimits.onBackendError allow-with-warning)');
      },
    }),
  });
  // The CLI's admin events, into this process's audit chains (src/audit/journal.ts).
  const journal = startJournalDrain(store.db, (e) => auditor.admin(e), { log, intervalMs: 1000 });
  const onChange = (change: Change) => {
    if (change.kind === 'policy') void policy.reload().catch((err: Error) => log.error({ err: err.message }, 'policy reload failed; keeping the previous snapshot'));
    if (change.kind === 'user') forgetUser(change.name);
    if (change.kind === 'audit') void journal.drain().catch((err: Error) => log.warn({ err: err.message }, 'could not move CLI admin events from the audit journal; retrying'));
  };
  const bus = redis ? await startChangeBus(redis, log, onChange) : undefined;
  // What this process changes, every replica hears of (itself too, harmlessly).
  const reloadPolicy = async () => {
    await policy.reload();
    await bus?.publish({ kind: 'policy' });
  };
  const announcing = bus ? providers.map((p) => announceUserChanges(p, bus.publish)) : providers;
  const services = createServices({
    store,
    sessions,
    record: (e) => auditor.admin(e),
    declared: policy.declared,
    configFile: options.configFile,
    policyChanged: reloadPolicy,
    async principalChanged(name) {
      for (const p of announcing) p.forgetUser?.(name);
    },
    providers: { ...providerIdsOf(config.auth.providers), linkBySubject: linkBySubject(config.auth), scimLink: scimLinkOf(config.scim) },
    workspaces: tenancy.tenantsAreWorkspaces ? mlflowWorkspaces(() => upstreams) : undefined,
    now,
    userAgentMaxLength: config.audit.userAgentMaxLength,
    approvals: {
      rules: () => config.approvals.rules,
      policy: policy.snapshot,
      consoleUrl: config.approvals.consoleUrl,
      send: upstreamSend(() => upstreams),
    },
  });
  // Nothing is decided before these ran: policy and ownership answer 503 until loaded.
  const startup = whenStoreReady(
    store,
    [
      async () => {
        const admin = local ? await bootstrapAdmin(store, env, local.scrypt) : undefined;
        if (!admin?.created) return;
        options.onBootstrap?.(admin);
        await recordBootstrapAdmin(services.deps, CONFIG_ACTOR, admin.username!);
      },
      policy.load,
      ownership.load,
      () => warnAboutPolicyNames(config, policy, store, log),
    ],
    (err) => log.warn({ err: err.message }, 'start-up reads from the store failed; retrying once the store answers'),
  );
  await startup.firstAttempt;
  const declaredReloader = options.configFile
    ? startDeclaredReloader({ file: options.configFile, initial: config, env, log, sighup: true, apply: (d, diff) => applyDeclared(services.deps, d, diff, (next) => policy.reloadDeclared(next)) })
    : undefined;
  const resolver = createResolver(upstreams, { ttlMs: 30_000, maxEntries: 100_000, metrics, now, ...(tenancy.rootTenantTag !== undefined && { tagKey: tenancy.rootTenantTag }) });
  const created = createdRecorder(resolver, ownership);
  const stages = buildStages({
    config,
    tenancy,
    routes: compileRoutes(options.routes ?? MLFLOW_ROUTES),
    providers,
    upstreams,
    policy: policy.snapshot,
    resolver,
    ownership,
    created,
    audit: auditor,
    rateLimits,
    approvals: () => services.approvals,
  });
  const tracing = await loadTracing(config.tracing, env, config.server.trustedProxies, log);
  const observers: RequestObserver[] = [metrics.observer, auditor.observer, created.observer];
  if (tracing) observers.unshift(tracing.observer);
  if (rateLimits) observers.push(rateLimits.observer);
  if (options.onRequest) observers.push({ onDone: options.onRequest });
  const runner = createRunner(stages, log, { logRequests: config.log.requests, observers, ...(tracing && { wrapper: tracing.wrapper }) });
  const server = await createGatehouseServer({
    config,
    runner,
    store,
    upstreams,
    providers: announcing,
    link: principalLinker(linkDeps),
    log,
    sessions,
    rateLimits,
    policy: policy.snapshot,
    services,
    now,
    scimMetrics: metrics.scimRequest,
    readiness: { startup: startup.check, ...auditor.readiness, ...(redis && { redis: redis.ping }) },
  });
  const internal = createInternalServer(metrics);
  const close = async (deadlineMs?: number, delayMs?: number) => {
    await server.close(deadlineMs, delayMs);
    await internal.close();
    await journal.close();
    await auditor.close();
    await tracing?.close();
    await bus?.close();
    await redis?.close();
    await Promise.all(providers.map((p) => p.close?.()));
    declaredReloader?.close();
    startup.close();
    policy.close();
    await upstreams.close();
    await store.close();
  };
  // Every listener or none (src/server/listen-error.ts): a bind failure ends the start, naming the setting.
  let address: AddressInfo;
  let internalAddress: AddressInfo;
  try {
    address = await listenOrExplain('server.public', config.server.public, config.server.tls !== undefined, () => server.listen());
    internalAddress = await listenOrExplain('server.internal', config.server.internal, false, () => internal.listen(config.server.internal.host, config.server.internal.port));
  } catch (err) {
    await close(0, 0);
    throw err;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${config.server.tls ? 'https' : 'http'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  const internalUrl = `http://${internalAddress.family === 'IPv6' ? `[${internalAddress.address}]` : internalAddress.address}:${internalAddress.port}`;
  log.info({ url, internalUrl, mlflow: config.mlflow.url, authorization: { mode: config.authorization.mode } }, 'gatehouse listening');
  return {
    url,
    address,
    store,
    server,
    policy,
    internalUrl,
    metrics,
    audit: auditor,
    services,
    close,
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
