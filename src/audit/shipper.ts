/**
 * Delivery of a network sink's spool (spool.ts) to its receiver, in chain order, at least once:
 * an event leaves the spool only once delivered; a failed or broken send is retried with
 * exponential backoff from the first event not delivered, so a receiver may see an event twice
 * (same seq and hash), never miss one the sink accepted.
 *
 * "Delivered" is what the transport can know. An HTTP receiver (OTLP) acknowledges each batch
 * (`settleMs` 0). Plain syslog over TCP or TLS has no acknowledgement (RFC 6587, RFC 5425): an
 * event written to the connection counts as delivered once the connection was still up `settleMs`
 * later, or when the receiver closed its side after reading everything (a graceful close); events
 * written within `settleMs` before a connection broke are sent again on the next one.
 */
import type { ChainHead } from './chain.ts';
import type { Spool, SpooledEvent } from './spool.ts';

/** A receiver that refused events for good (malformed): they are counted as lost, never retried. */
export class RefusedError extends Error {
  /** How many of the batch were refused; all of them when undefined. */
  readonly count: number | undefined;
  constructor(message: string, count?: number) {
    super(message);
    this.count = count;
  }
}

export interface Transport {
  /**
   * Sends events in order; resolves once they are handed over (written to the connection, or
   * acknowledged). Rejects when they may not have arrived; a RefusedError when they never will.
   */
  send(events: readonly SpooledEvent[]): Promise<void>;
  /** Checks the receiver takes events now (a connection, an empty request). */
  connect(): Promise<void>;
  /** See the file comment; 0 when `send` resolving means the receiver acknowledged. */
  readonly settleMs: number;
  /** Registers the callback a stream transport calls when its connection breaks. */
  onBroken?(listener: (err: Error) => void): void;
  /** Closes; resolves true when the receiver confirmed it read everything sent (a graceful close). */
  close(): Promise<boolean>;
}

export interface ShipperOptions {
  readonly batchSize: number;
  /** Longest wait to fill a batch (ms); 0: send at once. */
  readonly flushIntervalMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Longest a `delivered` waiter waits (ms). */
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly onRefused: (count: number, err: Error) => void;
  /** Called when the receiver becomes unreachable (with why) and when it is reachable again (undefined). */
  readonly onState?: (down: Error | undefined) => void;
}

export interface Shipper {
  /** Events were appended to the spool. */
  notify(): void;
  /**
   * Resolves once event `seq` was handed to the receiver; rejects at once while the receiver is
   * unreachable (after one immediate retry, at most once per `retryBaseMs`), or after `timeoutMs`.
   */
  delivered(seq: number): Promise<void>;
  /** Rejects, saying why, while the receiver is unreachable. */
  check(): Promise<void>;
  close(deadlineMs: number): Promise<void>;
}

interface Waiter {
  readonly seq: number;
  resolve(): void;
  reject(err: Error): void;
}

export function startShipper(spool: Spool, transport: Transport, o: ShipperOptions): Shipper {
  let down: Error | undefined;
  let attempt = 0;
  let lastTry = -Infinity;
  let sentSeq = spool.ackedSeq;
  let closing = false;
  let waiters: Waiter[] = [];
  let unsettled: Array<{ head: ChainHead; at: number }> = [];
  let settleTimer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let nap: NodeJS.Timeout | undefined;

  /** Sleeps until `ms` pass or something wakes the loop (new events, a waiter, close). */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      if (Number.isFinite(ms)) nap = setTimeout(resolve, ms);
    }).finally(() => {
      clearTimeout(nap);
      wake = undefined;
    });

  function fail(err: Error): void {
    if (!down) o.onState?.(err);
    down = err;
    attempt++;
    lastTry = o.now();
    unsettled = [];
    spool.rewind();
    const w = waiters;
    waiters = [];
    for (const x of w) x.reject(err);
  }

  function recovered(): void {
    if (down) o.onState?.(undefined);
    down = undefined;
    attempt = 0;
  }

  function settle(): void {
    clearTimeout(settleTimer);
    settleTimer = undefined;
    const due = o.now() - transport.settleMs;
    let head: ChainHead | undefined;
    while (unsettled.length > 0 && unsettled[0]!.at <= due) head = unsettled.shift()!.head;
    if (head) void spool.ack(head).catch((err: Error) => fail(err));
    if (unsettled.length > 0) settleTimer = setTimeout(settle, Math.max(1, unsettled[0]!.at - due)).unref();
  }

  transport.onBroken?.((err) => {
    fail(err);
    wake?.();
  });

  async function ship(batch: SpooledEvent[]): Promise<void> {
    const last = batch[batch.length - 1]!.event;
    const head = { seq: last.seq, hash: last.hash };
    try {
      await transport.send(batch);
    } catch (err) {
      if (!(err instanceof RefusedError)) throw err;
      o.onRefused(err.count ?? batch.length, err);
    }
    recovered();
    lastTry = o.now();
    sentSeq = Math.max(sentSeq, head.seq);
    const still: Waiter[] = [];
    for (const w of waiters) (w.seq <= sentSeq ? w.resolve() : still.push(w));
    waiters = still;
    if (transport.settleMs === 0) await spool.ack(head);
    else {
      unsettled.push({ head, at: o.now() });
      settleTimer ??= setTimeout(settle, transport.settleMs).unref();
    }
  }

  async function loop(): Promise<void> {
    for (;;) {
      if (closing && (down || spool.unread === 0)) return;
      if (down) {
        await sleep(Math.max(0, lastTry + Math.min(o.retryBaseMs * 2 ** (attempt - 1), o.retryMaxMs) - o.now()));
        if (closing) return;
        try {
          lastTry = o.now();
          await transport.connect();
          recovered();
        } catch (err) {
          fail(err as Error);
          continue;
        }
      }
      if (spool.unread === 0) {
        await sleep(Infinity);
        continue;
      }
      if (o.flushIntervalMs > 0 && !closing && waiters.length === 0 && spool.unread < o.batchSize) await sleep(o.flushIntervalMs);
      try {
        const batch = await spool.next(o.batchSize);
        if (batch.length > 0) await ship(batch);
      } catch (err) {
        fail(err as Error);
      }
    }
  }

  const running = loop();

  return {
    notify: () => wake?.(),
    delivered(seq) {
      if (seq <= sentSeq) return Promise.resolve();
      if (down && o.now() - lastTry < o.retryBaseMs) return Promise.reject(down);
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`not delivered within ${o.timeoutMs} ms`));
        }, o.timeoutMs);
        const waiter: Waiter = {
          seq,
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (err) => (clearTimeout(timer), reject(err)),
        };
        waiters.push(waiter);
        // A waiter while the receiver is down asks for a retry now rather than at the next backoff.
        if (down) lastTry = -Infinity;
        wake?.();
      });
    },
    async check() {
      if (down) throw down;
    },
    async close(deadlineMs) {
      closing = true;
      wake?.();
      let late = false;
      const deadline = new Promise<void>((r) => setTimeout(r, deadlineMs).unref()).then(() => (late = true));
      await Promise.race([running, deadline]);
      clearTimeout(settleTimer);
      const graceful = await transport.close().catch(() => false);
      if (!late && graceful && unsettled.length > 0) await spool.ack(unsettled[unsettled.length - 1]!.head).catch(() => undefined);
      for (const w of waiters) w.reject(new Error('audit sink closed'));
      waiters = [];
    },
  };
}
