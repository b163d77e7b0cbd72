/**
 * Config as code, live: the tenants, groups, roles and bindings declared in the configuration file
 * are reloaded on SIGHUP and when the file changes, without restarting a listener. The file is
 * validated whole by `loadConfig`; an invalid file is logged problem by problem and the policy in
 * force stays (never an empty policy). Only the policy sections reload; a change anywhere else is
 * logged as needing a restart and ignored. Each applied reload logs one line with the diff.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Config } from '../config/schema.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Logger } from '../lib/logger.ts';
import type { PolicySources } from './snapshot.ts';
import type { BindingConfig } from './config.ts';
import { tenancyRestartPaths } from '../tenancy/index.ts';

/** The sections that reload; everything else needs a restart. */
export const POLICY_SECTIONS = ['tenancy', 'tenants', 'groups', 'roles', 'bindings'] as const;

export const declaredOf = (config: Readonly<Config>): PolicySources => ({ ...config, defaultTenant: config.tenancy.defaultTenant });

interface NamedDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface DeclaredDiff {
  tenants: NamedDiff;
  groups: NamedDiff;
  roles: NamedDiff;
  bindings: { added: string[]; removed: string[] };
  defaultTenant?: { from: string | null; to: string | null };
}

/** Stable JSON: keys sorted, so equal declarations compare equal whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function byName<T extends { name: string }>(before: readonly T[], after: readonly T[]): NamedDiff {
  const old = new Map(before.map((x) => [x.name, canonical(x)]));
  const next = new Map(after.map((x) => [x.name, canonical(x)]));
  return {
    added: [...next.keys()].filter((n) => !old.has(n)),
    removed: [...old.keys()].filter((n) => !next.has(n)),
    changed: [...next.keys()].filter((n) => old.has(n) && old.get(n) !== next.get(n)),
  };
}

/** `allow viewer to group:readers at tenant team-a`: what a reviewer reads in the log. */
export function describeBinding(b: BindingConfig): string {
  const subject = b.user !== undefined ? `user:${b.user}` : b.group !== undefined ? `group:${b.group}` : `serviceAccount:${b.serviceAccount}`;
  const where = [
    b.tenant ? `tenant ${b.tenant}` : undefined,
    b.experiment?.id ? `experiment ${b.experiment.id}` : undefined,
    b.experiment?.namePattern ? `experiments ${b.experiment.namePattern}` : undefined,
    b.model ? `models ${b.model.namePattern}` : undefined,
  ].filter(Boolean);
  return `${b.effect} ${b.role} to ${subject} at ${where.length > 0 ? where.join(', ') : 'global'}`;
}

/** Bindings have no names: compared as multisets of their canonical form. */
function bindingDiff(before: readonly BindingConfig[], after: readonly BindingConfig[]): DeclaredDiff['bindings'] {
  const count = (list: readonly BindingConfig[]) => {
    const m = new Map<string, { n: number; b: BindingConfig }>();
    for (const b of list) {
      const k = canonical({ ...b, id: undefined, source: undefined });
      m.set(k, { n: (m.get(k)?.n ?? 0) + 1, b });
    }
    return m;
  };
  const old = count(before);
  const next = count(after);
  const more = (a: typeof old, b: typeof old) => [...a].flatMap(([k, { n, b: x }]) => Array<string>(Math.max(0, n - (b.get(k)?.n ?? 0))).fill(describeBinding(x)));
  return { added: more(next, old), removed: more(old, next) };
}

export function diffDeclared(before: PolicySources, after: PolicySources): DeclaredDiff {
  const diff: DeclaredDiff = {
    tenants: byName(before.tenants, after.tenants),
    groups: byName(before.groups, after.groups),
    roles: byName(before.roles, after.roles),
    bindings: bindingDiff(before.bindings, after.bindings),
  };
  if ((before.defaultTenant ?? null) !== (after.defaultTenant ?? null)) diff.defaultTenant = { from: before.defaultTenant ?? null, to: after.defaultTenant ?? null };
  return diff;
}

export function isEmptyDiff(d: DeclaredDiff): boolean {
  return [d.tenants, d.groups, d.roles].every((x) => x.added.length + x.removed.length + x.changed.length === 0) && d.bindings.added.length + d.bindings.removed.length === 0 && !d.defaultTenant;
}

