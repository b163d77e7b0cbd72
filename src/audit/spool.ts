/**
 * The on-disk spool of a network sink (syslog, OTLP): sealed events are appended here, and
 * flushed, before the sink accepts them; a shipper (shipper.ts) sends them on and marks them
 * delivered. So an event the sink accepted survives a crash of the gateway and an outage of
 * the SIEM, up to `maxBytes` of events waiting.
 *
 * Segments `<first seq, 12 digits>.jsonl` in the spool's directory hold the events as sealed JSON
 * lines; a new segment starts when the last one reached `segmentBytes` (so a segment, once a newer
 * one exists, never changes). `acked.json` holds the last delivered event (seq and hash); a
 * segment is deleted once every event in it is delivered. The chain head survives deletion
 * through `acked.json`, so a restart continues the chain the SIEM has.
 */
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_HEAD, type ChainHead } from './chain.ts';
import type { ChainedEvent } from './event.ts';
import { appendAll, intactEdges, syncDir } from './sinks/file.ts';

export interface SpooledEvent {
  readonly event: ChainedEvent;
  /** The sealed line, exactly as hashed (chain.ts `seal`). */
  readonly line: string;
}

export interface Spool {
  /** Where the chain stands (the last event appended, or the last delivered once all are). */
  open(): Promise<ChainHead>;
  /** Appends (and flushes) sealed lines; rejects when they would not fit in `maxBytes`. */
  append(events: readonly ChainedEvent[], lines: readonly string[]): Promise<void>;
  /** The next events after the read position (at most `max`), advancing it; empty when none wait. */
  next(max: number): Promise<SpooledEvent[]>;
  /** Moves the read position back to the first event not delivered (to send again what a broken connection may have lost). */
  rewind(): void;
  /** Records events up to `head` as delivered and deletes the segments they fill. */
  ack(head: ChainHead): Promise<void>;
  /** The last event appended. */
  readonly lastSeq: number;
  /** The last event delivered. */
  readonly ackedSeq: number;
  /** Events after the read position. */
  readonly unread: number;
  /** Bytes of events on disk (delivered events of a segment still in use included). */
  bytes(): number;
  close(): Promise<void>;
}

export interface SpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsync: boolean;
  readonly onTornTail?: (bytes: number) => void;
}

