/**
 * The policy snapshot the engine decides over: the configuration (declared, reviewable in git)
 * merged with what was made through the CLI or admin API (the store). Declared entities win a
 * name clash; store bindings keep their own ids (`api:<uuid>`). The snapshot is rebuilt whole
 * when the store's policy version moves (polled, so every process sharing the store follows
 * within `pollMs`), and swapped atomically; a decision never waits for it.
 */
import type { Logger } from '../lib/logger.ts';
import type { PolicyRepository, StoredPolicy } from '../store/policy.ts';
import type { PolicySources } from './snapshot.ts';
import { buildSnapshot, referenceProblems, type PolicySnapshot } from './snapshot.ts';

export interface PolicyService {
  snapshot(): PolicySnapshot;
  /** Reloads now (after a change made by this process). */
  reload(): Promise<void>;
  close(): void;
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

export async function startPolicyService(declared: PolicySources, repo: PolicyRepository, log: Logger, options: { pollMs: number }): Promise<PolicyService> {
  let version = await repo.version();
  let current = buildSnapshot(mergeSources(declared, await repo.load()));
  const reload = async () => {
    const v = await repo.version();
    if (v === version) return;
    const next = buildSnapshot(mergeSources(declared, await repo.load()));
    version = v;
    current = next;
    log.info({ policyVersion: v, bindings: next.bindings.length, tenants: next.tenantOrder.length }, 'policy reloaded');
  };
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    reload()
      .catch((err: Error) => log.error({ err: err.message }, 'policy reload failed; keeping the previous snapshot'))
      .finally(() => (polling = false));
  }, options.pollMs);
  timer.unref();
  return { snapshot: () => current, reload, close: () => clearInterval(timer) };
}
