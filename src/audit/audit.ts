/**
 * The audit trail: builds the sinks from config, records one `complete` event per request
 * (a runner observer) and, with `audit.mode: required`, a `pending` event that must be durably
 * accepted before a mutating request is forwarded (the audit-pending stage calls `pending`).
 * Admin events (src/audit/admin-event.ts) go into the same queues, so the same chains.
 */
import { hostname } from 'node:os';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { RequestObserver } from '../pipeline/runner.ts';
import type { Store } from '../store/store.ts';
import { auditRepository } from '../store/audit.ts';
import type { AdminAuditEvent } from './admin-event.ts';
import { buildAuditEvent, type RequestAuditEvent } from './event.ts';
import { openSinkQueue, type LossReason, type SinkQueue } from './queue.ts';
import { DURABLE_SINKS, type AuditConfig, type AuditSinkConfig } from './schema.ts';
import type { AuditSink } from './sink.ts';
import { fileSink } from './sinks/file.ts';
import { otlpSink } from './sinks/otlp.ts';
import { stdoutSink } from './sinks/stdout.ts';
import { storeSink } from './sinks/store.ts';
import { syslogSink } from './sinks/syslog.ts';
import { webhookSink } from './sinks/webhook.ts';

export interface Auditor {
  readonly required: boolean;
  readonly observer: RequestObserver;
  /** Durably records the `pending` event of a mutating request; throws GATEHOUSE_AUDIT_UNAVAILABLE when a required sink cannot. */
  pending(ctx: RequestContext): Promise<void>;
  /**
   * Records an admin event in every sink. Resolves once the durable sinks (file, store, spools) hold it, so
   * a door that awaits it answers after its change is on record; never rejects (a loss is counted
   * and logged like any other, the change it records is already made).
   */
  admin(event: AdminAuditEvent): Promise<void>;
  /** Whether any sink is configured (`audit.sinks: []` turns auditing off). */
  readonly enabled: boolean;
  /** Queue depth per sink id (metrics). */
  depths(): Array<{ sink: string; depth: number }>;
  /**
   * Readiness checks, `audit:<sink id>`, of the sinks a request waits on (audit.mode required:
   * file, store, syslog, otlp): each passes while the sink's probe passes and its queue has room
   * (a network sink: its spool has room and its receiver is reachable). None in best-effort mode,
   * where the audit trail never refuses a request.
   */
  readonly readiness: Readonly<Record<string, () => Promise<void>>>;
  close(deadlineMs?: number): Promise<void>;
}

export interface AuditDeps {
  readonly store: Store;
  readonly dataDir: string;
  readonly log: Logger;
  readonly now: () => number;
  readonly onLoss?: (sink: string, reason: LossReason, count: number) => void;
  /** Standard output for the stdout sink (tests capture it). */
  readonly stdout?: NodeJS.WritableStream;
}

/** This process's chain in the store sink: `audit.replicaId`, else `<hostname>-<pid>`. */
export function replicaChain(config: Readonly<AuditConfig>): string {
  return config.replicaId ?? `${hostname()}-${process.pid}`;
}

function buildSink(config: AuditSinkConfig, deps: AuditDeps & { readonly chain: string }, onRefused: (id: string, count: number, err: Error) => void): AuditSink {
  const id = config.id ?? config.type;
  const network = {
    dataDir: deps.dataDir,
    now: deps.now,
    onRefused: (count: number, err: Error) => onRefused(id, count, err),
    onState: (err: Error | undefined) =>
      err ? deps.log.warn({ sink: id, err: err.message }, 'audit receiver unreachable; events wait in the spool') : deps.log.info({ sink: id }, 'audit receiver reachable again'),
    onTornTail: (bytes: number) => deps.log.warn({ sink: id, bytes }, 'audit spool ended in a partial line (crash during a write); cut it off'),
  };
  switch (config.type) {
    case 'stdout':
      return stdoutSink(config, deps.stdout);
    case 'file':
      return fileSink(config, {
        dataDir: deps.dataDir,
        now: deps.now,
        onTornTail: (bytes) => deps.log.warn({ bytes }, 'audit file ended in a partial line (crash during a write); cut it off'),
      });
    case 'store':
      return storeSink(config, auditRepository(deps.store.db, { chain: deps.chain }));
    case 'webhook':
      return webhookSink(config);
    case 'syslog':
      return syslogSink(config, network);
    case 'otlp':
      return otlpSink(config, { ...network, chain: deps.chain });
  }
}

