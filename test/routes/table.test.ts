import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';

import { renderRoutesMarkdown } from '../../src/routes/mlflow/docs.ts';
import { concretePaths, diffRoutes, expandTable, normalizeRoutePath, type RouteDiff } from '../../src/routes/mlflow/expand.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import type { RouteRow } from '../../src/routes/mlflow/table.ts';

/** One route as `scripts/mlflow/list_routes.py` prints it. */
interface ServedRoute {
  readonly method: string;
  readonly path: string;
  readonly app: string;
  readonly endpoint: string;
  readonly rpc?: string;
  readonly fields?: readonly { readonly name: string; readonly json: string; readonly repeated: boolean; readonly message: string | null }[];
}

interface RouteListing {
  readonly mlflow: string;
  readonly routes: readonly ServedRoute[];
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'mlflow-3.18.0-routes.json');
const PYTHON = path.join(ROOT, '.tools', 'mlflow-venv', 'bin', 'python');
const LIST_ROUTES = path.join(ROOT, 'scripts', 'mlflow', 'list_routes.py');

const fixture = parseListing(readFileSync(FIXTURE, 'utf8'), FIXTURE);

function parseListing(text: string, source: string): RouteListing {
  const parsed: unknown = JSON.parse(text);
  assert.ok(
    typeof parsed === 'object' && parsed !== null && 'routes' in parsed && Array.isArray(parsed.routes) && 'mlflow' in parsed,
    `${source} is not a route listing`,
  );
  return parsed as RouteListing;
}

function formatDiff(diff: RouteDiff): string {
  const list = (title: string, routes: readonly { method: string; path: string }[]) =>
    routes.length === 0 ? '' : `\n${title} (${routes.length}):\n${routes.map((r) => `  ${r.method} ${r.path}`).join('\n')}`;
  return (
    list('served by MLflow but not in the table', diff.missing) +
    list('in the table but not served', diff.stale) +
    list('in the table more than once', diff.duplicated)
  );
}

function assertNoDiff(diff: RouteDiff, against: string): void {
  const text = formatDiff(diff);
  assert.equal(text, '', `route table differs from ${against}:${text}`);
}

const servedKey = (r: { method: string; path: string }) => `${r.method} ${normalizeRoutePath(r.path)}`;

test('the table covers the fixture routes exactly, in both directions', () => {
  assertNoDiff(diffRoutes(MLFLOW_ROUTES, fixture.routes), FIXTURE);
  const uniqueServed = new Set(fixture.routes.map(servedKey));
  assert.equal(expandTable(MLFLOW_ROUTES).length, uniqueServed.size);
});

