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
import { writeJournal } from '../audit/journal.ts';
import { declaredOf } from '../policy/declared-reload.ts';
import { announceChange } from '../redis/notify.ts';
import { cliActor, providerIdsOf, type Actor } from '../services/context.ts';
import { ServiceError } from '../services/errors.ts';
import { createServices, type Services } from '../services/index.ts';
import { mlflowWorkspaces } from '../services/workspaces.ts';
import { createSessionRepository } from '../store/sessions.ts';
import { openStore, type Store } from '../store/store.ts';
import type { Config } from '../config/schema.ts';
import { createUpstreams, type Upstreams } from '../upstream/upstreams.ts';
import type { CommandInput } from './command.ts';

const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** The services over an open store, as the CLI runs them; `close` releases what they opened (not the store). */
export function cliServices(config: Readonly<Config>, configFile: string | undefined, store: Store): { services: Services; close(): Promise<void> } {
  let upstreams: Upstreams | undefined;
  const announce = (change: Parameters<typeof announceChange>[1]) => announceChange(config.redis, change, err);
  const services = createServices({
    store,
    // Only revoking and listing (the timeouts matter to reading a session, which the CLI never does).
    sessions: createSessionRepository(store.db, { idleMs: 0, absoluteMs: 0, pendingMs: 0 }, Date.now),
    async record(event) {
      if (config.audit.sinks.length === 0) return;
      await writeJournal(store.db, event);
      await announce({ kind: 'audit' });
    },
    declared: () => declaredOf(config),
    configFile,
    policyChanged: () => announce({ kind: 'policy' }),
    principalChanged: (name) => announce({ kind: 'user', name }),
    providers: providerIdsOf(config.auth.providers),
    // MLflow is reached only by commands that need it (tenants): the others open no connection.
    workspaces: config.tenancy.mode === 'workspace' ? mlflowWorkspaces(() => (upstreams ??= createUpstreams(config))) : undefined,
    now: Date.now,
    userAgentMaxLength: config.audit.userAgentMaxLength,
  });
  return { services, close: async () => void (await upstreams?.close()) };
}

/** The exit code for a service's refusal (printed on stderr). */
export function refusal(e: ServiceError): number {
  err(e.message);
  return e.code === 'GATEHOUSE_ADMIN_INVALID_PARAMETER' || e.code === 'GATEHOUSE_ADMIN_DECLARED' ? 2 : 1;
}

/** Runs `fn` with the services over the configured store; closes everything after. */
export async function withServices(input: CommandInput, fn: (services: Services, actor: Actor) => Promise<number>): Promise<number> {
  const config = input.config!;
  const store = await openStore({ ...config.store, dataDir: config.dataDir });
  const { services, close } = cliServices(config, input.configFile, store);
  try {
    return await fn(services, cliActor());
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    return refusal(e);
  } finally {
    await close();
    await store.close();
  }
}
