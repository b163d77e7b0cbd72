import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createListInterner, createStringInterner } from '../../src/lib/intern.ts';

test('equal lists come back as one frozen array; different lists never do', () => {
  const lists = createListInterner();
  const a = lists(['readers', 'writers']);
  assert.equal(lists(['readers', 'writers']), a);
  assert.ok(Object.isFrozen(a));
  assert.notEqual(lists(['writers', 'readers']), a, 'order matters');
  // Names holding separators are never confused with several names.
  const joined = lists(['readers\u0000writers']);
  assert.deepEqual(joined, ['readers\u0000writers']);
  assert.notEqual(joined, a);
  assert.deepEqual(lists(['a,b']), ['a,b']);
  assert.notEqual(lists(['a', 'b']), lists(['a,b']));
  assert.equal(lists([]), lists([]));
  assert.deepEqual(lists([]), []);
});

test('interning is bounded: past the limit values come back equal but unshared', () => {
  const lists = createListInterner(2);
  lists(['a']);
  lists(['b']);
  const c1 = lists(['c']);
  const c2 = lists(['c']);
  assert.deepEqual(c1, ['c']);
  assert.notEqual(c1, c2);
  assert.equal(lists.size(), 2);
  const strings = createStringInterner(1);
  assert.equal(strings('x'), 'x');
  assert.equal(strings('y'), 'y');
  assert.equal(strings.size(), 1);
});

test('a caller cannot change a shared list for everyone else', () => {
  const lists = createListInterner();
  const a = lists(['readers']) as string[];
  assert.throws(() => a.push('admins'), TypeError);
  assert.deepEqual(lists(['readers']), ['readers']);
});