test('the table and the fixture match the installed MLflow', async () => {
  const hint =
    'the MLflow virtual environment is missing; install it (MLflow 3.18.0 into .tools/mlflow-venv, see scripts/mlflow) ' +
    'so the route table can be checked against the live server';
  assert.ok(existsSync(PYTHON), `${PYTHON}: ${process.env.CI === 'true' ? `CI: ${hint}` : hint}`);

  const env: NodeJS.ProcessEnv = { ...process.env };
  // A static prefix would move every Flask route; the table is written for an unprefixed server.
  delete env._MLFLOW_STATIC_PREFIX;
  const { stdout } = await promisify(execFile)(PYTHON, [LIST_ROUTES], {
    cwd: ROOT,
    env,
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const live = parseListing(stdout, LIST_ROUTES);

  assertNoDiff(diffRoutes(MLFLOW_ROUTES, live.routes), `the installed MLflow ${live.mlflow}`);
  assert.equal(live.mlflow, fixture.mlflow, 'the installed MLflow version differs from the fixture; regenerate the fixture');
  assert.deepEqual(live.routes, fixture.routes, `${FIXTURE} is stale; regenerate it with scripts/mlflow/list_routes.py`);
});

test('the comparison fails when MLflow stops serving a route', () => {
  const counts = new Map<string, number>();
  for (const r of fixture.routes) counts.set(servedKey(r), (counts.get(servedKey(r)) ?? 0) + 1);
  const removed = fixture.routes.find((r) => counts.get(servedKey(r)) === 1);
  assert.ok(removed, 'no route is served by exactly one app');
  const diff = diffRoutes(MLFLOW_ROUTES, fixture.routes.filter((r) => r !== removed));
  assert.deepEqual(diff.stale, [{ method: removed.method, path: normalizeRoutePath(removed.path) }]);
  assert.deepEqual(diff.missing, []);
});

test('the comparison fails when MLflow serves a route nobody classified', () => {
  const extra = { method: 'POST', path: '/api/2.0/mlflow/<experiment_id>/not-a-route' };
  const diff = diffRoutes(MLFLOW_ROUTES, [...fixture.routes, extra]);
  assert.deepEqual(diff.missing, [{ method: 'POST', path: '/api/2.0/mlflow/{experiment_id}/not-a-route' }]);
  assert.deepEqual(diff.stale, []);
});

test('the comparison fails when a row is removed or duplicated', () => {
  const dropped = MLFLOW_ROUTES.find((row) => row.op === 'runs.logMetric');
  assert.ok(dropped);
  const withoutRow = diffRoutes(
    MLFLOW_ROUTES.filter((row) => row !== dropped),
    fixture.routes,
  );
  assert.deepEqual(
    withoutRow.missing,
    concretePaths(dropped).map((p) => ({ method: dropped.method, path: p })).sort((a, b) => a.path.localeCompare(b.path)),
  );

  const doubled = diffRoutes([...MLFLOW_ROUTES, dropped], fixture.routes);
  assert.equal(doubled.duplicated.length, concretePaths(dropped).length);
});

test('op ids are unique and well formed', () => {
  const seen = new Set<string>();
  for (const row of MLFLOW_ROUTES) {
    assert.match(row.op, /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/, `malformed op id ${row.op}`);
    assert.ok(!seen.has(row.op), `duplicate op id ${row.op}`);
    seen.add(row.op);
  }
});

test('GET routes take no body', () => {
  const withBody = MLFLOW_ROUTES.filter((row) => row.method === 'GET' && row.body !== 'none').map((row) => row.op);
  assert.deepEqual(withBody, []);
});

test('resource-level actions name a resource, or say why not', () => {
  const needsResource = new Set(['read', 'use', 'edit', 'manage']);
  const unexplained = MLFLOW_ROUTES.filter(
    (row) =>
      needsResource.has(row.action) &&
      (row.resources ?? []).length === 0 &&
      row.tenancy !== 'search' &&
      (row.note ?? '').trim() === '',
  ).map((row) => row.op);
  assert.deepEqual(unexplained, []);
});

test('path and artifact-path id sources name a parameter of the row path', () => {
  const params = (row: RouteRow) => new Set([...row.path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)(?::path)?\}/g)].map((m) => m[1]));
  const problems: string[] = [];
  for (const row of MLFLOW_ROUTES) {
    const names = params(row);
    for (const ref of row.resources ?? []) {
      for (const id of ref.ids) {
        if ((id.in === 'path' || id.in === 'artifact-path') && !names.has(id.field)) {
          problems.push(`${row.op}: ${id.in} ${id.field} is not a parameter of ${row.path}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('GET proto routes list exactly the repeated scalar fields of their request message', () => {
  const byKey = new Map<string, ServedRoute[]>();
  for (const r of fixture.routes) byKey.set(servedKey(r), [...(byKey.get(servedKey(r)) ?? []), r]);
  const problems: string[] = [];
  let checked = 0;
  for (const row of MLFLOW_ROUTES) {
    if (row.method !== 'GET') continue;
    for (const concrete of concretePaths(row)) {
      for (const served of byKey.get(`GET ${concrete}`) ?? []) {
        if (served.fields === undefined) continue;
        checked += 1;
        const want = served.fields.filter((f) => f.repeated && f.message === null).map((f) => f.name).sort();
        const have = [...(row.repeated ?? [])].sort();
        if (want.join(',') !== have.join(',')) problems.push(`${row.op} ${concrete}: repeated [${have}] but the proto has [${want}]`);
      }
    }
  }
  assert.ok(checked > 0, 'no GET proto route was checked');
  assert.deepEqual(problems, []);
});

test('the markdown reference lists every row under its family with the action counts', () => {
  const doc = renderRoutesMarkdown(MLFLOW_ROUTES, fixture.mlflow);
  assert.ok(doc.startsWith('# MLflow routes\n'));
  assert.match(doc, /src\/routes\/mlflow\/table\.ts/);
  assert.match(doc, /do not edit by hand/);
  assert.match(doc, new RegExp(`MLflow ${fixture.mlflow.replace(/\./g, '\\.')}`));
  for (const row of MLFLOW_ROUTES) assert.ok(doc.includes(`| \`${row.op}\` | ${row.method} |`), `${row.op} missing from the document`);
  const counted = [...doc.matchAll(/^\| (public|authenticated|read|use|edit|manage|create|admin|deny) \| (\d+) \|$/gm)];
  assert.equal(counted.length, 9);
  assert.equal(counted.reduce((n, m) => n + Number(m[2]), 0), MLFLOW_ROUTES.length);
  assert.match(doc, /^## runs$/m);
  assert.equal(renderRoutesMarkdown(MLFLOW_ROUTES, fixture.mlflow), doc, 'rendering is not deterministic');
});
