/**
 * The policy snapshot the engine decides over: the configuration (declared, reviewable in git)
 * merged with what was made through the CLI or admin API (the store). Declared entities win a
 * name clash; store bindings keep their own ids (`api:<uuid>`). The snapshot is rebuilt whole
 * when the store's policy version moves (polled, so every process sharing the store follows
 * within `pollMs`), and swapped atomically; a decision never waits for it.
 */
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { PolicyRepository, StoredPolicy } from '../store/policy.ts';
import type { PolicySources } from './snapshot.ts';
import type { BindingConfig } from './config.ts';
import { buildSnapshot, referenceProblems, type PolicySnapshot } from './snapshot.ts';

export interface PolicyService {
  snapshot(): PolicySnapshot;
  /** Reloads now (after a change made by this process). */
  reload(): Promise<void>;
  /** The declared (configuration file) policy in force. */
  declared(): PolicySources;
  /**
   * Swaps in a new declared policy (a reloaded configuration file, src/policy/declared-reload.ts)
   * and rebuilds the snapshot with the store's policy; API grants stay as they are.
   */
  reloadDeclared(next: PolicySources): Promise<void>;
  close(): void;
}

/** Same subject and same scope (the role aside): an API grant there would change what a declared one says. */
export function sameTarget(a: BindingConfig, b: BindingConfig): boolean {
  return (
    a.user === b.user &&
    a.group === b.group &&
    a.serviceAccount === b.serviceAccount &&
    a.tenant === b.tenant &&
    a.experiment?.id === b.experiment?.id &&
    a.experiment?.namePattern === b.experiment?.namePattern &&
    a.model?.namePattern === b.model?.namePattern
  );
}

export function mergeSources(declared: PolicySources, stored: StoredPolicy): PolicySources {
  const tenantNames = new Set(declared.tenants.map((t) => t.name));
  const roleNames = new Set(declared.roles.map((r) => r.name));
  return {
    ...declared,
    tenants: [...declared.tenants, ...stored.tenants.filter((t) => !tenantNames.has(t.name))],
    groups: [...declared.groups, ...stored.groups],
    roles: [...declared.roles, ...stored.roles.filter((r) => !roleNames.has(r.name))],
    bindings: [
      ...declared.bindings.map((b, i) => ({ ...b, id: `config:${i}`, source: 'config' as const })),
      ...stored.bindings.map((s) => ({ ...s.binding, id: `api:${s.id}`, source: 'api' as const })),
    ],
  };
}

/**
 * What a change to the stored policy would break: unknown roles or tenants named by bindings and
 * tenants once merged with the declared policy (the CLI and the admin API refuse such a change).
 * Role-name clashes with declared roles are not problems: the declared role wins (mergeSources).
 */
export function changeProblems(declared: PolicySources, stored: StoredPolicy): { path: (string | number)[]; message: string }[] {
  return referenceProblems(mergeSources(declared, stored)).filter((p) => p.path[0] !== 'roles');
}

/**
 * The policy service, built before the store may be reachable (a gateway starts while
 * PostgreSQL is down): until `load` has read the stored policy once, `snapshot()` throws 503
 * GATEHOUSE_STORE_UNAVAILABLE, so nothing is ever decided on the declared policy alone (a
 * stored deny binding would be missing). `load` is what the start (or the store's return) runs;
 * it also starts the poll.
 */
export function createPolicyService(
  declared: PolicySources,
  repo: PolicyRepository,
  log: Logger,
  options: { pollMs: number },
): PolicyService & { load(): Promise<void> } {
  let version: string | undefined;
  let current: PolicySnapshot | undefined;
  let timer: NodeJS.Timeout | undefined;
  const reloadDeclared = async (next: PolicySources) => {
    // Not loaded yet: the first load reads the store with this declared policy.
    if (current === undefined) {
      declared = next;
      return;
    }
    const v = await repo.version();
    const stored = await repo.load();
    // Not refused: the file is valid on its own; API grants left dangling or shadowed are reported.
    for (const p of changeProblems(next, stored)) log.warn({ path: p.path.join('.'), problem: p.message }, 'an API grant no longer matches the declared policy');
    for (const s of stored.bindings) {
      const i = next.bindings.findIndex((b) => sameTarget(b, s.binding));
      if (i >= 0) log.warn({ grant: `api:${s.id}`, declared: `config:${i}` }, 'an API grant has the same subject and scope as a declared grant (both apply; deny wins)');
    }
    current = buildSnapshot(mergeSources(next, stored));
    declared = next;
    version = v;
  };
  const reload = async () => {
    if (current === undefined) return;
    const v = await repo.version();
    if (v === version) return;
    const stored = await repo.load();
    // `declared` read after the await: a configuration reload may have swapped it meanwhile.
    const next = buildSnapshot(mergeSources(declared, stored));
    version = v;
    current = next;
    log.info({ policyVersion: v, bindings: next.bindings.length, tenants: next.tenantOrder.length }, 'policy reloaded');
  };
  const load = async () => {
    if (current !== undefined) return;
    const v = await repo.version();
    const stored = await repo.load();
    current = buildSnapshot(mergeSources(declared, stored));
    version = v;
    let polling = false;
    timer = setInterval(() => {
      if (polling) return;
      polling = true;
      reload()
        .catch((err: Error) => log.error({ err: err.message }, 'policy reload failed; keeping the previous snapshot'))
        .finally(() => (polling = false));
    }, options.pollMs);
    timer.unref();
  };
  return {
    snapshot() {
      if (current === undefined) throw new GatehouseError('GATEHOUSE_STORE_UNAVAILABLE', 'the stored policy is not loaded yet');
      return current;
    },
    reload,
    declared: () => declared,
    reloadDeclared,
    load,
    close: () => clearInterval(timer),
  };
}
