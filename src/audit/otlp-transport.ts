/**
 * The OTLP/HTTP transport of the otlp audit sink (sinks/otlp.ts): events as OpenTelemetry log
 * records, encoded by the OpenTelemetry project's own serializers, POSTed to the collector; a 2xx
 * answer is the acknowledgement the shipper waits for.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { SeverityNumber } from '@opentelemetry/api';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { Agent } from 'undici';
import type { ChainedEvent } from './event.ts';
import { render, type DeliveryConfig } from './network-sink.ts';
import { RefusedError, type Transport } from './shipper.ts';
import type { SpooledEvent } from './spool.ts';

/** OTLP's severity of an event (the same ranking as the syslog sink's). */
function severity(e: ChainedEvent): { number: SeverityNumber; text: string } {
  if (e.type === 'admin') return e.outcome === 'denied' ? { number: SeverityNumber.WARN, text: 'WARN' } : { number: SeverityNumber.INFO2, text: 'INFO2' };
  if (e.outcome === 'denied' || e.outcome === 'malformed') return { number: SeverityNumber.WARN, text: 'WARN' };
  if (e.outcome === 'failed') return { number: SeverityNumber.ERROR, text: 'ERROR' };
  return { number: SeverityNumber.INFO, text: 'INFO' };
}

/** Retryable per the OTLP/HTTP specification ("Failures"): anything else non-2xx is a refusal, except auth, which an operator fixes. */
const RETRYABLE = (status: number) => status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;

/** What the transport needs of the sink's options (sinks/otlp.ts). */
export interface OtlpTransportOptions {
  readonly url: string;
  readonly encoding: 'protobuf' | 'json';
  readonly headers: Readonly<Record<string, string>>;
  readonly ca?: string | undefined;
  readonly serviceName: string;
  readonly format: DeliveryConfig['format'];
  readonly timeoutMs: number;
}

export function httpTransport(config: OtlpTransportOptions, chain: string): Transport {
  const resource = resourceFromAttributes({ 'service.name': config.serviceName, 'service.instance.id': chain, 'host.name': hostname() });
  const scope = { name: 'gatehouse.audit' };
  const serializer = config.encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  const dispatcher = config.ca ? new Agent({ connect: { ca: readFileSync(config.ca) } }) : undefined;
  const where = `otlp ${config.url}`;
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