/** Dotted paths (two levels deep, names only, never values) where two configurations differ. */
export function restartSections(before: Readonly<Config>, after: Readonly<Config>): string[] {
  const paths: string[] = [];
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if ((POLICY_SECTIONS as readonly string[]).includes(key) || canonical(a[key]) === canonical(b[key])) continue;
    const x = a[key];
    const y = b[key];
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) {
      const xs = x as Record<string, unknown>;
      const ys = y as Record<string, unknown>;
      for (const k of new Set([...Object.keys(xs), ...Object.keys(ys)])) if (canonical(xs[k]) !== canonical(ys[k])) paths.push(`${key}.${k}`);
    } else paths.push(key);
  }
  // The tenancy mode and (instance mode) each tenant's MLflow pick upstreams built at start.
  return [...paths, ...tenancyRestartPaths(before, after)];
}

export interface DeclaredReloader {
  /** Reloads now (what SIGHUP does); resolves once the attempt is over, applied or not. */
  reload(reason: string): Promise<void>;
  close(): void;
}

export interface ReloaderOptions {
  readonly file: string;
  /** The configuration the process started with. */
  readonly initial: Readonly<Config>;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /**
   * Applies new declared policy (the composition root: src/services/declared.ts, then
   * PolicyService.reloadDeclared). A rejection refuses the reload: the policy in force stays.
   */
  readonly apply: (declared: PolicySources, diff: DeclaredDiff) => Promise<void>;
  /** Quiet time after the last file event before reading the file (editors write in several steps). */
  readonly debounceMs?: number;
  /** Also reload on SIGHUP (the gateway process; not in-process tests). */
  readonly sighup?: boolean;
}

/**
 * Watches the file's directory, not the file: editors and Kubernetes ConfigMap updates replace the
 * file by a rename, which a watch on the old inode would never report.
 */
export function startDeclaredReloader(o: ReloaderOptions): DeclaredReloader {
  const debounceMs = o.debounceMs ?? 250;
  let applied = declaredOf(o.initial);
  let lastText = safeRead(o.file);
  let chain = Promise.resolve();

  const attempt = async (reason: string, force: boolean) => {
    const text = safeRead(o.file);
    if (!force && text === lastText) return;
    lastText = text;
    let next: Readonly<Config>;
    try {
      next = loadConfig({ file: o.file, env: o.env });
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      o.log.error({ configFile: o.file, reason, problems }, 'configuration reload refused: the file is invalid; keeping the policy in force');
      return;
    }
    const restart = restartSections(o.initial, next);
    if (restart.includes('tenancy.mode') || restart.includes('tenancy.tagKey') || restart.includes('tenants[].mlflowUrl')) {
      o.log.error({ configFile: o.file, reason, needsRestart: restart }, 'configuration reload refused: tenancy changes need a restart; keeping the policy in force');
      return;
    }
    if (restart.length > 0) o.log.warn({ configFile: o.file, reason, needsRestart: restart }, 'configuration changes outside the policy sections need a restart; ignored');
    const declared = declaredOf(next);
    const diff = diffDeclared(applied, declared);
    if (isEmptyDiff(diff)) {
      o.log.info({ configFile: o.file, reason }, 'configuration reloaded: declared policy unchanged');
      return;
    }
    try {
      await o.apply(declared, diff);
    } catch (err) {
      o.log.error({ configFile: o.file, reason, err: (err as Error).message }, 'configuration reload refused: the new policy could not be applied; keeping the policy in force');
      return;
    }
    applied = declared;
    o.log.info({ configFile: o.file, reason, diff }, 'declared policy reloaded');
  };
  const reload = (reason: string, force = true) => {
    chain = chain.then(() => attempt(reason, force)).catch((err: Error) => o.log.error({ configFile: o.file, err: err.message }, 'declared policy reload failed; keeping the policy in force'));
    return chain;
  };

  let timer: NodeJS.Timeout | undefined;
  const name = basename(o.file);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(o.file), (_event, changed) => {
      // Unrelated files are ignored, except ConfigMap-style swaps (`..data`), which hide the change.
      if (changed && changed !== name && !changed.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload('file changed', false), debounceMs);
    });
    watcher.on('error', (err) => o.log.warn({ configFile: o.file, err: err.message }, 'configuration file watch failed; SIGHUP still reloads'));
    watcher.unref();
  } catch (err) {
    o.log.warn({ configFile: o.file, err: (err as Error).message }, 'cannot watch the configuration file; SIGHUP still reloads');
  }
  const onHup = () => void reload('SIGHUP');
  if (o.sighup) process.on('SIGHUP', onHup);
  return {
    reload: (reason) => reload(reason),
    close() {
      clearTimeout(timer);
      watcher?.close();
      if (o.sighup) process.off('SIGHUP', onHup);
    },
  };
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
