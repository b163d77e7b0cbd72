/**
 * The `tracing` section and how it combines with the standard OpenTelemetry variables: tracing is
 * on when the file says `enabled: true`, or when the file says nothing and the environment asks
 * for it as it would of any OpenTelemetry SDK (`OTEL_TRACES_EXPORTER=otlp` with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). Off, nothing of the SDK
 * is loaded (src/tracing/index.ts).
 */
import { z } from 'zod';

const httpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

export const tracingSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe('Export OpenTelemetry traces of every request (a span per request, a child span per pipeline stage that ran). Unset: on only when `OTEL_TRACES_EXPORTER=otlp` and an OTLP endpoint variable are set; `false` keeps it off whatever the environment says.'),
    url: httpUrl
      .optional()
      .describe('The collector\'s OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`). Unset: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('Share of new traces recorded (0..1); a trace begun by a trusted proxy keeps the proxy\'s sampling decision. Unset: `OTEL_TRACES_SAMPLER_ARG` when `OTEL_TRACES_SAMPLER` is `traceidratio` or `parentbased_traceidratio`, else 1.'),
    serviceName: z.string().min(1).optional().describe('The `service.name` resource attribute. Unset: `OTEL_SERVICE_NAME`, else `gatehouse`.'),
    timeoutMs: z.number().int().min(1).default(10_000).describe('How long one export to the collector may take (milliseconds); a failed export is dropped and logged, never retried into memory.'),
  })
  .prefault({});

export type TracingConfig = z.infer<typeof tracingSchema>;

/** What the tracer is started with once tracing is on. */
export interface TracingSettings {
  readonly url: string;
  readonly sampleRatio: number;
  readonly serviceName: string;
  readonly timeoutMs: number;
}

const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);

/**
 * The settings tracing runs with, `undefined` when off; a problem (on without an endpoint) is
 * thrown so the gateway does not start half-configured.
 */
export function tracingSettings(config: TracingConfig, env: NodeJS.ProcessEnv): TracingSettings | undefined {
  const fromEnvUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  const envAsks = env.OTEL_SDK_DISABLED !== 'true' && (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).includes('otlp') && fromEnvUrl !== undefined;
  const on = config.enabled ?? envAsks;
  if (!on) return undefined;
  const url = config.url ?? fromEnvUrl;
  if (url === undefined) throw new Error('tracing.enabled is true but no collector is named: set tracing.url or OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!httpUrl.safeParse(url).success) throw new Error(`the OTLP traces endpoint ${JSON.stringify(url)} is not an http(s) URL`);
  const envRatio = RATIO_SAMPLERS.has(env.OTEL_TRACES_SAMPLER ?? '') ? Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1') : 1;
  const sampleRatio = config.sampleRatio ?? (Number.isFinite(envRatio) && envRatio >= 0 && envRatio <= 1 ? envRatio : 1);
  return { url, sampleRatio, serviceName: config.serviceName ?? env.OTEL_SERVICE_NAME ?? 'gatehouse', timeoutMs: config.timeoutMs };
}
