/**
 * Response filters: for the few routes whose answer must be narrowed to what the caller may
 * see, or read to record what was created, the upstream JSON is buffered (bounded), handled
 * and re-sent. Everything else streams untouched.
 */
import type { RequestContext } from '../../pipeline/context.ts';

export interface FilterContext {
  /** Tenants the caller belongs to; undefined for administrators (no filtering). */
  readonly visibleTenants: readonly string[] | undefined;
  /**
   * MLflow created an experiment (id) or registered model (name) for the caller: it is recorded as
   * the creator, and no remembered "missing" of that id may hide it (src/policy/resolve.ts).
   */
  created(kind: 'experiment' | 'registered_model', resource: string): Promise<void>;
}

export type ResponseFilter = (body: unknown, ctx: RequestContext, f: FilterContext) => unknown | Promise<unknown>;

const field = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

/** `GET /api/3.0/mlflow/workspaces` → `{workspaces: [{name, ...}], next_page_token?}`: only the caller's. */
const workspacesList: ResponseFilter = (body, _ctx, f) => {
  if (f.visibleTenants === undefined || typeof body !== 'object' || body === null) return body;
  const list = (body as { workspaces?: unknown }).workspaces;
  if (!Array.isArray(list)) return body;
  const visible = new Set(f.visibleTenants);
  return { ...body, workspaces: list.filter((w) => typeof w === 'object' && w !== null && visible.has(String((w as { name?: unknown }).name))) };
};

/** `experiments/create` answers `{experiment_id}` (`handlers._create_experiment`). */
const experimentCreated: ResponseFilter = async (body, _ctx, f) => {
  const id = field(body, 'experiment_id');
  if (typeof id === 'string' && id !== '') await f.created('experiment', id);
  return body;
};

/** `registered-models/create` answers `{registered_model: {name, ...}}`; prompts are registered models too. */
const registeredModelCreated: ResponseFilter = async (body, _ctx, f) => {
  const name = field(body, 'registered_model', 'name');
  if (typeof name === 'string' && name !== '') await f.created('registered_model', name);
  return body;
};

export const RESPONSE_FILTERS: Readonly<Record<string, ResponseFilter>> = {
  'workspaces.list': workspacesList,
  'experiments.create': experimentCreated,
  'registeredModels.create': registeredModelCreated,
};
