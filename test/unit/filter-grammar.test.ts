import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { GatehouseError } from '../../src/errors.ts';
import { constrainFilter, MAX_FILTER_BYTES, MAX_FILTER_CLAUSES, parseSearchFilter, serializeFilter } from '../../src/routes/mlflow/filter-grammar.ts';

const TENANT_TAIL = " AND tags.`gatehouse.tenant` = 'team-a'";
const constrain = (f: string | undefined | null) => constrainFilter(f, 'gatehouse.tenant', 'team-a');

/** Asserts the filter is refused with the grammar's error, and returns the private detail. */
function refused(filter: string): string {
  let detail = '';
  assert.throws(
    () => parseSearchFilter(filter),
    (e: unknown) => {
      assert.ok(e instanceof GatehouseError, `expected a GatehouseError for ${JSON.stringify(filter)}, got ${String(e)}`);
      assert.equal(e.code, 'GATEHOUSE_REQUEST_UNSAFE_FILTER');
      assert.equal(e.spec.status, 400);
      assert.equal(e.spec.mlflowCode, 'INVALID_PARAMETER_VALUE');
      detail = e.detail ?? '';
      return true;
    },
    `accepted ${JSON.stringify(filter)}`,
  );
  assert.throws(() => constrain(filter), GatehouseError);
  return detail;
}

describe('parseSearchFilter accepts MLflow filters', () => {
  const cases: [string, unknown[]][] = [
    ["name = 'x'", [{ key: 'name', comparator: '=', value: 'x' }]],
    ["attribute.name LIKE 'team-%'", [{ key: 'attribute.name', comparator: 'LIKE', value: 'team-%' }]],
    ["name ilike '%Prod_%'", [{ key: 'name', comparator: 'ILIKE', value: '%Prod_%' }]],
    [
      "tags.owner = 'x' and name != \"y\"",
      [
        { key: 'tags.owner', comparator: '=', value: 'x' },
        { key: 'name', comparator: '!=', value: 'y' },
      ],
    ],
    ['tags.`a.b` = \'c\'', [{ key: 'tags.`a.b`', comparator: '=', value: 'c' }]],
    ['tags."x y" = \'c\'', [{ key: 'tags."x y"', comparator: '=', value: 'c' }]],
    ['creation_time >= 1700000000000', [{ key: 'creation_time', comparator: '>=', value: 1700000000000 }]],
    ['creation_time < -1.25', [{ key: 'creation_time', comparator: '<', value: -1.25 }]],
    ["experiment_id IN ('1', \"2\")", [{ key: 'experiment_id', comparator: 'IN', value: ['1', '2'] }]],
    ["name not in('a')", [{ key: 'name', comparator: 'NOT IN', value: ['a'] }]],
    ['tags.x IS NULL', [{ key: 'tags.x', comparator: 'IS NULL' }]],
    ['tags.x is not null', [{ key: 'tags.x', comparator: 'IS NOT NULL' }]],
    ["name = 'ünïcødé 日本 ✓'", [{ key: 'name', comparator: '=', value: 'ünïcødé 日本 ✓' }]],
    ["name = 'a -- b /* c */ ; # d OR e $$'", [{ key: 'name', comparator: '=', value: 'a -- b /* c */ ; # d OR e $$' }]],
    ["name = ''", [{ key: 'name', comparator: '=', value: '' }]],
    ['', []],
    ['    ', []],
  ];
  for (const [filter, want] of cases) test(JSON.stringify(filter), () => assert.deepEqual(parseSearchFilter(filter), want));
});

