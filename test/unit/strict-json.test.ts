import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSpellingClash, parseStrictJson, StrictJsonError } from '../../src/lib/strict-json.ts';

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
