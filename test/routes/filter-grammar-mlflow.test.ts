/**
 * Differential test of src/routes/mlflow/filter-grammar.ts against MLflow's real parser
 * (SearchExperimentsUtils and SearchModelUtils in mlflow/utils/search_utils.py, sqlparse
 * underneath), run from the project's MLflow virtualenv. Whenever our grammar accepts a filter,
 * MLflow must read our constrained filter as exactly its reading of the original plus the
 * tenant clause: the appended constraint can neither vanish into a literal or comment nor
 * change what the caller's comparisons mean.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { GatehouseError } from '../../src/errors.ts';
import { constrainFilter, parseSearchFilter, type FilterClause } from '../../src/routes/mlflow/filter-grammar.ts';
import { runPython } from '../harness/python-client.ts';

const ORACLE = path.join(import.meta.dirname, 'filter_grammar_oracle.py');
const TAG_KEY = 'gatehouse.tenant';
const TENANT = 'team-a';
const TENANT_CLAUSE = { type: 'tag', key: TAG_KEY, comparator: '=', value: TENANT };

/** [filter, whether our grammar accepts it]. */
const CORPUS: readonly (readonly [string, boolean])[] = [
  // Ordinary filters MLflow users write.
  ["name = 'x'", true],
  ["name LIKE 'team-%'", true],
  ["name ILIKE '%Prod%'", true],
  ["name != 'y'", true],
  ["tags.owner = 'x' AND name != 'y'", true],
  ['attribute.creation_time > 5', true],
  ['creation_time >= 1700000000000 AND last_update_time < 1800000000000', true],
  ['creation_time > -5.5', true],
  ['attribute.creation_time <= 0', true],
  ["attributes.name = 'x'", true],
  ["tag.owner = 'x'", true],
  ["tags.`mlflow.prompt.is_prompt` != 'true'", true],
  ["tags.`gatehouse.tenant` = 'team-b'", true],
  ['tags."x" = "y"', true],
  ["tags.\"a b\" = 'c d'", true],
  ["tags.a.b = 'x'", true],
  ["tags.`ü-ключ` = 'é日本'", true],
  ["name = 'ünïcødé ✓'", true],
  ["name = ''", true],
  ['name = ""', true],
  ["name LIKE '%'", true],
  ["name LIKE '_a%b'", true],
  ["name like 'x' and tags.k = 'v'", true],
  ["name='x'", true],
  ["name LIKE'x%' AND tags.`a`='b'", true],
  ["name = 'x'   AND   tags.k != 'v'", true],
  ['  name = "x"  ', true],
  ["experiment_id IN ('1', '2')", true],
  ["experiment_id NOT IN ('3')", true],
  ["experiment_id IN('1','2')", true],
  ["name IN ('a', \"b\")", true],
  ["name not in ('a')", true],
  ['tags.x IS NULL', true],
  ['tags.x IS NOT NULL', true],
  ['tags.x is not null', true],
  ["tags.`end` = 'x'", true],
  ['', true],
  ['   ', true],
  // Values holding what sqlparse would read as comments, statements or escapes outside quotes.
  ["name = 'a -- b'", true],
  ["name = 'a /* b */ c'", true],
  ["name = 'x; DROP TABLE experiments'", true],
  ["name = 'a # b'", true],
  ["name = '$$ AND name = $$'", true],
  ["name = 'a OR b'", true],
  ["name = '%s'", true],
  ["name = ':p AND ?'", true],
  ['creation_time = 12345678901234567890', false],
  // Rejected: MLflow would read these differently from a naive parser, or they are not MLflow's grammar.
  ["name = 'a\\' AND tags.k = 'v'", false],
  // A naive reader sees two comparisons; sqlparse sees one string, then a comment that would swallow our clause.
  ["name = 'a\\' AND tags.k = ' -- '", false],
  ["name = \"a\\\" AND tags.k = \" -- \"", false],
  ["name = 'a\\\\' AND tags.k = 'v'", false],
  ["name = 'a'' AND name = ''b'", false],
  ["name = 'it''s'", false],
  ["name = \"a\"\" AND name = \"\"b\"", false],
  ["name = 'a\"b'", false],
  ["name = \"a'b\"", false],
  ["name = 'x' -- ", false],
  ["name = 'x' --", false],
  ["name = 'x' /* c */", false],
  ["name = 'x' /*", false],
  ["name = 'x'; DROP", false],
  ["name = 'x';", false],
  ["name = 'x' # c", false],
  ["name = 'x' OR name = 'y'", false],
  ["name = 'x' or name = 'y'", false],
  ["(name = 'x')", false],
  ["name = 'x' AND (tags.k = 'v')", false],
  ["name = ('x')", false],
  ["tags.`a``b` = 'x'", false],
  ["tags.`a'b` = 'x'", false],
  ['tags.`a\\` = \'x\'', false],
  ["`tags.x` = 'y'", false],
  ["tags.`` = 'x'", false],
  ["tags . x = 'y'", false],
  ["tags.end = 'x'", false],
  ["name = 'a' 'b'", false],
  ['name = "a" "b"', false],
  ["name = 'x' AND", false],
  ["AND name = 'x'", false],
  ["name = 'x' AND AND name = 'y'", false],
  ["name = 'x' name = 'y'", false],
  ["name = 'x'AND tags.k = 'v'", false],
  ['creation_time > 5e3', false],
  ['creation_time > 0x1f', false],
  ['creation_time > 5.', false],
  ['creation_time > --5', false],
  ["name NOT LIKE 'x'", false],
  ["name <> 'x'", false],
  ["name == 'x'", false],
  ["name = $$x$$", false],
  ['name = :p', false],
  ['name = ?', false],
  ['name = %s', false],
  ["name = 'x\n' AND tags.k = 'v'", false],
  ["name = 'x'\tAND tags.k = 'v'", false],
  ["name = 'x'\u00a0AND tags.k = 'v'", false],
  ['experiment_id IN (1, 2)', false],
  ['experiment_id IN ()', false],
  ["experiment_id IN ('1',)", false],
  ["experiment_id IN ('1' '2')", false],
  ['tags.x is  not   null', false],
  ["name = 'x' AND tags.k = 'v' OR 1 = 1", false],
  ["name BETWEEN 'a' AND 'z'", false],
  ["CASE = 'x'", false],
];

