/**
 * A real Jaeger (v2, all-in-one: OTLP/HTTP receiver, in-memory store, query API) for the tracing
 * suite, on loopback ports of its own. Built once per machine by `scripts/lib/env.sh ensure_jaeger`
 * (`scripts/test` runs it) into the user's cache. Spans are read back through Jaeger's HTTP query
 * API (`/api/traces`), as an operator's UI reads them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from './paths.ts';
import { supervise } from './child.ts';
import { freePort } from './ports.ts';

/** JAEGER_VERSION in scripts/lib/env.sh. */
const VERSION = 'v1.75.0';
const BINARY = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gatehouse-tools', `jaeger-${VERSION}`);

/** One span as Jaeger's query API returns it. */
export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: ReadonlyArray<{ refType: string; traceID: string; spanID: string }>;
  readonly tags: ReadonlyArray<{ key: string; type: string; value: unknown }>;
  readonly processID: string;
}

export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { serviceName: string }>>;
}

export interface Jaeger {
  /** The OTLP/HTTP traces endpoint. */
  readonly tracesUrl: string;
  /** The OTLP/HTTP base endpoint (what OTEL_EXPORTER_OTLP_ENDPOINT names). */
  readonly otlpUrl: string;
  /** The services Jaeger has spans of. */
  services(): Promise<string[]>;
  /** The traces of a service (query API). */
  traces(service: string): Promise<JaegerTrace[]>;
  /** One trace by id, or undefined when Jaeger has none (yet). */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  close(): Promise<void>;
}

export async function startJaeger(): Promise<Jaeger> {
  if (!existsSync(BINARY)) throw new Error(`Jaeger is missing at ${BINARY}: run ./scripts/test (it builds it once per machine)`);
  const dir = mkdtempSync(join(tmpdir(), 'gh-jaeger-'));
  const [otlp, query, queryGrpc] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'service:',
      '  extensions: [jaeger_storage, jaeger_query]',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      processors: [batch]',
      '      exporters: [jaeger_storage_exporter]',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      'extensions:',
      '  jaeger_storage:',
      '    backends:',
      '      memstore:',
      '        memory:',
      '          max_traces: 10000',
      '  jaeger_query:',
      '    storage:',
      '      traces: memstore',
      '    http:',
      `      endpoint: 127.0.0.1:${query}`,
      '    grpc:',
      `      endpoint: 127.0.0.1:${queryGrpc}`,
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${otlp}`,
      'processors:',
      '  batch:',
      '    timeout: 50ms',
      'exporters:',
      '  jaeger_storage_exporter:',
      '    trace_storage: memstore',
      '',
    ].join('\n'),
  );
  const queryUrl = `http://127.0.0.1:${query}`;
  const server = supervise(
    'jaeger',
    () => spawn(BINARY, ['--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() }),
    async () => (await fetch(`${queryUrl}/api/services`)).ok && (await fetch(`http://127.0.0.1:${otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).ok,
    { timeoutMs: 30_000, signal: 'SIGTERM' },
  );
  await server.start();
  return {
    tracesUrl: `http://127.0.0.1:${otlp}/v1/traces`,
    otlpUrl: `http://127.0.0.1:${otlp}`,
    async services() {
      return ((await (await fetch(`${queryUrl}/api/services`)).json()) as { data: string[] | null }).data ?? [];
    },
    async traces(service) {
      // The window is the caller's clock, not Jaeger's: under libfaketime (./scripts/test --future) the
      // gateway stamps spans 400 days ahead while the Go binary keeps the real clock, and Jaeger's
      // default look-back (from its own now) would not find them.
      const hour = 3_600_000_000;
      const nowUs = Date.now() * 1000;
      const res = await fetch(`${queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=1000&start=${nowUs - hour}&end=${nowUs + hour}`);
      if (!res.ok) return [];
      return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
    },
    async trace(traceId) {
      const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`jaeger query: status ${res.status}`);
      return ((await res.json()) as { data: JaegerTrace[] }).data[0];
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
