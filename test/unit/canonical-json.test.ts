/**
 * The audit chain's canonical JSON (src/audit/chain.ts) has a fast path through JSON.stringify;
 * it must give exactly the bytes of the definition (keys sorted at every level, no whitespace,
 * undefined members dropped), or every stored hash chain would stop verifying.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, hashOf } from '../../src/audit/chain.ts';

/** The definition, written the obvious way. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec)
    .filter((k) => rec[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(rec[k])}`).join(',')}}`;
}

test('canonical JSON equals the definition, including keys JSON.stringify would reorder', () => {
  const cases: unknown[] = [
    null,
    undefined,
    0,
    -0,
    Number.NaN,
    'text with "quotes", \\ and \u2028',
    [1, undefined, null, { b: 1, a: undefined }],
    { b: 1, a: { d: [1, { z: 1, y: undefined }], c: 'x' } },
    { '10': 1, '9': 2, a: 3 }, // array-index keys: JSON.stringify puts them first, numerically
    { nested: { '0': 'a', b: 'c' } },
    { é: 1, Z: 2, a: 3, _: 4, '': 5 },
    { when: new Date(0) },
    { toJSON: 'member, not a method', a: 1 },
    JSON.parse('{"__proto__": {"x": 1}, "b": 2}'),
    [{ constructor: 1 }, { other: 2 }], // a key one object has and another inherits
    Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
    { f: () => 1, s: Symbol('s'), a: 1 }, // JSON.stringify drops these members; the definition writes null
    [],
    {},
  ];
  for (const c of cases) assert.equal(canonicalJson(c), reference(c), JSON.stringify(c) ?? 'undefined');
});

test('an audit event hashes over its canonical form, whatever its key order', () => {
  const event = {
    v: 1 as const,
    phase: 'complete' as const,
    time: '2026-01-01T00:00:00.000Z',
    requestId: 'r1',
    principal: { id: 'corp:u', kind: 'user', method: 'bearer', provider: 'corp' },
    tenant: 't01',
    client: { address: '127.0.0.1', userAgent: null },
    method: 'GET',
    operation: 'runs.get',
    action: 'read',
    resources: [{ kind: 'run', id: 'r', key: { run_id: 'r' }, from: 'params:run_id' }],
    decision: { effect: 'allow' as const, reasons: [] },
    outcome: 'allowed' as const,
    error: null,
    upstreamStatus: 200,
    status: 200,
    latencyMs: 1.5,
    seq: 1,
    prev: '0'.repeat(64),
  };
  const reversed = Object.fromEntries(Object.entries(event).reverse()) as typeof event;
  assert.equal(hashOf(event), hashOf(reversed));
  assert.equal(canonicalJson(event), reference(event));
});
