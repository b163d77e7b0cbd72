/**
 * The OpenTelemetry tracer of the gateway, loaded only when tracing is on (src/tracing/index.ts):
 * a SERVER span per request and a child span per pipeline stage that ran, hooked once in the
 * runner (an observer for the request span, the runner's stage wrapper for stage spans). A
 * `traceparent`/`tracestate` is taken as the request span's parent only from a trusted proxy
 * (`server.trustedProxies`, as for X-Request-ID); what MLflow receives is always the context of
 * the gateway's own stage span that sent it, so MLflow's traces of the call hang under it.
 * Attributes carry no credential: the path without its query, the peer address, the operation,
 * tenant, decision, reason ids and error code.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from '../lib/logger.ts';
import type { RequestContext, Stage } from '../pipeline/context.ts';
import type { RequestEvent, RequestObserver, StageWrapper } from '../pipeline/runner.ts';
import type { TracingSettings } from './config.ts';

export interface Tracing {
  readonly observer: RequestObserver;
  readonly wrapper: StageWrapper;
  /** Exports what is still queued, then stops. */
  close(): Promise<void>;
}

/** OTLP/HTTP (protobuf) span exporter: the OpenTelemetry project's serializer, one POST per batch. */
function otlpExporter(settings: TracingSettings, log: Logger): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
      fetch(settings.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: ProtobufTraceSerializer.serializeRequest(spans)!,
        signal: AbortSignal.timeout(settings.timeoutMs),
      }).then(
        async (res) => {
          await res.arrayBuffer().catch(() => undefined);
          if (!res.ok) throw new Error(`status ${res.status}`);
          done({ code: ExportResultCode.SUCCESS });
        },
      ).catch((err: Error) => {
        log.warn({ url: settings.url, spans: spans.length, err: err.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : ((err.cause as Error | undefined)?.message ?? err.message) }, 'trace export failed; spans dropped');
        done({ code: ExportResultCode.FAILED, error: err });
      });
    },
    async shutdown() {},
  };
}

const UPSTREAM_TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

export function startTracing(settings: TracingSettings, trustedProxies: readonly string[], log: Logger): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: otlpExporter(settings, log), exportTimeoutMillis: settings.timeoutMs })],
  });
  const tracer = provider.getTracer('gatehouse');
  const propagator = new W3CTraceContextPropagator();
  const trusted = new Set(trustedProxies);
  const requests = new WeakMap<RequestContext, { span: Span; context: Context }>();

  const observer: RequestObserver = {
    onStart(ctx) {
      // Only a trusted proxy may place this request inside its trace; anyone else starts a new one.
      const parent = trusted.has(ctx.peer) ? propagator.extract(ROOT_CONTEXT, ctx.req.headers, defaultTextMapGetter) : ROOT_CONTEXT;
      const url = ctx.req.url ?? '';
      const q = url.indexOf('?');
      const span = tracer.startSpan(
        ctx.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': ctx.method,
            'url.path': q < 0 ? url : url.slice(0, q),
            'url.scheme': 'encrypted' in ctx.req.socket ? 'https' : 'http',
            'client.address': ctx.peer,
            'network.protocol.version': ctx.req.httpVersion,
          },
        },
        parent,
      );
      requests.set(ctx, { span, context: trace.setSpan(parent, span) });
    },
    onDone({ ctx, status }: RequestEvent) {
      const request = requests.get(ctx);
      if (!request) return;
      const { span } = request;
      const operation = ctx.route?.row.op;
      if (operation !== undefined) span.updateName(`${ctx.method} ${operation}`);
      span.setAttribute('http.response.status_code', status);
      span.setAttribute('gatehouse.request_id', ctx.requestId);
      if (operation !== undefined) span.setAttribute('gatehouse.operation', operation);
      if (ctx.tenant !== undefined) span.setAttribute('gatehouse.tenant', ctx.tenant);
      if (ctx.decision) {
        span.setAttribute('gatehouse.decision', ctx.decision.effect);
        span.setAttribute('gatehouse.reasons', [...ctx.decision.reasons]);
      }
      if (ctx.errorCode !== undefined) {
        span.setAttribute('error.type', ctx.errorCode);
        if (ctx.errorReason !== undefined) span.setAttribute('gatehouse.error_reason', ctx.errorReason);
      }
      if (ctx.upstreamStatus !== undefined) span.setAttribute('gatehouse.upstream_status', ctx.upstreamStatus);
      // Semantic conventions: a server span is an error for 5xx only (4xx is the client's).
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, ...(ctx.errorCode !== undefined && { message: ctx.errorCode }) });
      span.end();
    },
  };

  const wrapper: StageWrapper = {
    async around(stage: Stage, ctx: RequestContext, run: () => Promise<void>) {
      const request = requests.get(ctx);
      if (!request) return run();
      const span = tracer.startSpan(stage.name, { kind: SpanKind.INTERNAL, attributes: { 'gatehouse.stage': stage.name } }, request.context);
      // What goes to MLflow carries this stage's span as its parent, never the client's header.
      const headers = ctx.upstreamHeaders;
      if (headers) {
        for (const name of UPSTREAM_TRACE_HEADERS) delete headers[name];
        propagator.inject(trace.setSpan(request.context, span), headers, defaultTextMapSetter);
      }
      try {
        await run();
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof code === 'string' && { message: code }) });
        throw err;
      } finally {
        span.end();
      }
    },
  };

  return {
    observer,
    wrapper,
    async close() {
      await provider.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'trace exporter shutdown failed'));
    },
  };
}
