/**
 * Turns the identifiers a request carries into what bindings name (experiment ids and
 * names, registered model names), looking children up to their parents through MLflow itself:
 * run → experiment (`runs/get`), logged model → experiment, trace → experiment, experiment id →
 * name. Lookups are made in the caller's tenant (an id from another workspace does not
 * resolve), cached briefly, and a failed lookup is an error: it never grants.
 */
import { GatehouseError } from '../errors.ts';
import { NO_METRICS, type CacheMetrics } from '../metrics/definitions.ts';
import type { ResourceId } from '../pipeline/context.ts';
import type { ResourceRef } from '../routes/mlflow/types.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import type { Anchors } from './engine.ts';

export interface Resolver {
  /** Anchors for one ref's identifiers; undefined when this kind cannot be resolved. */
  anchors(ref: ResourceRef, ids: readonly ResourceId[], tenant: string | undefined): Promise<Anchors | undefined>;
}

interface Entry {
  readonly value: string;
  readonly expires: number;
}

const MODEL_KINDS = new Set(['registered_model', 'model_version', 'prompt']);

export interface ResolverOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
  /** Cache lookups (`resource`); default: not counted. */
  readonly metrics?: CacheMetrics;
}

export function createResolver(upstreams: Upstreams, options: ResolverOptions): Resolver {
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? NO_METRICS;
  const cache = new Map<string, Entry>();

  async function lookup(tenant: string | undefined, path: string, pick: (body: Record<string, unknown>) => unknown): Promise<string> {
    const key = `${tenant ?? ''}\0${path}`;
    const hit = cache.get(key);
    const fresh = hit !== undefined && hit.expires > now();
    if (options.maxEntries > 0 && options.ttlMs > 0) metrics.lookup('resource', fresh);
    if (fresh) return hit.value;
    const headers: Record<string, string> = {};
    const workspace = await upstreams.workspaceHeader(tenant);
    if (workspace !== undefined) headers['x-mlflow-workspace'] = workspace;
    const r = await upstreams.forTenant(tenant).get(path, headers);
    // Not found in the caller's tenant (or anywhere): the same answer MLflow gives for a missing resource.
    if (r.status === 404) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', `${path} answered 404`);
    if (r.status !== 200) throw new GatehouseError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `${path} answered ${r.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.body);
    } catch {
      // A proxy's HTML error page or a truncated answer: as unresolvable as a 500, never an internal error.
      throw new GatehouseError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `${path}: answer is not JSON`);
    }
    const value = pick(parsed as Record<string, unknown>);
    if (typeof value !== 'string' || value === '') throw new GatehouseError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `${path}: no parent in answer`);
    if (cache.size >= options.maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { value, expires: now() + options.ttlMs });
    return value;
  }

  const dig = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  const q = encodeURIComponent;

  const experimentOf: Record<string, ((id: string, tenant: string | undefined) => Promise<string>) | undefined> = {
    experiment: async (id) => id,
    artifact: async (id) => id, // the extractor already read the experiment id out of the artifact path
    run: (id, t) => lookup(t, `/api/2.0/mlflow/runs/get?run_id=${q(id)}`, (b) => dig(b, 'run', 'info', 'experiment_id')),
    logged_model: (id, t) => lookup(t, `/api/2.0/mlflow/logged-models/${q(id)}`, (b) => dig(b, 'model', 'info', 'experiment_id')),
    trace: (id, t) => lookup(t, `/api/3.0/mlflow/traces/${q(id)}`, (b) => dig(b, 'trace', 'trace_info', 'trace_location', 'mlflow_experiment', 'experiment_id')),
    assessment: (id, t) => lookup(t, `/api/3.0/mlflow/traces/${q(id)}`, (b) => dig(b, 'trace', 'trace_info', 'trace_location', 'mlflow_experiment', 'experiment_id')),
    scorer: async (id) => id, // composite key: experiment_id first
  };

  return {
    async anchors(ref, ids, tenant) {
      if (MODEL_KINDS.has(ref.kind)) return { modelNames: ids.map((r) => r.id) };
      const toExperiment = experimentOf[ref.kind];
      if (!toExperiment) return undefined;
      const byName = ref.kind === 'experiment' && ref.ids[0]?.field.includes('name');
      if (byName) {
        const experimentNames = ids.map((r) => r.id);
        const experimentIds = await Promise.all(
          experimentNames.map((n) => lookup(tenant, `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${q(n)}`, (b) => dig(b, 'experiment', 'experiment_id'))),
        );
        return { experimentIds, experimentNames };
      }
      const experimentIds = await Promise.all(ids.map((r) => toExperiment(r.id, tenant)));
      const experimentNames = await Promise.all(
        experimentIds.map((id) => lookup(tenant, `/api/2.0/mlflow/experiments/get?experiment_id=${q(id)}`, (b) => dig(b, 'experiment', 'name'))),
      );
      return { experimentIds, experimentNames };
    },
  };
}
