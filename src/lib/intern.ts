/**
 * Shared copies of small immutable values that caches hold many times over. A gateway with
 * 100,000 verified tokens in its cache holds 100,000 principals, and nearly all of them carry one
 * of a handful of group lists: interned, those are a handful of frozen arrays instead of 100,000
 * arrays, each with its own copies of the group names (docs/performance.md, footprint).
 *
 * The key of a list is its JSON text, which is unambiguous: a group named `a,b` or `a\u0000b` is
 * never confused with the two groups `a` and `b`. Interning is bounded: past `maxEntries`
 * distinct values, new values are returned as they are (still correct, only not shared).
 */

const EMPTY: readonly never[] = Object.freeze([]);

export interface Interner<T> {
  (value: T): T;
  /** Distinct values held (tests, memory bounds). */
  readonly size: () => number;
}

/** Interns string lists: equal lists (same items, same order) come back as one frozen array. */
export function createListInterner(maxEntries = 10_000): Interner<readonly string[]> {
  const lists = new Map<string, readonly string[]>();
  const intern = (list: readonly string[]): readonly string[] => {
    if (list.length === 0) return EMPTY;
    const key = JSON.stringify(list);
    const found = lists.get(key);
    if (found) return found;
    const frozen = Object.freeze([...list]);
    if (lists.size < maxEntries) lists.set(key, frozen);
    return frozen;
  };
  return Object.assign(intern, { size: () => lists.size });
}

/** Interns strings: equal strings come back as the first one seen (one copy in memory). */
export function createStringInterner(maxEntries = 10_000): Interner<string> {
  const strings = new Map<string, string>();
  const intern = (s: string): string => {
    const found = strings.get(s);
    if (found !== undefined) return found;
    if (strings.size < maxEntries) strings.set(s, s);
    return s;
  };
  return Object.assign(intern, { size: () => strings.size });
}
