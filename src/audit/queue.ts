/**
 * One bounded queue and writer per sink. Events are sealed into the sink's hash chain only
 * when they are written, so an event lost to overflow or a failed write leaves no gap in the
 * chain (losses show in the metrics and the log, tampering in `gatehouse audit verify`).
 */
import { EMPTY_HEAD, seal, type ChainHead } from './chain.ts';
import type { AuditEvent } from './event.ts';
import type { AuditSink } from './sink.ts';

export type LossReason = 'overflow' | 'error';

export interface SinkQueue {
  readonly sink: AuditSink;
  /** Events waiting to be written. */
  depth(): number;
  /** Resolves once the event is written (durably, for a durable sink); rejects when it is lost. */
  push(event: AuditEvent): Promise<void>;
  /** Waits for queued events (up to `deadlineMs`), then closes the sink. */
  close(deadlineMs: number): Promise<void>;
}

interface Waiting {
  readonly event: AuditEvent;
  resolve(): void;
  reject(err: Error): void;
}

export async function openSinkQueue(
  sink: AuditSink,
  options: { maxQueue: number; onLoss: (sink: AuditSink, reason: LossReason, count: number, err?: Error) => void },
): Promise<SinkQueue> {
  let head: ChainHead | undefined;
  const open = async () => (head ??= (await sink.open()) ?? EMPTY_HEAD);
  if (sink.retryOpen) await open().catch(() => undefined);
  else await open();
  const queue: Waiting[] = [];
  const batchSize = sink.batch?.size ?? 512;
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closing = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, batchSize);
      try {
        const { sealed, lines, head: next } = seal(
          await open(),
          batch.map((w) => w.event),
        );
        await sink.write(sealed, lines);
        head = next;
        for (const w of batch) w.resolve();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        options.onLoss(sink, 'error', batch.length, e);
        for (const w of batch) w.reject(e);
      }
    }
  }

  function kick(): void {
    if (writing) return;
    const interval = sink.batch?.intervalMs ?? 0;
    if (interval > 0 && queue.length < batchSize && !closing) {
      timer ??= setTimeout(() => {
        timer = undefined;
        start();
      }, interval);
      return;
    }
    start();
  }

  function start(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (writing || queue.length === 0) return;
    writing = drain().finally(() => {
      writing = undefined;
      if (queue.length > 0) kick();
    });
  }

  return {
    sink,
    depth: () => queue.length,
    push(event) {
      if (queue.length >= options.maxQueue) {
        const err = new Error(`audit sink ${sink.id}: queue full (${options.maxQueue})`);
        options.onLoss(sink, 'overflow', 1, err);
        return Promise.reject(err);
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ event, resolve, reject });
        kick();
      });
    },
    async close(deadlineMs) {
      closing = true;
      start();
      let late = false;
      const deadline = new Promise<void>((r) => setTimeout(r, deadlineMs).unref()).then(() => (late = true));
      while (writing && !late) await Promise.race([writing, deadline]);
      if (timer) clearTimeout(timer);
      await sink.close();
    },
  };
}
