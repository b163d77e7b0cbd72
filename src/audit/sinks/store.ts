/**
 * Audit sink: the gateway's store (table `audit_events`), queryable and exportable with
 * `gatehouse audit export`. A batch is one committed transaction, so the store sink can be
 * required. The repository writes this process's own chain (`audit.replicaId`): replicas
 * sharing PostgreSQL never interleave one chain, and `audit verify --store` checks each.
 */
import { z } from 'zod';
import type { AuditRepository } from '../../store/audit.ts';
import type { AuditSink } from '../sink.ts';

export const storeSinkSchema = z
  .strictObject({
    type: z.literal('store'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics (default `store`).'),
    retention: z
      .strictObject({
        maxAgeMs: z.number().int().min(1).optional().describe('Prune events older than this (milliseconds).'),
        maxEvents: z.number().int().min(1).optional().describe('Keep at most this many events per chain (the oldest go).'),
      })
      .optional()
      .describe('Retention policy, applied by `gatehouse audit prune --store` (docs/operations.md "Retention"): the oldest events of each chain go, a signed checkpoint keeps the rest verifiable. None: events are kept.'),
  })
  .describe('The gateway store (table `audit_events`); queryable, durable, so it can be required.');

export type StoreSinkConfig = z.infer<typeof storeSinkSchema>;

export function storeSink(config: StoreSinkConfig, repo: AuditRepository): AuditSink {
  return {
    id: config.id ?? 'store',
    type: 'store',
    durable: true,
    batch: { size: 200, intervalMs: 0 },
    open: () => repo.head(),
    retryOpen: true,
    write: (events) => repo.append(events),
    probe: () => repo.probe(),
    async close() {},
  };
}
