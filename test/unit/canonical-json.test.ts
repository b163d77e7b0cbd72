/**
 * The audit chain's canonical JSON (src/audit/chain.ts) has a fast path through JSON.stringify;
 * it must give exactly the bytes of the definition (keys sorted at every level, no whitespace,
 * undefined members dropped), or every stored hash chain would stop verifying.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_HEAD, canonicalJson, hashOf, seal, verifyChain } from '../../src/audit/chain.ts';
import type { AuditEvent, ChainedEvent } from '../../src/audit/event.ts';

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

test('sealing hands out each event as a line of JSON with the same members, and the lines verify', () => {
  const events = [
    { v: 1, phase: 'complete', time: '2026-01-01T00:00:00.000Z', resources: [{ kind: 'run', id: 'r', key: { run_id: 'r' }, from: 'params:run_id' }], decision: { effect: 'allow', reasons: ['x'] } },
    { v: 1, phase: 'complete', time: '2026-01-01T00:00:01.000Z', client: { userAgent: 'a\u2028b "q"', address: '::1' }, resources: [] },
  ] as unknown as AuditEvent[];
  const { sealed, lines, head } = seal(EMPTY_HEAD, events);
  assert.equal(lines.length, 2);
  for (let i = 0; i < lines.length; i++) assert.deepEqual(JSON.parse(lines[i]!), JSON.parse(JSON.stringify(sealed[i])));
  const check = verifyChain(lines.map((line, i) => ({ where: `line ${i + 1}`, event: JSON.parse(line) as ChainedEvent })));
  assert.deepEqual(check.problems, []);
  assert.equal(check.head.hash, head.hash);
});

test('the canonical form does not depend on which nested objects were already in order', () => {
  const inOrder = { a: { b: 1, c: [{ d: 1, e: 2 }] }, f: null };
  const shuffled = { f: null, a: { c: [{ e: 2, d: 1 }], b: 1 } };
  assert.equal(canonicalJson(inOrder), canonicalJson(shuffled));
  assert.equal(canonicalJson(inOrder), reference(inOrder));
  // Nothing is changed in place.
  assert.deepEqual(Object.keys(shuffled), ['f', 'a']);
  assert.deepEqual(Object.keys(shuffled.a.c[0]!), ['e', 'd']);
});
