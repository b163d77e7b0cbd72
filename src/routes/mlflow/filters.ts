/**
 * Response filters: for the few list routes whose answer must be narrowed to what the caller
 * may see, the upstream JSON is buffered (bounded), filtered and re-sent. Everything else
 * streams untouched.
 */
import type { RequestContext } from '../../pipeline/context.ts';

export interface FilterContext {
  /** Tenants the caller belongs to; undefined for administrators (no filtering). */
  readonly visibleTenants: readonly string[] | undefined;
}

export type ResponseFilter = (body: unknown, ctx: RequestContext, f: FilterContext) => unknown;

/** `GET /api/3.0/mlflow/workspaces` → `{workspaces: [{name, ...}], next_page_token?}`: only the caller's. */
const workspacesList: ResponseFilter = (body, _ctx, f) => {
  if (f.visibleTenants === undefined || typeof body !== 'object' || body === null) return body;
  const list = (body as { workspaces?: unknown }).workspaces;
  if (!Array.isArray(list)) return body;
  const visible = new Set(f.visibleTenants);
  return { ...body, workspaces: list.filter((w) => typeof w === 'object' && w !== null && visible.has(String((w as { name?: unknown }).name))) };
};

export const RESPONSE_FILTERS: Readonly<Record<string, ResponseFilter>> = {
  'workspaces.list': workspacesList,
};
