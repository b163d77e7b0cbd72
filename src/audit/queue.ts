/**
 * One bounded queue and writer per sink. Events are sealed into the sink's hash chain only
 * when they are written, so an event lost to overflow or a failed write leaves no gap in the
 * chain (losses show in the metrics and the log, tampering in `gatehouse audit verify`).
 *
 * Writes are serial (each batch continues the chain where the previous one ended). An urgent
 * event — a required write a client is waiting on — that is queued behind a write that fails
 * fails with it: the sink has just shown it cannot accept, and an attempt of its own would make
 * the client wait a second timeout (a PostgreSQL stall held required writes for ~2× the
 * statement timeout, issue 18). Best-effort events behind it keep their attempt.
 */
import { EMPTY_HEAD, seal, type ChainHead } from './chain.ts';
import type { AuditEvent } from './event.ts';
import type { AuditSink } from './sink.ts';

export type LossReason = 'overflow' | 'error';

export interface SinkQueue {
  readonly sink: AuditSink;
  /** Events waiting to be written. */
  depth(): number;
  /**
   * Resolves with the event's seq in the sink's chain once it is written (durably, for a durable
   * sink); rejects when it is lost. `urgent`: fail together with a failing write ahead of it rather
   * than wait for its own attempt.
   */
  push(event: AuditEvent, options?: { readonly urgent?: boolean }): Promise<number>;
  /** Readiness: resolves when the sink passes its probe (or has none) and the queue has room; rejects saying why. */
  ready(): Promise<void>;
  /** Waits for queued events (up to `deadlineMs`), then closes the sink. */
  close(deadlineMs: number): Promise<void>;
}

interface Waiting {
  readonly event: AuditEvent;
  readonly urgent: boolean;
  resolve(seq: number): void;
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
        batch.forEach((w, i) => w.resolve(sealed[i]!.seq));
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        const behind = takeUrgent(queue);
        options.onLoss(sink, 'error', batch.length, e);
        if (behind.length > 0) options.onLoss(sink, 'error', behind.length, e);
        for (const w of batch) w.reject(e);
        for (const w of behind) w.reject(e);
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
    push(event, pushOptions) {
      if (queue.length >= options.maxQueue) {
        const err = new Error(`audit sink ${sink.id}: queue full (${options.maxQueue})`);
        options.onLoss(sink, 'overflow', 1, err);
        return Promise.reject(err);
      }
      return new Promise<number>((resolve, reject) => {
        queue.push({ event, urgent: pushOptions?.urgent === true, resolve, reject });
        kick();
      });
    },
    async ready() {
      if (queue.length >= options.maxQueue) throw new Error(`queue full (${options.maxQueue} events waiting)`);
      await sink.probe?.();
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

/** Removes the urgent waiters from `queue` (in place, order kept) and returns them. */
function takeUrgent(queue: Waiting[]): Waiting[] {
  const urgent: Waiting[] = [];
  let kept = 0;
  for (const w of queue) {
    if (w.urgent) urgent.push(w);
    else queue[kept++] = w;
  }
  queue.length = kept;
  return urgent;
}
