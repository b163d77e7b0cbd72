/**
 * The sink queue (src/audit/queue.ts) with a hand-driven fake sink (unit level): an urgent
 * event — a required write a client waits on — queued behind a write that fails fails with it,
 * without an attempt of its own; best-effort events behind it still get theirs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_HEAD } from '../../src/audit/chain.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { openSinkQueue } from '../../src/audit/queue.ts';
import type { AuditSink } from '../../src/audit/sink.ts';

/** A sink whose writes settle when the test says so. */
function handSink() {
  const writes: Array<{ seqs: number[]; resolve(): void; reject(err: Error): void }> = [];
  const sink: AuditSink = {
    id: 'hand',
    type: 'store',
    durable: true,
    batch: { size: 100, intervalMs: 0 },
    open: async () => EMPTY_HEAD,
    write: (events) =>
      new Promise<void>((resolve, reject) => {
        writes.push({ seqs: events.map((e) => e.seq), resolve, reject });
      }),
    async close() {},
  };
  return { sink, writes };
}

const event = (requestId: string) => ({ requestId, phase: 'pending' }) as unknown as AuditEvent;
/** A promise's state, read after the microtasks queued so far have run. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return s;
}

test('an urgent event behind a failing write fails with it, at once; a best-effort one gets its own attempt', async () => {
  const { sink, writes } = handSink();
  const losses: number[] = [];
  const q = await openSinkQueue(sink, { maxQueue: 100, onLoss: (_s, _r, n) => losses.push(n) });
  const first = q.push(event('a'));
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1, 'the first write is in flight');
  const urgent = q.push(event('b'), { urgent: true });
  const patient = q.push(event('c'));
  first.catch(() => undefined);
  urgent.catch(() => undefined);

  writes[0]!.reject(new Error('canceling statement due to statement timeout'));
  assert.equal(await state(first), 'rejected');
  assert.equal(await state(urgent), 'rejected', 'the urgent event does not wait for an attempt of its own');
  await assert.rejects(urgent, /statement timeout/);
  assert.equal(writes.length, 2, 'one more write: the best-effort event\'s');
  assert.deepEqual(writes[1]!.seqs, [1], 'it holds only the best-effort event, first in the chain (nothing was written before)');
  assert.deepEqual(losses, [1, 1], 'each event that failed is counted once');

  writes[1]!.resolve();
  await patient;
  await q.close(100);
});

test('an urgent event behind a write that succeeds is written in the next batch as before', async () => {
  const { sink, writes } = handSink();
  const q = await openSinkQueue(sink, { maxQueue: 100, onLoss: () => undefined });
  const first = q.push(event('a'));
  await new Promise((r) => setImmediate(r));
  const urgent = q.push(event('b'), { urgent: true });
  writes[0]!.resolve();
  await first;
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 2);
  writes[1]!.resolve();
  await urgent;
  await q.close(100);
});
