/**
 * Turns the identifiers a request carries into what bindings name (experiment ids and
 * names, registered model names), looking children up to their parents through MLflow itself:
 * run → experiment (`runs/get`), logged model → experiment, trace → experiment, experiment id →
 * name. Lookups are made in the caller's tenant (an id from another workspace does not
 * resolve), cached briefly, and a failed lookup is an error: it never grants.
 *
 * No existence oracle (docs/security.md): a lookup by id that MLflow answers "does not exist"
 * is remembered like one it answers, for the same TTL and within the same bound, so another
 * tenant's id (found, then refused by the engine) and an id that exists nowhere are both answered
 * from the cache, with the same work. A remembered "missing" must not hide a resource created
 * since: when the gateway forwards a create, the new id is forgotten at once (`created`), in every
 * tenant; a creation it did not forward (another replica's, an OTLP trace) is seen when the entry
 * expires, at most the TTL later. Names are never remembered as missing: clients ask for a name
 * to create it when absent (`set_experiment`), and a foreign name is no cheaper to answer.
 */
import { GatehouseError } from '../errors.ts';
import { createStringInterner } from '../lib/intern.ts';
import { NO_METRICS, type CacheMetrics } from '../metrics/definitions.ts';
import type { ResourceRef } from '../routes/mlflow/types.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import { parseAnswer } from '../upstream/upstream.ts';
import { isModelRooted, isRooted, type Anchors, type ExperimentRooted, type ResourceId, type ResourceKind } from '../model/resource.ts';

export interface Resolver {
  /** Anchors for one ref's identifiers; undefined when this kind cannot be resolved. */
  anchors(ref: ResourceRef, ids: readonly ResourceId[], tenant: string | undefined): Promise<Anchors | undefined>;
  /** Drops what is cached about one experiment (its tenant tag or name changed through the gateway). */
  forgetExperiment(id: string): void;
  /** Where MLflow keeps a run's or logged model's artifacts (`artifact_uri`, `artifact_location`), looked up in the tenant; never changes, so cached. */
  artifactRoot(kind: 'run' | 'logged_model', id: string, tenant: string | undefined): Promise<string>;
  /** MLflow created `id` (the gateway forwarded the create): no remembered "missing" may hide it, in any tenant. */
  created(kind: ResourceKind, id: string): void;
  /**
   * The ids of a trace ref MLflow stores: those found in the tenant (or, in tag mode, anywhere);
   * one stored in no tenant is left out (it names nothing); one stored in another workspace is
   * refused exactly like a missing resource (GATEHOUSE_RESOURCE_NOT_FOUND). Route rows opt in
   * with `unstoredNamesNothing`.
   */
  stored(ref: ResourceRef, ids: readonly ResourceId[], tenant: string | undefined): Promise<ResourceId[]>;
}

/** What a lookup found, or that MLflow answered "does not exist". */
const MISSING: unique symbol = Symbol('missing');

interface Entry {
  readonly value: unknown;
  /** Milliseconds since the resolver was made: a small integer for weeks, not a boxed number. */
  readonly expires: number;
}

/** Longer than any id or name MLflow issues or accepts: "does not exist" without a lookup URL of that size. */
const MAX_ID_BYTES = 1024;

export interface ResolverOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
  /** Cache lookups (`resource`); default: not counted. */
  readonly metrics?: CacheMetrics;
  /**
   * Tag mode: the tag naming a root's tenant. Anchors then carry `tenants`, one per root, read
   * from the experiment or registered model itself (never cached by name: names are reused).
   */
  readonly tagKey?: string;
}

/** The value of one tag in MLflow's `tags: [{key, value}]` list; '' when absent. */
export function tagValue(tags: unknown, key: string): string {
  if (!Array.isArray(tags)) return '';
  let value = '';
  // MLflow keeps the last value of a repeated key (`_is_prompt_request`); so does this.
  for (const t of tags) if (t && typeof t === 'object' && (t as { key?: unknown }).key === key) value = String((t as { value?: unknown }).value ?? '');
  return value;
}

/** What a lookup may keep: both answers (ids), only what was found (names outside tag mode), nothing (names in tag mode). */
type Remember = 'found-and-missing' | 'found' | 'nothing';

