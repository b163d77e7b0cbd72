/**
 * The CLI as a door: its commands call the same services as the admin API (src/services/), on
 * the store and MLflow its configuration names. What differs is the process around them:
 *
 * - the actor is `cli:<operating-system user>`;
 * - admin events go to the store's audit journal, which a running gateway moves into its own audit
 *   chains (src/audit/journal.ts; nothing is written when `audit.sinks` is empty);
 * - running gateways hear of a change over Redis when it is configured (policy reload, forgotten
 *   credentials, the journal), and otherwise through the store's policy and users versions they poll.
 *
 * A service's refusal is printed as one line on stderr; the exit code is 2 for what the operator
 * must change in the command (invalid input, an entry the configuration file declares), 1 for the
 * rest (not found, conflicts, MLflow refusing).
 */
import { linkBySubject } from '../identity/link.ts';
import { scimLinkOf } from '../scim/config.ts';
import { writeJournal } from '../audit/journal.ts';
import { declaredOf } from '../policy/declared-reload.ts';
import { announceChange } from '../redis/notify.ts';
import { cliActor, providerIdsOf, type Actor } from '../services/context.ts';
import { GatehouseError } from '../errors.ts';
import { createServices, type Services } from '../services/index.ts';
import { mlflowWorkspaces } from '../services/workspaces.ts';
import { createSessionRepository } from '../store/sessions.ts';
import { sessionTimeouts } from '../web/config.ts';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openStore, StoreSchemaError, type Store } from '../store/store.ts';
import type { Config } from '../config/schema.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import { createUpstreams, tenancyMode } from '../tenancy/index.ts';
import type { CommandInput } from './command.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import { upstreamSend } from '../services/approvals.ts';

const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** The services over an open store, as the CLI runs them; `close` releases what they opened (not the store). */
export function cliServices(config: Readonly<Config>, configFile: string | undefined, store: Store, policy?: PolicySnapshot): { services: Services; close(): Promise<void> } {
  let upstreams: Upstreams | undefined;
  const announce = (change: Parameters<typeof announceChange>[1]) => announceChange(config.redis, change, err);
  const services = createServices({
    store,
    // Listing and revoking: the configured timeouts decide which sessions are still live, as in the gateway.
    sessions: createSessionRepository(store.db, sessionTimeouts(config.auth.browser), Date.now),
    async record(event) {
      if (config.audit.sinks.length === 0) return;
      await writeJournal(store.db, event);
      await announce({ kind: 'audit' });
    },
    declared: () => declaredOf(config),
    configFile,
    policyChanged: () => announce({ kind: 'policy' }),
    principalChanged: (name) => announce({ kind: 'user', name }),
    providers: { ...providerIdsOf(config.auth.providers), linkBySubject: linkBySubject(config.auth), scimLink: scimLinkOf(config.scim) },
    // MLflow is reached only by commands that need it (tenants): the others open no connection.
    workspaces: tenancyMode(config.tenancy).tenantsAreWorkspaces ? mlflowWorkspaces(() => (upstreams ??= createUpstreams(config))) : undefined,
    now: Date.now,
    userAgentMaxLength: config.audit.userAgentMaxLength,
    // Approvals (read-only here: the CLI actor is no principal a rule names) need the policy the store holds.
    approvals: policy && { rules: () => config.approvals.rules, policy: () => policy, consoleUrl: config.approvals.consoleUrl, send: upstreamSend(() => (upstreams ??= createUpstreams(config))) },
  });
  return { services, close: async () => void (await upstreams?.close()) };
}

/** The exit code for a service's refusal (printed on stderr). */
export function refusal(e: GatehouseError): number {
  err(e.message);
  return e.code === 'GATEHOUSE_ADMIN_INVALID_PARAMETER' || e.code === 'GATEHOUSE_ADMIN_DECLARED' ? 2 : 1;
}

/** The store a command would open, or could not use: reported on stderr, exit code 2. */
export class StoreAccessError extends Error {
  override readonly name = 'StoreAccessError';
}

const sqlitePath = (config: Readonly<Config>) => resolve(config.store.path ?? join(config.dataDir, 'gatehouse.db'));

/** The store as the line before a change names it: the SQLite file, or PostgreSQL without its password. */
export function describeStore(config: Readonly<Config>): string {
  const s = config.store;
  if (s.driver === 'sqlite') return `sqlite ${sqlitePath(config)}`;
  if (s.url !== undefined) {
    const u = new URL(s.url);
    return `postgres ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  }
  if (s.urlFile !== undefined) return `postgres (URL in ${s.urlFile})`;
  return `postgres ${s.host ?? '$PGHOST'}${s.port ? `:${s.port}` : ''}/${s.database ?? '$PGDATABASE'}`;
}

/**
 * Opens the configured store for a command. One that writes (`Command.writes`) may create and
 * migrate it, as a starting gateway would. One that only reads never does: a store that does not
 * exist (no SQLite file; no Gatehouse schema in PostgreSQL) or is behind this version is an error
 * naming the configuration, since an empty new store would answer "nothing here" about a gateway
 * that keeps its data elsewhere.
 */
export async function openCliStore(input: Pick<CommandInput, 'config' | 'configFile' | 'writes'>): Promise<Store> {
  const config = input.config!;
  const options = { ...config.store, dataDir: config.dataDir };
  if (input.writes) return openStore(options);
  const where = `configuration ${input.configFile ?? '(none: built-in defaults and GATEHOUSE_* variables)'}`;
  const hint = "name the running gateway's configuration with -c or GATEHOUSE_CONFIG, or start the gateway with this one first";
  if (config.store.driver === 'sqlite' && !existsSync(sqlitePath(config))) {
    throw new StoreAccessError(`no store at ${sqlitePath(config)} (${where}): nothing was ever stored there; ${hint}`);
  }
  try {
    return await openStore({ ...options, migrate: 'never' });
  } catch (e) {
    if (e instanceof StoreSchemaError) throw new StoreAccessError(`${describeStore(config)} (${where}): ${e.message}; ${hint}`);
    throw e;
  }
}

/** Runs `fn` with the services over the configured store; closes everything after. */
export async function withServices(input: CommandInput, fn: (services: Services, actor: Actor) => Promise<number>, o: { readonly policy?: (store: Store) => Promise<PolicySnapshot> } = {}): Promise<number> {
  const config = input.config!;
  const store = await openCliStore(input);
  const { services, close } = cliServices(config, input.configFile, store, o.policy && (await o.policy(store).catch(async (e: unknown) => {
    await store.close();
    throw e;
  })));
  try {
    return await fn(services, cliActor());
  } catch (e) {
    if (!(e instanceof GatehouseError)) throw e;
    return refusal(e);
  } finally {
    await close();
    await store.close();
  }
}
