/** The `audit` configuration section; each sink type owns its sub-schema (sinks/*.ts). */
import { z } from 'zod';
import { fileSinkSchema } from './sinks/file.ts';
import { otlpSinkSchema } from './sinks/otlp.ts';
import { stdoutSinkSchema } from './sinks/stdout.ts';
import { storeSinkSchema } from './sinks/store.ts';
import { syslogSinkSchema } from './sinks/syslog.ts';
import { webhookSinkSchema } from './sinks/webhook.ts';

export const auditSinkSchema = z.discriminatedUnion('type', [stdoutSinkSchema, fileSinkSchema, storeSinkSchema, webhookSinkSchema, syslogSinkSchema, otlpSinkSchema]);
export type AuditSinkConfig = z.infer<typeof auditSinkSchema>;

/**
 * Sink types whose acceptance is durable, so `audit.mode: required` can wait on them: the file,
 * the store, and the network sinks through their spool (which also wait for delivery).
 */
export const DURABLE_SINKS: ReadonlySet<AuditSinkConfig['type']> = new Set(['file', 'store', 'syslog', 'otlp']);

export const auditSchema = z
  .strictObject({
    mode: z
      .enum(['best-effort', 'required'])
      .default('best-effort')
      .describe(
        '`best-effort`: events are queued and written in the background; losses (sink errors, full queues) are counted in `gatehouse_audit_events_lost_total` and logged. `required`: a mutating request (any method but GET) is forwarded only after its `pending` event is durably accepted by every file, store, syslog and otlp sink — for syslog and otlp: flushed into the spool and handed to the receiver; otherwise it gets 503 GATEHOUSE_AUDIT_UNAVAILABLE and is not forwarded. stdout and webhook sinks stay best effort in both modes.',
      ),
    sinks: z
      .array(auditSinkSchema)
      .default([{ type: 'stdout' }])
      .describe('Where events go; several at once, each with its own hash chain. `[]` turns auditing off.'),
    replicaId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits and . _ : - only (1–128)')
      .optional()
      .describe('This process\'s hash chain in the store sink: replicas sharing one store each keep their own chain, named by this id (`gatehouse audit verify --store` checks every chain). Default `<hostname>-<pid>`, so every process starts a new chain.'),
    checkpointKey: z
      .string()
      .min(1)
      .optional()
      .describe('Ed25519 private key (PKCS#8 PEM file) that signs retention checkpoints (`gatehouse audit prune`). Default `<dataDir>/audit/checkpoint-key.pem`, generated at the first prune (mode 0600, public key beside it as `.pub`). Keep a copy of the public key away from the gateway and verify with `gatehouse audit verify --public-key`.'),
    queueSize: z.number().int().min(1).default(10_000).describe('Events a sink may have waiting; beyond it events are lost (best effort) or the request gets 503 (required).'),
    userAgentMaxLength: z.number().int().min(16).max(4096).default(256).describe('User agents longer than this are cut (characters, after escaping control characters).'),
  })
  .superRefine((a, ctx) => {
    const ids = a.sinks.map((s) => s.id ?? s.type);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['sinks', i, 'id'], message: `sink id ${id} is used twice; give each sink of a type its own id` });
    });
    if (a.mode === 'required' && !a.sinks.some((s) => DURABLE_SINKS.has(s.type))) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'required needs at least one durable sink (file, store, syslog or otlp)' });
    }
  })
  .prefault({});

export type AuditConfig = z.infer<typeof auditSchema>;
