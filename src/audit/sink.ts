/** What every audit sink implements; one sink per file under sinks/. */
import type { ChainHead } from './chain.ts';
import type { ChainedEvent } from './event.ts';

/** The events as JSON lines, newline-terminated: the sealed lines when the caller has them. */
export function jsonLines(events: readonly ChainedEvent[], lines: readonly string[] | undefined): string {
  let text = '';
  for (let i = 0; i < events.length; i++) text += `${lines?.[i] ?? JSON.stringify(events[i])}\n`;
  return text;
}

export interface AuditSink {
  /** Config id (default: the type); the `sink` label of the audit metrics. */
  readonly id: string;
  readonly type: string;
  /** Once `write` resolves the events survive a crash of the gateway (file with fsync, store, a network sink's spool). Only durable sinks can be required. */
  readonly durable: boolean;
  /** Batching wishes: up to `size` events per write, waiting up to `intervalMs` to fill a batch. */
  readonly batch?: { readonly size: number; readonly intervalMs: number };
  /** Prepares the sink and returns where its chain stands (so a restart continues it). */
  open(): Promise<ChainHead>;
  /**
   * `open` may fail because the sink's back end is down at start (the store): the queue then
   * opens it before its first write (events written until then fail) instead of failing the start.
   */
  readonly retryOpen?: boolean;
  /**
   * Writes the events in order, all or nothing as far as the sink can tell; rejects on failure.
   * `lines`, when given, holds each event as one line of JSON text (from sealing: chain.ts `seal`).
   */
  write(events: readonly ChainedEvent[], lines?: readonly string[]): Promise<void>;
  /**
   * Checks, without writing an event, that a write could succeed now (readiness of a required
   * sink); rejects saying why not. Durable sinks have one.
   */
  probe?(): Promise<void>;
  /**
   * Network sinks (syslog, OTLP): resolves once the event with this seq was handed to the
   * receiver; rejects while the receiver is unreachable. A required write waits for it.
   */
  delivered?(seq: number): Promise<void>;
  close(): Promise<void>;
}