export async function createAuditor(config: Readonly<AuditConfig>, deps: AuditDeps): Promise<Auditor> {
  const required = config.mode === 'required';
  let lostSinceLog = 0;
  let lastLog = 0;
  const onLoss = (sink: AuditSink, reason: LossReason, count: number, err?: Error) => {
    deps.onLoss?.(sink.id, reason, count);
    lostSinceLog += count;
    // At most one line per 10 s per process, so an outage does not flood the log.
    const now = deps.now();
    if (now - lastLog < 10_000) return;
    deps.log.error({ sink: sink.id, reason, lost: lostSinceLog, err: err?.message }, 'audit events lost');
    lostSinceLog = 0;
    lastLog = now;
  };
  const queues: SinkQueue[] = [];
  // Events a network sink's receiver refused for good are lost like any other (queue.ts counts the rest).
  const refused = (id: string, count: number, err: Error) => {
    const q = queues.find((x) => x.sink.id === id);
    if (q) onLoss(q.sink, 'error', count, err);
  };
  try {
    for (const sinkConfig of config.sinks) {
      queues.push(await openSinkQueue(buildSink(sinkConfig, { ...deps, chain: replicaChain(config) }, refused), { maxQueue: config.queueSize, onLoss }));
    }
  } catch (err) {
    await Promise.all(queues.map((q) => q.close(0)));
    throw err;
  }
  const durable = queues.filter((q) => DURABLE_SINKS.has(q.sink.type as AuditSinkConfig['type']));

  const build = (ctx: RequestContext, phase: 'pending' | 'complete', durationMs: number, status?: number): RequestAuditEvent =>
    buildAuditEvent(ctx, {
      phase,
      now: new Date(deps.now()),
      durationMs,
      userAgentMaxLength: config.userAgentMaxLength,
      ...(status !== undefined && { status }),
    });

  return {
    required,
    enabled: queues.length > 0,
    async admin(event) {
      const writes = queues.map((q) => ({ durable: durable.includes(q), done: q.push(event) }));
      for (const w of writes) if (!w.durable) w.done.catch(() => undefined);
      await Promise.allSettled(writes.filter((w) => w.durable).map((w) => w.done));
    },
    observer: {
      onDone({ ctx, status, durationMs }) {
        if (queues.length === 0) return;
        const event = build(ctx, 'complete', durationMs, status);
        // Losses are counted and logged by the queue; nothing here may fail the request.
        for (const q of queues) q.push(event).catch(() => undefined);
      },
    },
    async pending(ctx) {
      const event = build(ctx, 'pending', Number(process.hrtime.bigint() - ctx.startedAt) / 1e6);
      // Urgent on the durable sinks: the client waits, so it fails with a failing write ahead of it (queue.ts).
      // A network sink's receiver must also have the event: with the SIEM unreachable, the write is refused.
      const writes = queues.map((q) => {
        const urgent = durable.includes(q);
        const written = q.push(event, { urgent });
        return { durable: urgent, done: urgent && q.sink.delivered ? written.then((seq) => q.sink.delivered!(seq)) : written };
      });
      for (const w of writes) if (!w.durable) w.done.catch(() => undefined);
      const results = await Promise.allSettled(writes.filter((w) => w.durable).map((w) => w.done));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw new GatehouseError('GATEHOUSE_AUDIT_UNAVAILABLE', (failed.reason as Error).message);
    },
    depths: () => queues.map((q) => ({ sink: q.sink.id, depth: q.depth() })),
    readiness: required ? Object.fromEntries(durable.map((q) => [`audit:${q.sink.id}`, () => q.ready()])) : {},
    async close(deadlineMs = 5_000) {
      await Promise.all(queues.map((q) => q.close(deadlineMs)));
    },
  };
}
