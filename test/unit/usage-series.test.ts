/**
 * The usage analytics series (src/admin/usage.ts, GET /_gatehouse/api/v1/usage) are a column of
 * the route table (STYLE.md lesson 15): which operations a series counts is read from the rows'
 * `usageSeries`, not listed by hand beside them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/paths.ts';
import { USAGE_SERIES } from '../../src/admin/usage.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';

test('each usage series counts exactly the operations whose rows name it', () => {
  const fromRows = new Map<string, Set<string>>();
  for (const row of MLFLOW_ROUTES) {
    const series = (row as { usageSeries?: string }).usageSeries;
    if (series !== undefined) (fromRows.get(series) ?? fromRows.set(series, new Set()).get(series)!).add(row.op);
  }
  assert.deepEqual(Object.keys(USAGE_SERIES).sort(), ['modelReferences', 'modelRegistrations', 'runsCreated']);
  for (const [name, ops] of Object.entries(USAGE_SERIES)) assert.deepEqual(new Set(ops), fromRows.get(name) ?? new Set(), name);
  // The public meaning of the series, as docs/operations.md states it.
  assert.deepEqual([...USAGE_SERIES.runsCreated].sort(), ['runs.create']);
  assert.deepEqual([...USAGE_SERIES.modelRegistrations].sort(), ['modelVersions.create', 'registeredModels.create']);
  assert.deepEqual([...USAGE_SERIES.modelReferences].sort(), ['loggedModels.get', 'loggedModels.getArtifactFile', 'modelVersions.getArtifact', 'modelVersions.getDownloadUri']);
});

test('src/admin/usage.ts names no operation id: the series come from the table', () => {
  const text = readFileSync(join(ROOT, 'src/admin/usage.ts'), 'utf8');
  const ops = new Set(MLFLOW_ROUTES.map((r) => r.op));
  const named = [...text.matchAll(/'([A-Za-z]+\.[A-Za-z]+)'/g)].map((m) => m[1]!).filter((s) => ops.has(s as never));
  assert.deepEqual(named, []);
});
