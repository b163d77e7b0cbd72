import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findSpellingClash, JsonLimitError, parseStrictJson, StrictJsonError } from '../../src/lib/strict-json.ts';

const parse = (s: string | Buffer) => parseStrictJson(typeof s === 'string' ? Buffer.from(s) : s);

test('ordinary JSON parses to the same value as JSON.parse', () => {
  const doc = '{"run_id":"a","metrics":[{"key":"k","value":1.5e3,"timestamp":1700000000000,"step":0}],"x":{"y":[true,false,null,"\\u00e9"]}}';
  assert.deepEqual(parse(doc), JSON.parse(doc));
});

for (const [name, body] of [
  ['duplicate keys', '{"run_id":"a","run_id":"b"}'],
  ['duplicate keys spelled with escapes', '{"run_id":"a","\\u0072un_id":"b"}'],
  ['nested duplicate keys', '{"a":{"k":1,"k":2}}'],
  ['NaN', '{"value":NaN}'],
  ['Infinity', '{"value":Infinity}'],
  ['integer beyond 2^53', '{"experiment_id":9007199254740993}'],
  ['trailing data', '{"a":1} {"b":2}'],
  ['single quotes', "{'a':1}"],
  ['trailing comma', '{"a":1,}'],
  ['leading zero', '{"a":05}'],
  ['plus sign', '{"a":+5}'],
  ['raw control character in a string', '{"a":"x\ny"}'],
] as const) {
  test(`refuses ${name}`, () => assert.throws(() => parse(body), (e: unknown) => e instanceof StrictJsonError || e instanceof SyntaxError));
}

test('refuses a UTF-8 byte-order mark and UTF-16, which Python would decode', () => {
  assert.throws(() => parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])), StrictJsonError);
  assert.throws(() => parse(Buffer.from('{"a":1}', 'utf16le')), StrictJsonError);
  assert.throws(() => parse(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}', 'utf16le')])), StrictJsonError);
});

test('refuses invalid UTF-8 and excessive nesting', () => {
  assert.throws(() => parse(Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d])));
  assert.throws(() => parse('['.repeat(100) + ']'.repeat(100)), StrictJsonError);
  assert.deepEqual(parse('['.repeat(10) + ']'.repeat(10)), JSON.parse('['.repeat(10) + ']'.repeat(10)));
});

test('finds fields spelled in snake_case and camelCase in the same object', () => {
  assert.deepEqual(findSpellingClash({ run_id: 'a', runId: 'b' }), ['run_id', 'runId']);
  assert.deepEqual(findSpellingClash({ trace: { trace_info: {}, traceInfo: {} } }), ['trace_info', 'traceInfo']);
  assert.deepEqual(findSpellingClash({ list: [{ experiment_ids: [] }, { experimentIds: [], experiment_ids: [] }] }), ['experimentIds', 'experiment_ids']);
  assert.equal(findSpellingClash({ run_id: 'a', run_uuid: 'a', experimentId: '1' }), undefined);
});

describe('bounded parsing: limits, and no recursion on the input\'s depth', () => {
  const limit = (e: unknown) => e instanceof JsonLimitError;
  const nested = (levels: number, open = '[', close = ']', inner = '1') => `${open.repeat(levels)}${inner}${close.repeat(levels)}`;

  test('more elements in one array, or members in one object, than maxElements: a limit error', () => {
    const list = (n: number) => `{"ids":[${Array.from({ length: n }, () => '"1"').join(',')}]}`;
    assert.deepEqual((parseStrictJson(Buffer.from(list(10)), { maxElements: 10 }) as { ids: string[] }).ids.length, 10);
    assert.throws(() => parseStrictJson(Buffer.from(list(11)), { maxElements: 10 }), limit);
    assert.throws(() => parseStrictJson(Buffer.from(list(200_000))), limit, 'the default is below 200,000');
    const members = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
    parseStrictJson(Buffer.from(members(10)), { maxElements: 10 });
    assert.throws(() => parseStrictJson(Buffer.from(members(11)), { maxElements: 10 }), limit);
  });

  test('nesting deeper than maxDepth: a limit error; maxDepth levels parse', () => {
    assert.deepEqual(parseStrictJson(Buffer.from(nested(64))), JSON.parse(nested(64)));
    assert.throws(() => parseStrictJson(Buffer.from(nested(65))), limit);
    assert.throws(() => parseStrictJson(Buffer.from(nested(4, '{"a":', '}')), { maxDepth: 3 }), limit);
    assert.throws(() => parseStrictJson(Buffer.from('{}'), { maxDepth: 0 }), limit);
  });

  test('the scanner walks 100,000 levels without recursion (the limit is policy, not stack)', () => {
    for (const text of [nested(100_000), nested(100_000, '{"a":', '}'), nested(100_000, '[{"a":', '}]')]) {
      // No RangeError: with a limit above the depth the document parses; with the default it is refused as too deep.
      assert.ok(parseStrictJson(Buffer.from(text), { maxDepth: 1_000_000 }) !== undefined);
      assert.throws(() => parseStrictJson(Buffer.from(text)), limit);
    }
    // Syntax errors deep down are still syntax errors, not limit errors.
    assert.throws(() => parseStrictJson(Buffer.from(`${'['.repeat(50_000)}1,]${']'.repeat(49_999)}`), { maxDepth: 1_000_000 }), (e: unknown) => e instanceof StrictJsonError && !limit(e));
  });

  test('findSpellingClash walks a 100,000-level document without recursion', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(100_000)}{"run_id":1,"runId":2}${'}'.repeat(100_000)}`) as unknown;
    assert.deepEqual(findSpellingClash(deep), ['run_id', 'runId']);
    assert.equal(findSpellingClash(JSON.parse(nested(100_000)) as unknown), undefined);
  });
});
