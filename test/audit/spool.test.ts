/**
 * The network sinks' spool and shipper (src/audit/spool.ts, src/audit/shipper.ts) at unit level,
 * with a hand-driven transport: segments roll over and are read in order; delivered segments are
 * deleted; a restart resumes from the first undelivered event and continues the chain even when
 * every segment is gone; a torn last line is cut; a full spool refuses; a failed send is retried
 * from the first undelivered event (at least once), a refused batch is counted and passed; a
 * waiter is rejected at once while the receiver is down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_HEAD, seal, type ChainHead } from '../../src/audit/chain.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { RefusedError, startShipper, type Transport } from '../../src/audit/shipper.ts';
import { openSpool, type Spool, type SpooledEvent } from '../../src/audit/spool.ts';

const event = (i: number) => ({ v: 1, phase: 'complete', time: new Date(Date.UTC(2026, 0, 1) + i).toISOString(), requestId: `r${i}`, padding: 'x'.repeat(200) }) as unknown as AuditEvent;

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'gh-spool-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Appends events from..to (sealed after `head`) and returns the new head. */
async function fill(spool: Spool, head: ChainHead, from: number, to: number): Promise<ChainHead> {
  const events = Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
  const s = seal(head, events);
  await spool.append(s.sealed, s.lines);
  return s.head;
}

const segments = (d: string) => readdirSync(d).filter((n) => /^\d{12}\.jsonl$/.test(n)).sort();

describe('spool', () => {
  test('segments roll over, are read in order, deleted once delivered; a restart resumes and continues the chain', async () => {
    const d = join(dir, 'a');
    const spool = openSpool({ dir: d, maxBytes: 1 << 20, segmentBytes: 2048, fsync: false });
    let head = await spool.open();
    assert.deepEqual(head, EMPTY_HEAD);
    for (let i = 1; i <= 40; i += 4) head = await fill(spool, head, i, i + 3);
    assert.ok(segments(d).length >= 4, `${segments(d).length} segments`);
    const first = await spool.next(25);
    assert.deepEqual(first.map((e) => e.event.seq), Array.from({ length: 25 }, (_, i) => i + 1));
    const rest = await spool.next(100);
    assert.deepEqual(rest.map((e) => e.event.seq), Array.from({ length: 15 }, (_, i) => i + 26));
    assert.deepEqual(await spool.next(10), [], 'nothing more');

    const at20 = first[19]!.event;
    await spool.ack({ seq: at20.seq, hash: at20.hash });
    const left = segments(d);
    assert.ok(Number(left[0]!.slice(0, 12)) <= 21, `the segment holding seq 21 stays: ${left.join(' ')}`);
    spool.rewind();
    assert.deepEqual((await spool.next(3)).map((e) => e.event.seq), [21, 22, 23], 'a rewind goes back to the first undelivered event');
    await spool.close();

    // Restart: from the first undelivered event, the chain head where it was.
    const again = openSpool({ dir: d, maxBytes: 1 << 20, segmentBytes: 2048, fsync: false });
    assert.deepEqual(await again.open(), head);
    assert.equal((await again.next(1))[0]!.event.seq, 21);
    // Everything delivered: the segments go, acked.json keeps the head for the next start.
    const last = (await again.next(100)).at(-1)!.event;
    await again.ack({ seq: last.seq, hash: last.hash });
    assert.ok(segments(d).length <= 1);
    await again.close();
    const third = openSpool({ dir: d, maxBytes: 1 << 20, segmentBytes: 2048, fsync: false });
    assert.deepEqual(await third.open(), head);
    head = await fill(third, head, 41, 41);
    assert.deepEqual((await third.next(5)).map((e) => [e.event.seq, e.event.prev]), [[41, last.hash]], 'the chain continues');
    await third.close();
  });

  test('a torn last line is cut at open; a full spool refuses', async () => {
    const d = join(dir, 'b');
    const spool = openSpool({ dir: d, maxBytes: 4096, segmentBytes: 1024, fsync: false });
    let head = await spool.open();
    head = await fill(spool, head, 1, 3);
    await spool.close();
    appendFileSync(join(d, segments(d).at(-1)!), '{"seq":4,"cut');
    let torn = 0;
    const reopened = openSpool({ dir: d, maxBytes: 4096, segmentBytes: 1024, fsync: false, onTornTail: (n) => (torn = n) });
    assert.deepEqual(await reopened.open(), head);
    assert.equal(torn, '{"seq":4,"cut'.length);
    await assert.rejects(fill(reopened, head, 4, 40), /spool full/);
    assert.equal(reopened.lastSeq, 3, 'nothing of the refused batch was kept');
    await reopened.close();
  });
});

/** A transport whose sends the test answers. */
function handTransport() {
  const sends: Array<{ seqs: number[]; resolve(): void; reject(err: Error): void }> = [];
  let connectOk = true;
  const transport: Transport = {
    settleMs: 0,
    send: (events: readonly SpooledEvent[]) => new Promise<void>((resolve, reject) => sends.push({ seqs: events.map((e) => e.event.seq), resolve, reject })),
    connect: async () => {
      if (!connectOk) throw new Error('connection refused');
    },
    close: async () => false,
  };
  return { transport, sends, setUp: (ok: boolean) => (connectOk = ok) };
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), what);
}

describe('shipper', () => {
  test('a failed send is sent again from the first undelivered event; a refused one is counted and passed; waiters fail fast while down', async () => {
    const spool = openSpool({ dir: join(dir, 'c'), maxBytes: 1 << 20, segmentBytes: 1 << 16, fsync: false });
    let head = await spool.open();
    const { transport, sends, setUp } = handTransport();
    let now = 0;
    const refused: number[] = [];
    const shipper = startShipper(spool, transport, { batchSize: 3, flushIntervalMs: 0, retryBaseMs: 10, retryMaxMs: 10, timeoutMs: 60_000, now: () => now, onRefused: (n) => refused.push(n) });
    head = await fill(spool, head, 1, 5);
    shipper.notify();
    await until('first send', () => sends.length === 1);
    assert.deepEqual(sends[0]!.seqs, [1, 2, 3]);
    const waiting = shipper.delivered(2);
    sends[0]!.resolve();
    await waiting;
    await until('second send', () => sends.length === 2);
    assert.deepEqual(sends[1]!.seqs, [4, 5]);

    // The send fails: the receiver goes down; a waiter now is rejected at once (a retry just happened).
    setUp(false);
    sends[1]!.reject(new Error('connection reset'));
    await tick();
    await assert.rejects(shipper.delivered(5), /connection reset|connection refused/);
    await assert.rejects(shipper.check(), /connection reset|connection refused/);

    // Back up: the retry sends 4 and 5 again — nothing delivered is lost, nothing is skipped.
    setUp(true);
    now += 1000;
    const back = shipper.delivered(5);
    await until('resend', () => sends.length === 3);
    assert.deepEqual(sends[2]!.seqs, [4, 5]);
    sends[2]!.resolve();
    await back;
    await shipper.check();
    assert.equal(spool.ackedSeq, 5, 'acknowledged sends leave the spool');

    // A batch the receiver refuses for good is counted and passed over, not retried.
    head = await fill(spool, head, 6, 7);
    shipper.notify();
    await until('send of 6, 7', () => sends.length === 4);
    sends[3]!.reject(new RefusedError('status 400'));
    await until('passed over', () => spool.ackedSeq === 7);
    assert.deepEqual(refused, [2]);
    await shipper.close(100);
    await spool.close();
  });
});