interface MlflowReading {
  readonly ok: boolean;
  readonly error?: string;
  readonly clauses?: readonly { readonly type: string; readonly key: string; readonly comparator: string; readonly value: unknown }[];
}
interface OracleResult {
  readonly experiments: MlflowReading;
  readonly models: MlflowReading;
  readonly flags: readonly string[];
}

function ours(filter: string): { clauses: FilterClause[]; constrained: string } | { refused: string } {
  try {
    return { clauses: parseSearchFilter(filter), constrained: constrainFilter(filter, TAG_KEY, TENANT) };
  } catch (err) {
    assert.ok(err instanceof GatehouseError, `non-Gatehouse error for ${JSON.stringify(filter)}: ${String(err)}`);
    assert.equal(err.code, 'GATEHOUSE_REQUEST_UNSAFE_FILTER');
    return { refused: err.detail ?? '' };
  }
}

describe('filter grammar against MLflow 3.18 search_utils', () => {
  const readings = new Map<string, OracleResult>();
  let dir = '';

  before(async () => {
    const texts = new Set<string>();
    for (const [filter] of CORPUS) {
      texts.add(filter);
      const mine = ours(filter);
      if ('constrained' in mine) texts.add(mine.constrained);
    }
    dir = mkdtempSync(path.join(tmpdir(), 'gh-filter-'));
    const file = path.join(dir, 'filters.json');
    const list = [...texts];
    writeFileSync(file, JSON.stringify(list));
    const run = await runPython(ORACLE, { FILTERS_FILE: file }, 120_000);
    assert.equal(run.code, 0, `oracle failed: ${run.stderr.slice(-3000)}`);
    const out = JSON.parse(run.stdout) as { results: OracleResult[] };
    assert.equal(out.results.length, list.length);
    list.forEach((t, i) => readings.set(t, out.results[i]!));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the corpus is large and mixed', () => {
    assert.ok(CORPUS.length >= 80, `corpus has ${CORPUS.length} filters`);
    assert.ok(CORPUS.filter(([, a]) => a).length >= 30);
    assert.ok(CORPUS.filter(([, a]) => !a).length >= 30);
  });

  for (const [filter, accept] of CORPUS) {
    test(`${accept ? 'accepts' : 'refuses'} ${JSON.stringify(filter)}`, () => {
      const mine = ours(filter);
      if (!('constrained' in mine)) {
        assert.equal(accept, false, `refused: ${mine.refused}`);
        return;
      }
      const original = readings.get(filter)!;
      const constrained = readings.get(mine.constrained)!;
      assert.deepEqual(original.flags, [], `sqlparse sees ${original.flags.join(', ')} in a filter we accepted`);
      assert.deepEqual(constrained.flags, [], `sqlparse sees ${constrained.flags.join(', ')} in what we forward`);
      for (const which of ['experiments', 'models'] as const) {
        const before = original[which];
        const after = constrained[which];
        if (before.ok) {
          assert.ok(after.ok, `${which}: MLflow refuses our ${JSON.stringify(mine.constrained)}: ${after.error}`);
          assert.deepEqual(after.clauses, [...before.clauses!, TENANT_CLAUSE], `${which}: ${JSON.stringify(mine.constrained)}`);
        } else if (filter.trim() !== '') {
          // MLflow refuses the caller's filter; it must refuse what we forward too (same error to the caller).
          assert.ok(!after.ok, `${which}: MLflow refuses ${JSON.stringify(filter)} (${before.error}) but accepts ${JSON.stringify(mine.constrained)}`);
        } else {
          // An all-space filter is "no filter" to us (MLflow alone errors on it): only the tenant clause remains.
          assert.deepEqual(after.clauses, [TENANT_CLAUSE]);
        }
      }
      assert.equal(accept, true, `accepted as ${mine.constrained}`);
    });
  }

  test('typical MLflow filters are accepted by both parsers', () => {
    for (const filter of ["name LIKE 'team-%'", "tags.owner = 'x' AND name != 'y'", 'attribute.creation_time > 5', "tags.`mlflow.prompt.is_prompt` != 'true'"]) {
      assert.ok('constrained' in ours(filter), filter);
      assert.ok(readings.get(filter)!.experiments.ok, `MLflow: ${readings.get(filter)!.experiments.error}`);
    }
    assert.ok(readings.get("name IN ('a', \"b\")")!.models.ok);
    assert.ok(readings.get('tags.x IS NOT NULL')!.experiments.ok);
  });

  test('adversarial filters MLflow would read with OR, a comment or a second statement are all refused', () => {
    const dangerous = CORPUS.filter(([f]) => readings.get(f)!.flags.length > 0);
    assert.ok(dangerous.length >= 8, `only ${dangerous.length} flagged filters in the corpus`);
    for (const [filter] of dangerous) assert.ok('refused' in ours(filter), `accepted ${JSON.stringify(filter)} (${readings.get(filter)!.flags.join(', ')})`);
  });
});
