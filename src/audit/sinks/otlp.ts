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
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { SeverityNumber } from '@opentelemetry/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { Agent } from 'undici';
import { z } from 'zod';
import type { ChainedEvent } from '../event.ts';
import { deliveryFields, networkSink, render, shownUrl, type NetworkSinkDeps } from '../network-sink.ts';
import { RefusedError, type Transport } from '../shipper.ts';
import type { AuditSink } from '../sink.ts';
import type { SpooledEvent } from '../spool.ts';

export const otlpSinkSchema = z
  .strictObject({
    type: z.literal('otlp'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics and the spool directory (default `otlp`).'),
    url: z.url({ protocol: /^https?$/ }).describe('The collector\'s OTLP/HTTP logs endpoint, e.g. `http://collector:4318/v1/logs`.'),
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

/** OTLP's severity of an event (the same ranking as the syslog sink's). */
function severity(e: ChainedEvent): { number: SeverityNumber; text: string } {
  if (e.type === 'admin') return e.outcome === 'denied' ? { number: SeverityNumber.WARN, text: 'WARN' } : { number: SeverityNumber.INFO2, text: 'INFO2' };
  if (e.outcome === 'denied' || e.outcome === 'malformed') return { number: SeverityNumber.WARN, text: 'WARN' };
  if (e.outcome === 'failed') return { number: SeverityNumber.ERROR, text: 'ERROR' };
  return { number: SeverityNumber.INFO, text: 'INFO' };
}

/** Retryable per the OTLP/HTTP specification ("Failures"): anything else non-2xx is a refusal, except auth, which an operator fixes. */
const RETRYABLE = (status: number) => status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;

function httpTransport(config: OtlpSinkConfig, chain: string): Transport {
  const resource = resourceFromAttributes({ 'service.name': config.serviceName, 'service.instance.id': chain, 'host.name': hostname() });
  const scope = { name: 'gatehouse.audit' };
  const serializer = config.encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  const dispatcher = config.ca ? new Agent({ connect: { ca: readFileSync(config.ca) } }) : undefined;
  const where = `otlp ${shownUrl(config.url)}`;
  const record = (e: SpooledEvent): ReadableLogRecord => {
    const ms = Date.parse(e.event.time);
    const time: [number, number] = [Math.floor(ms / 1000), (ms % 1000) * 1e6];
    const s = severity(e.event);
    const ev = e.event;
    return {
      hrTime: time,
      hrTimeObserved: time,
      severityNumber: s.number,
      severityText: s.text,
      body: render(config.format, e),
      eventName: ev.type === 'admin' ? 'gatehouse.audit.admin' : 'gatehouse.audit.request',
      resource,
      instrumentationScope: scope,
      attributes: {
        'gatehouse.seq': ev.seq,
        'gatehouse.hash': ev.hash,
        'gatehouse.outcome': ev.outcome,
        ...(ev.requestId !== null && { 'gatehouse.request_id': ev.requestId }),
        ...(ev.tenant !== null && { 'gatehouse.tenant': ev.tenant }),
        ...(ev.type === 'admin' ? { 'gatehouse.action': ev.action } : ev.operation !== null && { 'gatehouse.operation': ev.operation }),
      },
      droppedAttributesCount: 0,
    };
  };

  async function post(body: Uint8Array): Promise<void> {
    let res: Response;
    try {
      res = await fetch(config.url, {
        method: 'POST',
        headers: { ...config.headers, 'content-type': config.encoding === 'json' ? 'application/json' : 'application/x-protobuf' },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
        ...(dispatcher && { dispatcher }),
      } as RequestInit);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${config.timeoutMs} ms` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
    }
    const answer = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (!res.ok) {
      const why = `${where}: status ${res.status}`;
      throw RETRYABLE(res.status) ? new Error(why) : new RefusedError(why);
    }
    // A partial success names records the collector rejected for good: not retried (the specification), counted as lost.
    const rejected = answer.length > 0 ? Number(serializer.deserializeResponse(answer).partialSuccess?.rejectedLogRecords ?? 0) : 0;
    if (rejected > 0) throw new RefusedError(`${where}: the collector rejected ${rejected} record(s)`, rejected);
  }

  return {
    settleMs: 0,
    async connect() {
      await post(serializer.serializeRequest([])!);
    },
    async send(events) {
      await post(serializer.serializeRequest(events.map(record))!);
    },
    async close() {
      await dispatcher?.close();
      return false;
    },
  };
}

export function otlpSink(config: OtlpSinkConfig, deps: NetworkSinkDeps & { readonly chain: string }): AuditSink {
  return networkSink('otlp', config, httpTransport(config, deps.chain), deps, { size: config.batchSize, intervalMs: config.flushIntervalMs });
}
