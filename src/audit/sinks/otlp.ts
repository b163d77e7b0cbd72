/**
 * Audit sink: OpenTelemetry logs over OTLP/HTTP (protobuf or JSON) to a collector, through the
 * on-disk spool of the network sinks (network-sink.ts). The OTLP encoding is the OpenTelemetry
 * project's own (`@opentelemetry/otlp-transformer`); the sending is ours, because delivery must
 * follow the spool: a batch leaves it only when the collector answered 2xx, and a failed one is
 * sent again, never dropped from memory as the SDK's exporter does after its retries.
 *
 * Each event is one log record: the body is the event as text (the native JSON its hash covers,
 * or its OCSF form), so the chain can be verified from what the collector stored; the time is the
 * event's; a few attributes (`gatehouse.*`) let the collector route and filter without parsing.
 */
import { z } from 'zod';
import { deliveryFields, networkSink, receiverUrl, type NetworkSinkDeps } from '../network-sink.ts';
import type { Transport } from '../shipper.ts';
import type { AuditSink } from '../sink.ts';

export const otlpSinkSchema = z
  .strictObject({
    type: z.literal('otlp'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics and the spool directory (default `otlp`).'),
    url: receiverUrl(/^https?$/).describe('The collector\'s OTLP/HTTP logs endpoint, e.g. `http://collector:4318/v1/logs`.'),
    encoding: z.enum(['protobuf', 'json']).default('protobuf').describe('`protobuf` (`application/x-protobuf`, OTLP\'s default) or `json`.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers (e.g. an `authorization` for the collector). Values are secrets: never logged.'),
    ca: z.string().min(1).optional().describe('PEM file of the CA(s) that sign the collector\'s certificate (https); default the system CAs.'),
    serviceName: z.string().min(1).default('gatehouse').describe('Resource attribute `service.name` of the records.'),
    batchSize: z.number().int().min(1).max(10_000).default(512).describe('Events per request.'),
    flushIntervalMs: z.number().int().min(0).default(200).describe('Longest wait to fill a batch (milliseconds); a required write is sent at once.'),
    ...deliveryFields,
  })
  .refine((s) => s.ca === undefined || s.url.startsWith('https:'), { message: 'ca needs an https:// url', path: ['ca'] })
  .describe('OpenTelemetry logs over OTLP/HTTP, spooled on disk and delivered at least once; can be required.');

export type OtlpSinkConfig = z.infer<typeof otlpSinkSchema>;

export function otlpSink(config: OtlpSinkConfig, deps: NetworkSinkDeps & { readonly chain: string }): AuditSink {
  let loaded: Promise<Transport> | undefined;
  const transport = () => (loaded ??= import('../otlp-transport.ts').then((m) => m.httpTransport(config, deps.chain)));
  const lazy: Transport = {
    settleMs: 0,
    send: async (events) => (await transport()).send(events),
    connect: async () => (await transport()).connect(),
    close: async () => (loaded ? (await loaded).close() : false),
  };
  return networkSink('otlp', config, lazy, deps, { size: config.batchSize, intervalMs: config.flushIntervalMs });
}
