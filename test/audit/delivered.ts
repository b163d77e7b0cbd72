/**
 * What a receiver got from a sink delivering at least once (syslog, OTLP), checked: a duplicate
 * is the same event (same seq, same hash), no seq from 1 to the last is missing, and the distinct
 * events verify as one chain. Returns them in chain order.
 */
import assert from 'node:assert/strict';
import { verifyChain } from '../../src/audit/chain.ts';
import type { ChainedEvent } from '../../src/audit/event.ts';

export function distinct(events: readonly ChainedEvent[]): ChainedEvent[] {
  const bySeq = new Map<number, ChainedEvent>();
  for (const e of events) {
    const seen = bySeq.get(e.seq);
    if (seen) assert.equal(seen.hash, e.hash, `a duplicate of seq ${e.seq} is the same event`);
    bySeq.set(e.seq, e);
  }
  const chain = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  assert.deepEqual(chain.map((e) => e.seq), chain.map((_, i) => i + 1), 'seqs 1..n, none missing');
  assert.deepEqual(verifyChain(chain.map((event) => ({ where: `seq ${event.seq}`, event }))).problems, []);
  return chain;
}
