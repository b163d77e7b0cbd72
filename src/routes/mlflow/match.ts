/**
 * Finds the route-table row for a (method, canonical path), the way MLflow dispatches:
 * FastAPI routes first, in registration order (the table keeps that order; greedy `{x:path}`
 * parameters make order matter), then the Flask app mounted at `/`, where werkzeug prefers
 * static rules over rules with parameters. No row: no route.
 */
import { concretePaths } from './expand.ts';
import type { RouteRow } from './table.ts';

export interface RouteMatch {
  readonly row: RouteRow;
  /** The matched path template (`/api/2.0/mlflow/logged-models/{model_id}`). */
  readonly template: string;
  /** Decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
}

interface Candidate {
  readonly row: RouteRow;
  readonly template: string;
  /** The template up to its first parameter: a cheap filter before the regex. */
  readonly literal: string;
  readonly regex: RegExp | undefined;
  readonly names: readonly string[];
}

export interface RouteMatcher {
  match(method: string, path: string): RouteMatch | undefined;
  /** Whether any row serves this path with another method (for a precise error message). */
  pathExists(path: string): boolean;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}$/;

function compile(row: RouteRow, template: string): Candidate {
  const brace = template.indexOf('{');
  if (brace === -1) return { row, template, literal: template, regex: undefined, names: [] };
  const names: string[] = [];
  const source = template
    .split(/(\{[A-Za-z_][A-Za-z0-9_]*(?::path)?\})/)
    .map((part) => {
      const m = PARAM.exec(part);
      if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]!);
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { row, template, literal: template.slice(0, brace), regex: new RegExp(`^${source}$`), names };
}

function tryMatch(c: Candidate, path: string): RouteMatch | undefined {
  if (!path.startsWith(c.literal)) return undefined;
  if (!c.regex) return path === c.literal ? { row: c.row, template: c.template, params: {} } : undefined;
  const m = c.regex.exec(path);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  c.names.forEach((name, i) => (params[name] = m[i + 1]!));
  return { row: c.row, template: c.template, params };
}

export function compileRoutes(rows: readonly RouteRow[]): RouteMatcher {
  const fastapi = new Map<string, Candidate[]>();
  const flaskExact = new Map<string, RouteMatch>();
  const flaskPatterns = new Map<string, Candidate[]>();
  const push = (m: Map<string, Candidate[]>, method: string, c: Candidate) => m.set(method, [...(m.get(method) ?? []), c]);
  for (const row of rows) {
    for (const template of concretePaths(row)) {
      const c = compile(row, template);
      if (row.app === 'fastapi') push(fastapi, row.method, c);
      else if (!c.regex) flaskExact.set(`${row.method} ${template}`, { row, template, params: {} });
      else push(flaskPatterns, row.method, c);
    }
  }
  const match = (method: string, path: string): RouteMatch | undefined => {
    for (const c of fastapi.get(method) ?? []) {
      const hit = tryMatch(c, path);
      if (hit) return hit;
    }
    const exact = flaskExact.get(`${method} ${path}`);
    if (exact) return exact;
    for (const c of flaskPatterns.get(method) ?? []) {
      const hit = tryMatch(c, path);
      if (hit) return hit;
    }
    return undefined;
  };
  const methods = [...new Set(rows.map((r) => r.method))];
  return { match, pathExists: (path) => methods.some((m) => match(m, path) !== undefined) };
}