const SEGMENT = /^(\d{12})\.jsonl$/;
const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(12, '0')}.jsonl`;

export function openSpool(o: SpoolOptions): Spool {
  /** First seq of each segment, oldest first, with its size. */
  let segments: Array<{ first: number; size: number }> = [];
  let fh: FileHandle | undefined;
  let lastSeq = 0;
  let acked: ChainHead = EMPTY_HEAD;
  /** Read position: the next event to hand out is the first with seq > readSeq. */
  let readSeq = 0;
  const ackFile = join(o.dir, 'acked.json');
  const total = () => segments.reduce((n, s) => n + s.size, 0);

  async function startSegment(first: number): Promise<void> {
    await fh?.close();
    fh = await open(join(o.dir, segmentName(first)), 'a');
    segments.push({ first, size: 0 });
    await syncDir(o.dir);
  }

  /** Where the next read starts: a segment and a byte offset in it (undefined: find it from `readSeq`). */
  let cursor: { first: number; offset: number } | undefined;

  /** The segment holding the first event after `seq`, and the byte offset of that event's line. */
  async function locate(seq: number): Promise<{ first: number; offset: number } | undefined> {
    let i = segments.length - 1;
    while (i > 0 && segments[i]!.first > seq + 1) i--;
    const seg = segments[i];
    if (!seg) return undefined;
    const buf = await readFile(join(o.dir, segmentName(seg.first)));
    let offset = 0;
    while (offset < seg.size) {
      const nl = buf.indexOf(0x0a, offset);
      if (nl < 0) break;
      if ((JSON.parse(buf.subarray(offset, nl).toString('utf8')) as ChainedEvent).seq > seq) break;
      offset = nl + 1;
    }
    return { first: seg.first, offset };
  }

  async function writeAck(head: ChainHead, flush: boolean): Promise<void> {
    const tmp = `${ackFile}.tmp`;
    await writeFile(tmp, JSON.stringify(head));
    if (flush) {
      const h = await open(tmp, 'r');
      await h.sync().finally(() => h.close());
    }
    await rename(tmp, ackFile);
  }

  return {
    get lastSeq() {
      return lastSeq;
    },
    get ackedSeq() {
      return acked.seq;
    },
    get unread() {
      return lastSeq - readSeq;
    },
    bytes: total,
    async open() {
      await mkdir(o.dir, { recursive: true });
      acked = await readFile(ackFile, 'utf8').then(
        (t) => JSON.parse(t) as ChainHead,
        () => EMPTY_HEAD,
      );
      const names = (await readdir(o.dir)).filter((n) => SEGMENT.test(n)).sort();
      segments = [];
      let head: ChainHead = acked;
      for (const name of names) {
        const path = join(o.dir, name);
        const e = await intactEdges(path, o.onTornTail);
        segments.push({ first: Number(SEGMENT.exec(name)![1]), size: e.size });
        if (e.last) {
          const last = JSON.parse(e.last) as ChainedEvent;
          if (last.seq > head.seq) head = { seq: last.seq, hash: last.hash };
        }
      }
      lastSeq = head.seq;
      readSeq = acked.seq;
      const current = segments[segments.length - 1];
      if (current) fh = await open(join(o.dir, segmentName(current.first)), 'a');
      return head;
    },
    async append(events, lines) {
      if (events.length === 0) return;
      const buf = Buffer.from(lines.map((l) => `${l}\n`).join(''));
      const used = total();
      if (used + buf.length > o.maxBytes) {
        throw new Error(`spool full (${used} of ${o.maxBytes} bytes wait for delivery)`);
      }
      const current = segments[segments.length - 1];
      if (!current || !fh || current.size >= o.segmentBytes) await startSegment(events[0]!.seq);
      const seg = segments[segments.length - 1]!;
      const before = seg.size;
      await appendAll(fh!, buf, before, o.fsync, `audit spool ${o.dir}`);
      seg.size = before + buf.length;
      lastSeq = events[events.length - 1]!.seq;
    },
    async next(max) {
      const out: SpooledEvent[] = [];
      cursor ??= await locate(readSeq);
      while (cursor && out.length < max) {
        const i = segments.findIndex((s) => s.first === cursor!.first);
        const seg = segments[i];
        if (!seg) break;
        if (cursor.offset < seg.size) {
          const h = await open(join(o.dir, segmentName(seg.first)), 'r');
          const buf = Buffer.alloc(seg.size - cursor.offset);
          try {
            await h.read(buf, 0, buf.length, cursor.offset);
          } finally {
            await h.close();
          }
          let at = 0;
          while (out.length < max) {
            const nl = buf.indexOf(0x0a, at);
            if (nl < 0) break;
            const line = buf.subarray(at, nl).toString('utf8');
            out.push({ event: JSON.parse(line) as ChainedEvent, line });
            at = nl + 1;
          }
          cursor = { first: seg.first, offset: cursor.offset + at };
        }
        const following = segments[i + 1];
        if (cursor.offset < seg.size || !following) break;
        cursor = { first: following.first, offset: 0 };
      }
      if (out.length > 0) readSeq = out[out.length - 1]!.event.seq;
      return out;
    },
    rewind() {
      readSeq = acked.seq;
      cursor = undefined;
    },
    async ack(head) {
      if (head.seq <= acked.seq) return;
      acked = head;
      // A segment followed by one that starts at or before the next undelivered event is delivered
      // whole; the only segment, once full and delivered, too (the next append starts a fresh one).
      let drop = 0;
      while (drop < segments.length - 1 && segments[drop + 1]!.first <= acked.seq + 1) drop++;
      const lastFull = drop === segments.length - 1 && lastSeq === acked.seq && (segments[drop]?.size ?? 0) >= o.segmentBytes;
      // The ack is flushed before a segment goes: it is then the only record of the chain head.
      await writeAck(head, drop > 0 || lastFull);
      for (const gone of segments.splice(0, drop)) await rm(join(o.dir, segmentName(gone.first)), { force: true });
      if (cursor && !segments.some((s) => s.first === cursor!.first)) cursor = undefined;
      if (lastFull) {
        await fh?.close();
        fh = undefined;
        const gone = segments.shift()!;
        if (cursor?.first === gone.first) cursor = undefined;
        await rm(join(o.dir, segmentName(gone.first)), { force: true });
      }
      if (drop > 0 || lastFull) await syncDir(o.dir);
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}
