/**
 * The values of the table's response columns (types.ts): how the few routes whose answer the
 * gateway reads are read. Search filters page through MLflow's results (search-filter.ts);
 * response filters narrow one answer; root creates name what MLflow created. Everything else
 * streams untouched.
 */
import type { ResponseFilter, RootCreate, SearchFilterSpec } from './types.ts';

const field = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** `GET /api/3.0/mlflow/workspaces` → `{workspaces: [{name, ...}], next_page_token?}`: only the caller's. */
export const WORKSPACES_LIST: ResponseFilter = (body, f) => {
  if (f.visibleTenants === undefined || typeof body !== 'object' || body === null) return body;
  const list = (body as { workspaces?: unknown }).workspaces;
  if (!Array.isArray(list)) return body;
  const visible = new Set(f.visibleTenants);
  return { ...body, workspaces: list.filter((w) => typeof w === 'object' && w !== null && visible.has(String((w as { name?: unknown }).name))) };
};

/** `experiments/create` answers `{experiment_id}` (`handlers._create_experiment`). */
export const EXPERIMENT_CREATE: RootCreate = { kind: 'experiment', created: (body) => nonEmpty(field(body, 'experiment_id')) };

/** `registered-models/create` answers `{registered_model: {name, ...}}`; prompts are registered models too. */
export const REGISTERED_MODEL_CREATE: RootCreate = { kind: 'registered_model', created: (body) => nonEmpty(field(body, 'registered_model', 'name')) };

export const EXPERIMENTS_SEARCH: SearchFilterSpec = {
  items: 'experiments',
  family: 'experiment',
  anchors: (e) => ({ experimentIds: [String(e.experiment_id)], experimentNames: [String(e.name)] }),
  tags: (e) => e.tags,
  defaultMaxResults: 1000,
  constrainable: true,
};

/** A search of registered models or their versions: each result names its model. */
const byModelName = (items: string, defaultMaxResults: number, more: Pick<SearchFilterSpec, 'tags' | 'constrainable'> = {}): SearchFilterSpec => ({
  items,
  family: 'model',
  anchors: (m) => ({ modelNames: [String(m.name)] }),
  defaultMaxResults,
  ...more,
});

export const REGISTERED_MODELS_SEARCH = byModelName('registered_models', 100, { tags: (m) => m.tags, constrainable: true });

/** A version's own tags are not its model's: tag mode looks the model up. */
export const MODEL_VERSIONS_SEARCH = byModelName('model_versions', 10000);