describe('parseSearchFilter refuses what it cannot read exactly as sqlparse does', () => {
  const cases: [string, string, RegExp][] = [
    ['a backslash-escaped quote', "name = 'a\\' AND tags.k = ' -- '", /backslash/],
    ['a trailing backslash', "name = 'a\\\\'", /backslash/],
    ['doubled single quotes', "name = 'it''s'", /doubled or adjacent quotes/],
    ['doubled double quotes', 'name = "a"" AND x = ""b"', /doubled or adjacent quotes/],
    ['the other quote inside a string', "name = 'a\"b'", /quote character/],
    ['a line comment', "name = 'x' -- ", /expected AND/],
    ['a block comment', "name = 'x' /* AND */", /expected AND/],
    ['a hash comment', "name = 'x' # c", /expected AND/],
    ['a second statement', "name = 'x'; DROP TABLE experiments", /expected a space/],
    ['OR', "name = 'x' OR name = 'y'", /OR is not supported/],
    ['lower-case or', "name = 'x' or name = 'y'", /OR is not supported/],
    ['grouping parentheses', "(name = 'x')", /expected a key/],
    ['a parenthesised value', "name = ('x')", /quoted string or a number/],
    ['a doubled backtick in a key', "tags.`a``b` = 'x'", /doubled or adjacent quotes/],
    ['a quote in a backquoted key', "tags.`a'b` = 'x'", /quote character/],
    ['a backslash in a quoted key', 'tags."a\\" = \'x\'', /backslash/],
    ['an empty quoted key', "tags.`` = 'x'", /empty quoted key/],
    ['a fully backquoted identifier', "`tags.x` = 'y'", /expected a key/],
    ['spaces around the dot', "tags . x = 'y'", /comparator/],
    ['an unquoted reserved word', "tags.end = 'x'", /reserved word/],
    ['an unterminated string', "name = 'x", /unterminated/],
    ['two adjacent strings', "name = 'a' 'b'", /expected AND/],
    ['a dangling AND', "name = 'x' AND", /AND ends the filter/],
    ['a dangling AND and spaces', "name = 'x' AND  ", /expected a key/],
    ['a missing AND', "name = 'x' name = 'y'", /expected AND/],
    ['AND glued to a string', "name = 'x'AND tags.k = 'v'", /expected a space/],
    ['an exponent', 'creation_time > 5e3', /malformed number/],
    ['hex', 'creation_time > 0x1f', /malformed number/],
    ['an unsafe integer', 'creation_time = 12345678901234567890', /exactly/],
    ['a tiny decimal printed with an exponent', 'creation_time = 0.0000001', /exactly/],
    ['NOT LIKE', "name NOT LIKE 'x'", /comparator/],
    ['<>', "name <> 'x'", /unsupported comparator/],
    ['==', "name == 'x'", /unsupported comparator/],
    ['a dollar-quoted string', 'name = $$x$$', /quoted string or a number/],
    ['a placeholder', 'name = :p', /quoted string or a number/],
    ['numbers in an IN list', 'experiment_id IN (1, 2)', /quoted strings only/],
    ['an empty IN list', 'experiment_id IN ()', /quoted strings only/],
    ['a trailing comma in an IN list', "experiment_id IN ('1',)", /quoted strings only/],
    ['extra spaces in IS NOT NULL', 'tags.x is  not   null', /comparator/],
    ['a newline', "name = 'x'\nAND tags.k = 'v'", /control character/],
    ['a tab', "name = 'x'\tAND tags.k = 'v'", /control character/],
    ['NUL', "name = 'x\u0000'", /control character/],
    ['a C1 control', "name = 'x\u0085'", /control character/],
    ['a no-break space', "name = 'x'\u00a0AND tags.k = 'v'", /expected a space/],
    ['an unpaired surrogate', "name = 'x\ud800'", /surrogate/],
  ];
  for (const [name, filter, why] of cases) test(name, () => assert.match(refused(filter), why));

  test('a filter over the size cap', () => assert.match(refused(`name = '${'a'.repeat(MAX_FILTER_BYTES)}'`), /longer than/));
  test('too many comparisons', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `tags.k${i} = 'v'`).join(' AND ');
    assert.equal(parseSearchFilter(many(MAX_FILTER_CLAUSES)).length, MAX_FILTER_CLAUSES);
    assert.match(refused(many(MAX_FILTER_CLAUSES + 1)), /more than/);
  });
});

describe('serializeFilter', () => {
  test('writes the canonical form: backquoted keys, single-quoted values, upper-case keywords', () => {
    assert.equal(
      serializeFilter(parseSearchFilter("tags.a.b = \"x\" and tags.\"c d\" like 'y%' AND tags.`e` != 'z' and name not in (\"p\",'q') and tags.n is not null and creation_time > 5")),
      "tags.`a.b` = 'x' AND tags.`c d` LIKE 'y%' AND tags.`e` != 'z' AND name NOT IN ('p', 'q') AND tags.n IS NOT NULL AND creation_time > 5",
    );
  });
  test('is stable: parsing the canonical form gives it back', () => {
    const canonical = serializeFilter(parseSearchFilter("name LIKE 'a%' AND experiment_id IN ('1') AND tags.x IS NULL"));
    assert.equal(serializeFilter(parseSearchFilter(canonical)), canonical);
  });
  test('refuses clauses the parser would never produce', () => {
    for (const bad of [
      { key: 'name', comparator: '=', value: "x' OR '1'='1" },
      { key: 'name', comparator: '=', value: 'a\\' },
      { key: 'name', comparator: 'OR', value: 'x' },
      { key: "name = 'x' --", comparator: '=', value: 'x' },
      { key: 'tags.`a`b`', comparator: '=', value: 'x' },
      { key: 'name', comparator: 'IN', value: [] },
      { key: 'name', comparator: 'IS NULL', value: 'x' },
      { key: 'name', comparator: '=', value: 1e21 },
      { key: 'name', comparator: '=' },
    ]) assert.throws(() => serializeFilter([bad]), GatehouseError, JSON.stringify(bad));
  });
});

describe('constrainFilter', () => {
  test('appends the tenant tag clause to the canonical filter', () => {
    assert.equal(constrain("name LIKE 'team-%'"), `name LIKE 'team-%'${TENANT_TAIL}`);
    assert.equal(constrain("tags.owner = 'x' and name != \"y\""), `tags.owner = 'x' AND name != 'y'${TENANT_TAIL}`);
  });
  test('an absent, empty or all-space filter becomes the tenant clause alone', () => {
    for (const f of [undefined, null, '', '   ']) assert.equal(constrain(f), "tags.`gatehouse.tenant` = 'team-a'");
  });
  test("a caller's own clause on the tenant tag stays, and ours is still added", () => {
    assert.equal(constrain("tags.`gatehouse.tenant` = 'team-b'"), `tags.\`gatehouse.tenant\` = 'team-b'${TENANT_TAIL}`);
  });
  test('refuses what parseSearchFilter refuses', () => assert.throws(() => constrain("name = 'x' -- "), GatehouseError));
  test('a tag key or tenant that cannot be written safely is a configuration bug (plain Error)', () => {
    for (const [key, tenant] of [
      ['a`b', 't'],
      ['', 't'],
      ["a'b", 't'],
      ['k', "t'"],
      ['k', 't\\'],
      ['k', 't\n'],
    ] as const) {
      assert.throws(
        () => constrainFilter("name = 'x'", key, tenant),
        (e: unknown) => e instanceof Error && !(e instanceof GatehouseError),
        `${key} / ${tenant}`,
      );
    }
    assert.equal(constrainFilter(null, 'team_tag', 'a b'), "tags.`team_tag` = 'a b'");
  });
});
