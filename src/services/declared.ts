/**
 * The configuration-reload door: a reloaded file's policy is applied here, so its tenants are
 * whole like any other — the MLflow workspaces of tenants the file adds are made (or adopted)
 * first, and when MLflow refuses one the reload is refused and the policy in force stays — and
 * the reload is one admin event (door `config`, actor `config`, target the file) with the diff.
 */
import type { DeclaredDiff } from '../policy/declared-reload.ts';
import type { PolicySources } from '../policy/snapshot.ts';
import { CONFIG_ACTOR, recordChange, type ServiceDeps } from './context.ts';

export async function applyDeclared(deps: ServiceDeps, next: PolicySources, diff: DeclaredDiff, apply: (declared: PolicySources) => Promise<void>): Promise<void> {
  for (const name of diff.tenants.added) await deps.workspaces?.create(name);
  await apply(next);
  const section = (d: { added: string[]; removed: string[]; changed?: string[] }) =>
    d.added.length + d.removed.length + (d.changed?.length ?? 0) === 0 ? undefined : { before: null, after: Object.fromEntries(Object.entries(d).filter(([, v]) => v.length > 0)) };
  const changes = Object.fromEntries(
    Object.entries({ tenants: section(diff.tenants), groups: section(diff.groups), roles: section(diff.roles), bindings: section(diff.bindings) }).filter(([, v]) => v !== undefined),
  ) as Record<string, { before: unknown; after: unknown }>;
  if (diff.defaultTenant) changes.defaultTenant = { before: diff.defaultTenant.from, after: diff.defaultTenant.to };
  await recordChange(deps, CONFIG_ACTOR, { action: 'config.reload', target: { kind: 'config', id: deps.configFile ?? '(no file)' }, changes });
}
