/**
 * A real OpenTelemetry Collector for tests: the OTLP receiver (HTTP, on a loopback port) and the
 * file exporter, writing every batch it received as one OTLP/JSON line. Built once per machine by
 * `scripts/lib/env.sh ensure_otelcol` (`scripts/test` runs it) into the user's cache.
 * `stop()`/`start()` take it down and bring it back on the same port.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from './paths.ts';
import { supervise } from './child.ts';
import { freePort } from './ports.ts';

/** OTELCOL_VERSION in scripts/lib/env.sh. */
const VERSION = 'v0.165.0';
const BINARY = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gatehouse-tools', `otelcol-gatehouse-${VERSION}`);

/** One log record as the collector stored it (OTLP/JSON). */
export interface StoredRecord {
  readonly timeUnixNano: string;
  readonly severityNumber?: number;
  readonly severityText?: string;
  readonly eventName?: string;
  readonly body: { readonly stringValue: string };
  readonly attributes: ReadonlyArray<{ key: string; value: Record<string, unknown> }>;
  /** The record's resource attributes. */
  readonly resource: Record<string, unknown>;
}

export interface Collector {
  /** The OTLP/HTTP logs endpoint. */
  readonly logsUrl: string;
  /** Every log record the collector has written so far, in order. */
  records(): StoredRecord[];
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
const plain = (v: OtlpValue) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);

export async function startCollector(): Promise<Collector> {
  if (!existsSync(BINARY)) throw new Error(`the OpenTelemetry Collector is missing at ${BINARY}: run ./scripts/test (it builds it once per machine)`);
  const dir = mkdtempSync(join(tmpdir(), 'gh-otelcol-'));
  const port = await freePort();
  // One output file per run: the file exporter starts its file afresh when the collector starts.
  let runs = 0;
  const outputs: string[] = [];
  const config = (out: string) =>
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${out}`,
      '    flush_interval: 50ms',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    logs:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n');
  // SIGTERM: the collector stops receiving, flushes its exporter and exits.
  const server = supervise(
    'otelcol',
    () => {
      const out = join(dir, `logs-${++runs}.jsonl`);
      outputs.push(out);
      writeFileSync(join(dir, 'config.yaml'), config(out));
      return spawn(BINARY, ['--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    },
    async () => (await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).ok,
    { timeoutMs: 20_000, signal: 'SIGTERM' },
  );

  await server.start();
  return {
    logsUrl: `http://127.0.0.1:${port}/v1/logs`,
    records() {
      const records: StoredRecord[] = [];
      // Complete lines only: the exporter may be half-way through writing the last one.
      const text = outputs.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8').replace(/[^\n]*$/, '')).join('');
      for (const line of text.split('\n')) {
        if (!line) continue;
        const batch = JSON.parse(line) as { resourceLogs: Array<{ resource?: { attributes?: Array<{ key: string; value: OtlpValue }> }; scopeLogs: Array<{ logRecords?: Array<Omit<StoredRecord, 'resource'>> }> }> };
        for (const rl of batch.resourceLogs) {
          const resource = Object.fromEntries((rl.resource?.attributes ?? []).map((a) => [a.key, plain(a.value)]));
          for (const sl of rl.scopeLogs) for (const r of sl.logRecords ?? []) records.push({ ...r, resource });
        }
      }
      return records;
    },
    stop: () => server.stop(),
    start: () => server.start(),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
