/**
 * When tracing is on (src/tracing/config.ts): the configuration file decides when it says so,
 * otherwise the standard OpenTelemetry variables do, as for any OpenTelemetry SDK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingSchema, tracingSettings } from '../../src/tracing/config.ts';

const none = tracingSchema.parse({});

test('off by default, and off with only one of the two standard variables', () => {
  assert.equal(tracingSettings(none, {}), undefined);
  assert.equal(tracingSettings(none, { OTEL_TRACES_EXPORTER: 'otlp' }), undefined);
  assert.equal(tracingSettings(none, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), undefined);
  assert.equal(tracingSettings(none, { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), undefined);
});

test('the standard variables alone switch it on, with the OTLP/HTTP traces path and sampler', () => {
  assert.deepEqual(tracingSettings(none, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }), { url: 'http://c:4318/v1/traces', sampleRatio: 1, serviceName: 'gatehouse', timeoutMs: 10_000 });
  const s = tracingSettings(none, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_SERVICE_NAME: 'gw' });
  assert.deepEqual(s, { url: 'http://c:4318/custom', sampleRatio: 0.25, serviceName: 'gw', timeoutMs: 10_000 });
  assert.equal(tracingSettings(none, { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), undefined);
});

test('the configuration file wins over the environment, both ways', () => {
  const env = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
  assert.equal(tracingSettings(tracingSchema.parse({ enabled: false }), env), undefined);
  const on = tracingSchema.parse({ enabled: true, url: 'http://j:4318/v1/traces', sampleRatio: 0.5, serviceName: 'edge' });
  assert.deepEqual(tracingSettings(on, env), { url: 'http://j:4318/v1/traces', sampleRatio: 0.5, serviceName: 'edge', timeoutMs: 10_000 });
  assert.throws(() => tracingSettings(tracingSchema.parse({ enabled: true }), {}), /no collector is named/);
  assert.throws(() => tracingSchema.parse({ sampleRatio: 2 }));
});
