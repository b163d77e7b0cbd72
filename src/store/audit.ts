/**
 * The audit repository over the shared schema (table `audit_events`, migration 0003_audit):
 * appends one sink's chained events and queries them by time range, principal, tenant,
 * operation and decision, with cursor pagination in chain order.
 */
import type { Kysely } from 'kysely';
import { EMPTY_HEAD, type ChainHead } from '../audit/chain.ts';
import type { ChainedEvent } from '../audit/event.ts';
import type { Database } from './schema.ts';

export interface AuditQuery {
  /** Inclusive lower bound on the event time (ISO 8601). */
  readonly from?: string | undefined;
  /** Exclusive upper bound on the event time (ISO 8601). */
  readonly to?: string | undefined;
  readonly principal?: string | undefined;
  readonly tenant?: string | undefined;
  readonly operation?: string | undefined;
  readonly decision?: 'allow' | 'deny' | undefined;
  /** From a previous page's `nextCursor`. */
  readonly cursor?: string | undefined;
  /** Page size, 1–1000 (default 100). */
  readonly limit?: number | undefined;
}

export interface AuditPage {
  readonly events: ChainedEvent[];
  /** Pass to the next query for the following page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface AuditRepository {
  head(): Promise<ChainHead>;
  /** Appends in one transaction: all of the events or none. */
  append(events: readonly ChainedEvent[]): Promise<void>;
  query(q?: AuditQuery): Promise<AuditPage>;
  /** Every stored event in chain order (time filters only), page by page. */
  scan(q?: Pick<AuditQuery, 'from' | 'to'>): AsyncGenerator<ChainedEvent>;
}

const encodeCursor = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');
function decodeCursor(cursor: string): number {
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new TypeError('invalid audit cursor');
  return Number(m[1]);
}

export function auditRepository(db: Kysely<Database>): AuditRepository {
  async function query(q: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    let sel = db.selectFrom('audit_events').select(['seq', 'event']);
    if (q.from !== undefined) sel = sel.where('time', '>=', q.from);
    if (q.to !== undefined) sel = sel.where('time', '<', q.to);
    if (q.principal !== undefined) sel = sel.where('principal_id', '=', q.principal);
    if (q.tenant !== undefined) sel = sel.where('tenant', '=', q.tenant);
    if (q.operation !== undefined) sel = sel.where('operation', '=', q.operation);
    if (q.decision !== undefined) sel = sel.where('decision', '=', q.decision);
    if (q.cursor !== undefined) sel = sel.where('seq', '>', decodeCursor(q.cursor));
    const rows = await sel.orderBy('seq').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    return {
      events: page.map((r) => JSON.parse(r.event) as ChainedEvent),
      nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null,
    };
  }
  return {
    async head() {
      const row = await db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return row ? { seq: Number(row.seq), hash: row.hash } : EMPTY_HEAD;
    },
    async append(events) {
      if (events.length === 0) return;
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('audit_events')
          .values(
            events.map((e) => ({
              seq: e.seq,
              time: e.time,
              request_id: e.requestId,
              phase: e.phase,
              principal_id: e.principal?.id ?? null,
              tenant: e.tenant,
              operation: e.operation,
              decision: e.decision?.effect ?? null,
              outcome: e.outcome,
              status: e.status,
              event: JSON.stringify(e),
              hash: e.hash,
            })),
          )
          .execute();
      });
    },
    query,
    async *scan(q = {}) {
      let cursor: string | undefined;
      for (;;) {
        const page = await query({ ...q, cursor, limit: 1000 });
        yield* page.events;
        if (page.nextCursor === null) return;
        cursor = page.nextCursor;
      }
    },
  };
}