export function createResolver(upstreams: Upstreams, options: ResolverOptions): Resolver {
  const clock = options.now ?? Date.now;
  const epoch = clock();
  const now = () => clock() - epoch;
  const metrics = options.metrics ?? NO_METRICS;
  const cache = new Map<string, Entry>();
  // Thousands of runs share each experiment: one copy of each parent id (src/lib/intern.ts).
  const parentIds = createStringInterner();
  const tagKey = options.tagKey;

  /** Tenants lookups were made in: `created` forgets a "missing" under each of them. */
  const tenants = new Set<string>();

  const remember = (key: string, value: unknown) => {
    if (!cache.has(key) && cache.size >= options.maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { value, expires: now() + options.ttlMs });
  };

  /** Asks MLflow: `GET path` in the tenant, its answer picked apart. Throws NOT_FOUND for 404. */
  async function ask<T>(tenant: string | undefined, path: string, pick: (body: Record<string, unknown>) => T | undefined): Promise<T> {
    const headers: Record<string, string> = {};
    const workspace = await upstreams.workspaceHeader(tenant);
    if (workspace !== undefined) headers['x-mlflow-workspace'] = workspace;
    const r = await upstreams.forTenant(tenant).get(path, headers);
    // Not found in the caller's tenant (or anywhere): the same answer MLflow gives for a missing resource.
    if (r.status === 404) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', `${path} answered 404`);
    if (r.status !== 200) throw new GatehouseError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `${path} answered ${r.status}`);
    // A proxy's HTML error page or a truncated answer: as unresolvable as a 500, never an internal error.
    const parsed = parseAnswer(r.body, path, 'GATEHOUSE_RESOURCE_UNRESOLVABLE');
    const picked = pick(parsed as Record<string, unknown>);
    const value = (typeof picked === 'string' ? parentIds(picked) : picked) as T | undefined;
    if (value === undefined) throw new GatehouseError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `${path}: no parent in answer`);
    return value;
  }

  /**
   * One parent lookup, cached under a key of what was asked (`kind`, `id`) rather than the path:
   * a flat string of a few dozen bytes (Array#join makes one) instead of a concatenation of
   * tenant and URL, at 100k entries.
   */
  async function lookup<T>(tenant: string | undefined, kind: string, id: string, path: string, pick: (body: Record<string, unknown>) => T | undefined, keep: Remember = 'found-and-missing'): Promise<T> {
    if (Buffer.byteLength(id) > MAX_ID_BYTES) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', `${kind} id of ${Buffer.byteLength(id)} bytes`);
    const key = [tenant ?? '', kind, id].join('\0');
    const useCache = keep !== 'nothing' && options.maxEntries > 0 && options.ttlMs > 0;
    const hit = useCache ? cache.get(key) : undefined;
    const fresh = hit !== undefined && hit.expires > now();
    if (useCache) metrics.lookup('resource', fresh);
    if (fresh) {
      if (hit.value === MISSING) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', `${path}: remembered as missing`);
      return hit.value as T;
    }
    try {
      const value = await ask(tenant, path, pick);
      if (useCache) remember(key, value);
      return value;
    } catch (err) {
      if (useCache && keep === 'found-and-missing' && err instanceof GatehouseError && err.code === 'GATEHOUSE_RESOURCE_NOT_FOUND') {
        tenants.add(tenant ?? '');
        remember(key, MISSING);
      }
      throw err;
    }
  }

  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const dig = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  const q = encodeURIComponent;

  const experimentOf: Record<ExperimentRooted, (id: string, tenant: string | undefined) => Promise<string>> = {
    experiment: async (id) => id,
    artifact: async (id) => id, // the extractor already read the experiment id out of the artifact path
    run: (id, t) => lookup(t, 'run', id, `/api/2.0/mlflow/runs/get?run_id=${q(id)}`, (b) => str(dig(b, 'run', 'info', 'experiment_id'))),
    logged_model: (id, t) => lookup(t, 'logged_model', id, `/api/2.0/mlflow/logged-models/${q(id)}`, (b) => str(dig(b, 'model', 'info', 'experiment_id'))),
    trace: (id, t) => lookup(t, 'trace', id, `/api/3.0/mlflow/traces/${q(id)}`, (b) => str(dig(b, 'trace', 'trace_info', 'trace_location', 'mlflow_experiment', 'experiment_id'))),
    assessment: (id, t) => lookup(t, 'trace', id, `/api/3.0/mlflow/traces/${q(id)}`, (b) => str(dig(b, 'trace', 'trace_info', 'trace_location', 'mlflow_experiment', 'experiment_id'))),
    scorer: async (id) => id, // composite key: experiment_id first
  };

  /** An experiment's name and (tag mode) tenant tag, by id; ids are never reused, so this is cached. */
  interface ExperimentFacts {
    readonly name: string;
    readonly tenant: string;
  }
  const experimentFacts = (id: string, t: string | undefined) =>
    lookup<ExperimentFacts>(t, 'experiment', id, `/api/2.0/mlflow/experiments/get?experiment_id=${q(id)}`, (b) => {
      const name = str(dig(b, 'experiment', 'name'));
      return name === undefined ? undefined : { name, tenant: tagKey === undefined ? '' : tagValue(dig(b, 'experiment', 'tags'), tagKey) };
    });
  // Names are reused (rename, delete and re-create); in tag mode a name's tenant is never cached.
  const modelTenant = (name: string, t: string | undefined) =>
    lookup(t, 'registered_model', name, `/api/2.0/mlflow/registered-models/get?name=${q(name)}`, (b) => (str(dig(b, 'registered_model', 'name')) === undefined ? undefined : tagValue(dig(b, 'registered_model', 'tags'), tagKey!)), 'nothing');

  const isNotFound = (err: unknown) => err instanceof GatehouseError && err.code === 'GATEHOUSE_RESOURCE_NOT_FOUND';
  const found = (p: Promise<unknown>) => p.then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)));

  /**
   * Whether another workspace of the MLflow behind the gateway stores this trace. Workspace mode
   * only: lookups there see one workspace each; in tag mode the tenant's lookup already saw every
   * tenant, and in instance mode another tenant's MLflow is another server.
   */
  async function traceInOtherWorkspace(id: string, tenant: string | undefined): Promise<boolean> {
    if (tenant === undefined || (await upstreams.workspaceHeader(tenant)) === undefined) return false;
    const r = await upstreams.forTenant(undefined).get('/api/3.0/mlflow/workspaces', {});
    if (r.status !== 200) throw new GatehouseError('GATEHOUSE_RESOURCE_UNRESOLVABLE', `/api/3.0/mlflow/workspaces answered ${r.status}`);
    const listed = dig(parseAnswer(r.body, 'workspaces', 'GATEHOUSE_RESOURCE_UNRESOLVABLE'), 'workspaces');
    const others = (Array.isArray(listed) ? listed : []).map((w) => str(dig(w, 'name'))).filter((w): w is string => w !== undefined && w !== tenant);
    return (await Promise.all(others.map((w) => found(experimentOf.trace(id, w))))).some(Boolean);
  }

  return {
    async stored(ref, ids, tenant) {
      if (ref.kind !== 'trace') throw new TypeError(`stored(): kind ${ref.kind} is not looked up across tenants`);
      const inTenant = await Promise.all(ids.map((r) => found(experimentOf.trace(r.id, tenant))));
      const elsewhere = await Promise.all(ids.map((r, i) => (inTenant[i] ? false : traceInOtherWorkspace(r.id, tenant))));
      if (elsewhere.some(Boolean)) throw new GatehouseError('GATEHOUSE_RESOURCE_NOT_FOUND', 'trace stored in another workspace');
      return ids.filter((_, i) => inTenant[i]);
    },
    artifactRoot(kind, id, tenant) {
      return kind === 'run'
        ? lookup(tenant, 'run_root', id, `/api/2.0/mlflow/runs/get?run_id=${q(id)}`, (b) => str(dig(b, 'run', 'info', 'artifact_uri')))
        : lookup(tenant, 'logged_model_root', id, `/api/2.0/mlflow/logged-models/${q(id)}`, (b) => str(dig(b, 'model', 'info', 'artifact_location')));
    },
    forgetExperiment(id) {
      const suffix = `\0experiment\0${id}`;
      for (const key of cache.keys()) if (key.endsWith(suffix)) cache.delete(key);
    },
    created(kind, id) {
      for (const tenant of tenants) {
        const key = [tenant, kind, id].join('\0');
        if (cache.get(key)?.value === MISSING) cache.delete(key);
      }
    },
    async anchors(ref, ids, tenant) {
      if (!isRooted(ref.kind)) return undefined;
      if (isModelRooted(ref.kind)) {
        const modelNames = ids.map((r) => r.id);
        if (tagKey === undefined) return { modelNames };
        return { modelNames, tenants: await Promise.all(modelNames.map((n) => modelTenant(n, tenant))) };
      }
      const toExperiment = experimentOf[ref.kind];
      const byName = ref.kind === 'experiment' && ref.ids[0]?.field.includes('name');
      if (byName) {
        const experimentNames = ids.map((r) => r.id);
        const found = await Promise.all(
          experimentNames.map((n) =>
            lookup(tenant, 'experiment_name', n, `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${q(n)}`, (b) => {
              const id = str(dig(b, 'experiment', 'experiment_id'));
              return id === undefined ? undefined : { id, tenant: tagKey === undefined ? '' : tagValue(dig(b, 'experiment', 'tags'), tagKey) };
            }, tagKey === undefined ? 'found' : 'nothing'),
          ),
        );
        const experimentIds = found.map((f) => f.id);
        return tagKey === undefined ? { experimentIds, experimentNames } : { experimentIds, experimentNames, tenants: found.map((f) => f.tenant) };
      }
      const experimentIds = await Promise.all(ids.map((r) => toExperiment(r.id, tenant)));
      const facts = await Promise.all(experimentIds.map((id) => experimentFacts(id, tenant)));
      const experimentNames = facts.map((f) => f.name);
      return tagKey === undefined ? { experimentIds, experimentNames } : { experimentIds, experimentNames, tenants: facts.map((f) => f.tenant) };
    },
  };
}
