/**
 * Tracing's door for the gateway: off (the default), this module is all that is loaded and the
 * runner gets no observer and no stage wrapper; on, the OpenTelemetry SDK (./tracer.ts) is
 * imported then and only then.
 */
import type { Logger } from '../lib/logger.ts';
import type { Tracing } from './tracer.ts';
import { tracingSettings, type TracingConfig } from './config.ts';

export type { Tracing };

export async function loadTracing(config: TracingConfig, env: NodeJS.ProcessEnv, trustedProxies: readonly string[], log: Logger): Promise<Tracing | undefined> {
  const settings = tracingSettings(config, env);
  if (settings === undefined) return undefined;
  const { startTracing } = await import('./tracer.ts');
  log.info({ url: settings.url, sampleRatio: settings.sampleRatio, serviceName: settings.serviceName }, 'tracing on: spans exported over OTLP/HTTP');
  return startTracing(settings, trustedProxies, log);
}
