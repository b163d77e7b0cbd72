/**
 * One home per rule (issue 19 steps 3 and 4; STYLE.md lessons 15 and 18). These read the source
 * of src/ and fail on a rule written outside its home:
 * - the tenancy mode is branched on only in src/tenancy/ and the configuration schema (the
 *   tenancy sub-schema in src/policy/config.ts, the validation in src/config/schema.ts);
 * - a route's operation id is compared only in the route table and its columns (src/routes/mlflow/).
 * Each pattern is also checked to match a line written the forbidden way, so the scan cannot
 * pass by matching nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../harness/paths.ts';
import { routeOfOp, type Op } from '../../src/routes/mlflow/table.ts';

const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `file:line: text` of every line of src/ outside `homes` (path prefixes) that matches one of `patterns`. */
function offenders(patterns: readonly RegExp[], homes: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(ROOT, file);
    if (homes.some((h) => rel === h || rel.startsWith(h))) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (patterns.some((p) => p.test(line))) found.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

/** Code reading the configured mode: `config.tenancy.mode === ...`, `tenancy?.mode)`, `mode !== 'tag'`, `'instance' === mode`. */
const MODE_BRANCHES = [
  /\btenancy\??\.mode\s*(?:[=!]==?|[),;?}\]]|$)/,
  /\bmode\s*[=!]==?\s*['"](?:workspace|tag|instance)['"]/,
  /['"](?:workspace|tag|instance)['"]\s*[=!]==?\s*\w*\.?mode\b/,
  /\bcase\s+['"](?:tag|instance)['"]\s*:/,
];

test('the tenancy mode is branched on only in src/tenancy/ and the configuration schema', () => {
  for (const line of ["if (config.tenancy.mode === 'tag') {", "const x = src.tenancy?.mode;", "mode !== 'instance'", "case 'tag':"]) {
    assert.ok(MODE_BRANCHES.some((p) => p.test(line)), `the scan recognises ${line}`);
  }
  // Prose naming the option is not a branch.
  assert.ok(!MODE_BRANCHES.some((p) => p.test("'- **Tag mode** (`tenancy.mode: tag`; any MLflow')")));
  assert.deepEqual(offenders(MODE_BRANCHES, ['src/tenancy/', 'src/config/schema.ts', 'src/policy/config.ts']), []);
});

/** An operation id compared or matched by prefix: `row.op === '...'`, `op !== X`, `.op.startsWith(`. */
const OP_COMPARISONS = [/(?:^|[^\w$])op\s*[=!]==?/, /[=!]==?\s*(?:\w+\.)*op\b(?!\w)/, /\.op\.(?:startsWith|endsWith|includes)\(/, /\bop\.startsWith\(/];

test('a route operation id is compared only in the route table and its columns', () => {
  for (const line of ["if (ctx.route!.row.op !== 'experiments.create') return;", "if (op === 'artifactsProxy.download') {", "!row.op.startsWith('workspaces.')", "MLFLOW_ROUTES.find((r) => r.op === input.op)"]) {
    assert.ok(OP_COMPARISONS.some((p) => p.test(line)), `the scan recognises ${line}`);
  }
  assert.ok(!OP_COMPARISONS.some((p) => p.test('const lastFull = drop === segments.length - 1;')));
  // src/scim/ reads SCIM PATCH operations, whose `op` (add/replace/remove, RFC 7644 §3.5.2) is no route operation.
  assert.deepEqual(offenders(OP_COMPARISONS, ['src/routes/mlflow/', 'src/scim/']), []);
});

test('an operation id the table does not list does not compile', () => {
  const listed: Op = 'experiments.search';
  // @ts-expect-error a misspelled operation id is not an Op (this line fails `npx tsc --noEmit -p .` once Op is a plain string)
  const misspelled: Op = 'experiments.serch';
  assert.equal(routeOfOp(listed)?.op, listed);
  assert.equal(routeOfOp(misspelled), undefined);
});

test('stages read the request context through typed phases: no non-null assertion on it in src/', () => {
  const ASSERTED = [/\bctx\.[A-Za-z]+(?:\.[A-Za-z]+)*!/];
  assert.ok(ASSERTED.some((p) => p.test('const row = ctx.route!.row;')) && ASSERTED.some((p) => p.test('method: ctx.req.method!,')));
  assert.deepEqual(offenders(ASSERTED, []), []);
});
