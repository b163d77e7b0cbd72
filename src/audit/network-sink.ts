/**
 * What the network sinks (syslog, OTLP) share: their delivery options, and the sink built from a
 * spool (spool.ts), a shipper (shipper.ts) and the sink's transport. A network sink accepts an
 * event once it is flushed into its spool on disk (durable, like the file sink), and ships it
 * from there at least once. In `audit.mode: required` a mutating request also waits until its
 * `pending` event was handed to the receiver: with the SIEM unreachable, mutations get 503.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { toOcsf } from './ocsf.ts';
import { startShipper, type Shipper, type Transport } from './shipper.ts';
import type { AuditSink } from './sink.ts';
import { openSpool, type SpooledEvent } from './spool.ts';

export const deliveryFields = {
  format: z
    .enum(['native', 'ocsf'])
    .default('native')
    .describe('`native`: each event as Gatehouse writes it (the JSON its hash covers); `ocsf`: as an OCSF 1.8.0 API Activity event (class 6003, docs/operations.md "OCSF"). The spool and the hash chain keep the native form either way.'),
  spool: z
    .strictObject({
      dir: z.string().min(1).optional().describe('Directory of the spool; default `<dataDir>/audit/spool/<sink id>`.'),
      maxBytes: z.number().int().min(65_536).default(256 * 1024 * 1024).describe('Most bytes of events waiting for delivery; beyond it the sink refuses events (lost in best-effort mode, 503 in required mode).'),
      fsync: z.boolean().default(true).describe('fdatasync the spool after every batch (an accepted event survives a machine crash, not only a process crash).'),
    })
    .prefault({})
    .describe('The on-disk spool events wait in until delivered.'),
  retryBaseMs: z.number().int().min(1).default(250).describe('First retry delay after a failed delivery (milliseconds), doubled per retry up to `retryMaxMs`.'),
  retryMaxMs: z.number().int().min(1).default(10_000).describe('Longest retry delay (milliseconds).'),
  timeoutMs: z.number().int().min(1).default(5_000).describe('Timeout of a connection, a write or a request (milliseconds); also the longest a required write waits for delivery.'),
};

/** Delivery options as parsed (deliveryFields). */
export interface DeliveryConfig {
  readonly id?: string | undefined;
  readonly format: 'native' | 'ocsf';
  readonly spool: { readonly dir?: string | undefined; readonly maxBytes: number; readonly fsync: boolean };
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly timeoutMs: number;
}

export interface NetworkSinkDeps {
  readonly dataDir: string;
  readonly now: () => number;
  /** A receiver refused events for good (counted as lost). */
  readonly onRefused: (count: number, err: Error) => void;
  /** The receiver became unreachable (err) or reachable again (undefined). */
  readonly onState?: (err: Error | undefined) => void;
  readonly onTornTail?: (bytes: number) => void;
}

/** A spool segment: small enough to read whole, large enough that segments are few. */
const SEGMENT_BYTES = 1024 * 1024;

/**
 * A receiver's URL, of the given protocols, with no user name or password: the sinks show their
 * URL in logs and `/readyz`, and would send such credentials nowhere (syslog has none; OTLP/HTTP
 * takes them in `headers`, and fetch refuses such a URL with an error that quotes it).
 */
export const receiverUrl = (protocol: RegExp) =>
  z.url({ protocol }).refine((u) => {
    const parsed = new URL(u);
    return parsed.username === '' && parsed.password === '';
  }, 'no user name or password in the url: they would show in logs (otlp: give them in headers)');

/** The event as the receiver gets it, in the sink's format. */
export function render(format: DeliveryConfig['format'], e: SpooledEvent): string {
  return format === 'native' ? e.line : JSON.stringify(toOcsf(e.event));
}

export function networkSink(
  type: string,
  config: DeliveryConfig,
  transport: Transport,
  deps: NetworkSinkDeps,
  batch: { readonly size: number; readonly intervalMs: number },
): AuditSink {
  const id = config.id ?? type;
  const spool = openSpool({
    dir: config.spool.dir ?? join(deps.dataDir, 'audit', 'spool', id),
    maxBytes: config.spool.maxBytes,
    segmentBytes: Math.min(SEGMENT_BYTES, Math.floor(config.spool.maxBytes / 4)),
    fsync: config.spool.fsync,
    ...(deps.onTornTail && { onTornTail: deps.onTornTail }),
  });
  let shipper: Shipper | undefined;
  return {
    id,
    type,
    durable: true,
    async open() {
      const head = await spool.open();
      shipper = startShipper(spool, transport, {
        batchSize: batch.size,
        flushIntervalMs: batch.intervalMs,
        retryBaseMs: config.retryBaseMs,
        retryMaxMs: config.retryMaxMs,
        timeoutMs: config.timeoutMs,
        now: deps.now,
        onRefused: deps.onRefused,
        ...(deps.onState && { onState: deps.onState }),
      });
      return head;
    },
    async write(events, lines) {
      await spool.append(events, lines ?? events.map((e) => JSON.stringify(e)));
      shipper!.notify();
    },
    delivered: (seq) => shipper!.delivered(seq),
    async probe() {
      if (spool.bytes() >= config.spool.maxBytes) throw new Error(`spool full (${spool.bytes()} bytes wait for delivery)`);
      await shipper!.check();
    },
    async close() {
      await shipper?.close(config.timeoutMs);
      await spool.close();
    },
  };
}
