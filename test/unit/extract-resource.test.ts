/**
 * The extract stage on input-sized bodies: identifiers in lists of any length are read by
 * iterating, never by spreading a list into a call (V8 limits the arguments of one call: a
 * 200,000-element `push(...list)` throws RangeError, which the runner turned into a 500).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractResource } from '../../src/pipeline/stages/extract-resource.ts';
import type { Matched } from '../../src/pipeline/context.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';

function extract(op: string, json: Record<string, unknown>): Matched {
  const row = MLFLOW_ROUTES.find((r) => r.op === op)!;
  const ctx = {
    req: { method: row.method, headers: {} },
    route: { row, template: row.path, params: {} },
    target: { path: '', rawPath: '', rawQuery: '', query: new Map() },
    json,
    body: Buffer.from(JSON.stringify(json)),
    tenant: 'team-a',
    resources: [],
  } as unknown as Matched;
  extractResource.run(ctx);
  return ctx;
}

const N = 200_000;

test(`a repeated id field of ${N} values is read whole`, () => {
  const ctx = extract('runs.search', { experiment_ids: Array.from({ length: N }, (_, i) => String(i)) });
  assert.equal(ctx.resources.length, N);
  assert.equal(ctx.resources.at(-1)!.id, String(N - 1));
});

test(`an id inside ${N} repeated messages is read whole`, () => {
  const ctx = extract('runs.logBatch', { run_id: 'r', metrics: Array.from({ length: N }, (_, i) => ({ key: 'k', value: 1, timestamp: 0, step: i, model_id: `m-${i}` })) });
  assert.equal(ctx.resources.filter((r) => r.kind === 'logged_model').length, N);
});
