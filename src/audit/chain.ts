/**
 * Tamper evidence: each sink keeps its own hash chain. An event carries `seq` (1, 2, ...),
 * `prev` (the previous event's hash; 64 zeros for the first) and `hash` = SHA-256 over the
 * canonical serialization of the event including `seq` and `prev` but not `hash`. Changing an
 * event breaks its hash; removing or reordering events breaks the seq/prev links.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, ChainedEvent } from './event.ts';

export const GENESIS = '0'.repeat(64);

/** JSON with object keys sorted at every level, no whitespace; `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  // Fast path (once per audit event per sink): a copy whose objects hold their members in
  // sorted order, serialized by the native JSON.stringify. Whatever JSON.stringify would read
  // differently takes the general path: array-index keys (it puts them first, in numeric
  // order), functions and symbols (it drops such members), a `__proto__` key (not copyable).
  general = false;
  const out = JSON.stringify(sortedCopy(value));
  return general ? canonicalSlow(value) : (out ?? 'null');
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
let general = false;

/**
 * `value` with every object's members in sorted order — the value itself where it already is
 * (most nested objects of an audit event), a copy only of the objects that are not or that hold
 * one that is not. Objects that are not plain (a Date, a class instance) are always copied as
 * their own enumerable members, which is what the definition reads.
 */
function sortedCopy(value: unknown): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') general = true;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i]);
      if (item !== value[i]) (out ??= value.slice())[i] = item;
    }
    return out ?? value;
  }
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec);
  const proto = Object.getPrototypeOf(rec) as unknown;
  let copy = proto !== Object.prototype && proto !== null;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      copy = true;
      break;
    }
  }
  let children: unknown[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === '__proto__' || ARRAY_INDEX.test(k)) general = true;
    const child = sortedCopy(rec[k]);
    if (child !== rec[k]) copy = true;
    (children ??= []).push(child);
  }
  if (!copy) return rec;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = children![i];
  return out;
}

function canonicalSlow(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalSlow).join(',')}]`;
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec)
    .filter((k) => rec[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalSlow(rec[k])}`).join(',')}}`;
}

export function hashOf(event: Omit<ChainedEvent, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = event;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** Where a chain stands: the last sealed event's seq and hash. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS };

/**
 * Seals events after `head`; returns them, each as one line of JSON, and the new head (the caller
 * commits it once written). A line is the canonical form the hash was computed over with `hash`
 * added last: the same members as `JSON.stringify(sealed[i])` (verification parses it and
 * recomputes the canonical form), without serializing the event a second time.
 */
export function seal(head: ChainHead, events: readonly AuditEvent[]): { sealed: ChainedEvent[]; lines: string[]; head: ChainHead } {
  let { seq, hash } = head;
  const sealed: ChainedEvent[] = [];
  const lines: string[] = [];
  for (const e of events) {
    // One copy per event: the hash is computed before `hash` is added (hashOf without its copy).
    const event: Omit<ChainedEvent, 'hash'> & { hash?: string } = { ...e, seq: seq + 1, prev: hash };
    const canonical = canonicalJson(event);
    const h = createHash('sha256').update(canonical).digest('hex');
    event.hash = h;
    sealed.push(event as ChainedEvent);
    lines.push(canonical === '{}' ? `{"hash":"${h}"}` : `${canonical.slice(0, -1)},"hash":"${h}"}`);
    seq += 1;
    hash = h;
  }
  return { sealed, lines, head: { seq, hash } };
}

export interface ChainProblem {
  /** Where the event was read: `audit.jsonl:17`, `store seq 17`. */
  readonly where: string;
  readonly seq: number | null;
  readonly kind: 'unparseable' | 'changed' | 'removed' | 'reordered' | 'broken-link' | 'checkpoint';
  readonly message: string;
}

export interface ChainItem {
  readonly where: string;
  /** The parsed event, or undefined when the record could not be parsed. */
  readonly event: Partial<ChainedEvent> | undefined;
}

/**
 * Walks a chain in storage order and reports every place it is broken. A changed event fails
 * its own hash; a gap in seq is a removed event unless the missing seq turns up elsewhere
 * (then it was reordered); a wrong `prev` with a consecutive seq means an event was replaced
 * wholesale (rehashed) or the chain was spliced.
 *
 * `start`: where the chain continues from — a retention checkpoint's last pruned event
 * (checkpoint.ts). Events up to it that are still stored (a prune that stopped before deleting
 * them) are checked against it and otherwise passed over.
 */
export function verifyChain(items: Iterable<ChainItem>, start: ChainHead = EMPTY_HEAD): { count: number; problems: ChainProblem[]; head: ChainHead } {
  const list = [...items];
  const present = new Set(list.flatMap((i) => (typeof i.event?.seq === 'number' ? [i.event.seq] : [])));
  const problems: ChainProblem[] = [];
  let head: ChainHead = start;
  for (const { where, event } of list) {
    if (!event || typeof event.seq !== 'number' || typeof event.hash !== 'string' || typeof event.prev !== 'string') {
      problems.push({ where, seq: null, kind: 'unparseable', message: `${where}: not an audit event (unparseable or missing seq/prev/hash)` });
      continue;
    }
    const seq = event.seq;
    if (hashOf(event as ChainedEvent) !== event.hash) {
      problems.push({ where, seq, kind: 'changed', message: `${where}: event seq ${seq} was changed (its hash does not match its content)` });
    }
    if (seq <= start.seq) {
      if (seq === start.seq && event.hash !== start.hash) {
        problems.push({ where, seq, kind: 'broken-link', message: `${where}: event seq ${seq} is not the event the checkpoint names` });
      }
      continue;
    }
    const expected = head.seq + 1;
    if (seq < expected) {
      problems.push({ where, seq, kind: 'reordered', message: `${where}: event seq ${seq} appears after seq ${head.seq} (reordered or duplicated)` });
    } else if (seq > expected) {
      const missing = Array.from({ length: Math.min(seq - expected, 1000) }, (_, i) => expected + i);
      const moved = missing.filter((s) => present.has(s));
      const gone = missing.filter((s) => !present.has(s));
      if (gone.length > 0) {
        problems.push({ where, seq, kind: 'removed', message: `${where}: event(s) seq ${range(gone)} removed before seq ${seq}` });
      }
      if (moved.length > 0) {
        problems.push({ where, seq, kind: 'reordered', message: `${where}: event seq ${seq} appears before seq ${range(moved)} (reordered)` });
      }
    } else if (event.prev !== head.hash) {
      problems.push({ where, seq, kind: 'broken-link', message: `${where}: event seq ${seq} does not link to the event before it (replaced or spliced)` });
    }
    // Continue from what the record claims, so one break is reported once.
    if (seq > head.seq) head = { seq, hash: event.hash };
  }
  return { count: list.length, problems, head };
}

function range(seqs: number[]): string {
  return seqs.length === 1 ? String(seqs[0]) : `${seqs[0]}–${seqs[seqs.length - 1]}`;
}
