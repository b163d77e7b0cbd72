import type { RouteRow } from './table.ts';

/** One concrete (method, path) pair the MLflow server registers. Path parameters as `{x}` / `{x:path}`. */
export interface ConcreteRoute {
  readonly method: string;
  readonly path: string;
}

/** Every concrete path a row stands for: `/api/{v}.0<path>` and its `/ajax-api` twin, or the absolute path. */
export function concretePaths(row: RouteRow): string[] {
  if (row.version === undefined) return [row.path];
  const prefixes = row.prefixes ?? ['api', 'ajax-api'];
  return prefixes.map((prefix) => `/${prefix}/${row.version}.0${row.path}`);
}

export function expandTable(rows: readonly RouteRow[]): ConcreteRoute[] {
  return rows.flatMap((row) => concretePaths(row).map((path) => ({ method: row.method, path })));
}

/** Flask `<x>` / `<path:x>` / `<int:x>` and FastAPI `{x}` / `{x:path}` → the table's notation. */
export function normalizeRoutePath(path: string): string {
  return path
    .replace(/<path:([A-Za-z_][A-Za-z0-9_]*)>/g, '{$1:path}')
    .replace(/<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>/g, '{$1}');
}

export interface RouteDiff {
  /** Served by MLflow, absent from the table: a route nobody classified. */
  readonly missing: ConcreteRoute[];
  /** In the table, not served by MLflow: a stale row. */
  readonly stale: ConcreteRoute[];
  /** The same (method, path) more than once in the table. */
  readonly duplicated: ConcreteRoute[];
}

const key = (r: ConcreteRoute) => `${r.method} ${r.path}`;

/** Compares the table with the routes an installed MLflow registers, in both directions. */
export function diffRoutes(rows: readonly RouteRow[], served: readonly ConcreteRoute[]): RouteDiff {
  const table = expandTable(rows);
  const seen = new Map<string, number>();
  for (const r of table) seen.set(key(r), (seen.get(key(r)) ?? 0) + 1);
  const servedKeys = new Set(served.map((r) => key({ method: r.method, path: normalizeRoutePath(r.path) })));
  const missing = [...servedKeys].filter((k) => !seen.has(k)).sort().map(unkey);
  const stale = [...seen.keys()].filter((k) => !servedKeys.has(k)).sort().map(unkey);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([k]) => unkey(k));
  return { missing, stale, duplicated };
}

function unkey(k: string): ConcreteRoute {
  const space = k.indexOf(' ');
  return { method: k.slice(0, space), path: k.slice(space + 1) };
}
