/**
 * The audit repository over the shared schema (table `audit_events`, migrations 0003_audit,
 * 0008_audit_chains and 0009_admin_audit): appends one process's chained events to its own chain
 * (replicas sharing a store each keep one, named by `audit.replicaId`) and queries every chain by
 * time range, type, principal (the actor, for admin events), tenant, operation (the action, for
 * admin events), decision, target and door, with cursor pagination in chain order (chain by chain,
 * each by seq).
 */
import type { Kysely } from 'kysely';
import { EMPTY_HEAD, type ChainHead } from '../audit/chain.ts';
import type { Checkpoint } from '../audit/checkpoint.ts';
import type { AuditOutcome, ChainedEvent } from '../audit/event.ts';
import type { Database } from './schema.ts';

export interface AuditQuery {
  /** Inclusive lower bound on the event time (ISO 8601). */
  readonly from?: string | undefined;
  /** Exclusive upper bound on the event time (ISO 8601). */
  readonly to?: string | undefined;
  /** A principal id: the caller of a request event, the actor of an admin event (`cli:root`, `config` too). */
  readonly principal?: string | undefined;
  readonly tenant?: string | undefined;
  /** A route operation id (`runs.create`), or an admin action (`user.create`). */
  readonly operation?: string | undefined;
  readonly decision?: 'allow' | 'deny' | undefined;
  /** How the event ended (src/audit/event.ts AuditOutcome): `allowed`, `denied`, `malformed`, `failed`, `aborted`, `pending`. */
  readonly outcome?: AuditOutcome | undefined;
  /** Only request events or only admin events. */
  readonly type?: 'request' | 'admin' | undefined;
  /** Admin events about one thing (`user:alice`), or about one kind of thing (`user`). */
  readonly target?: string | undefined;
  /** Admin events that came through one door. */
  readonly door?: string | undefined;
  /** One chain only (a replica id). */
  readonly chain?: string | undefined;
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
  /** Where this repository's chain stands. */
  head(): Promise<ChainHead>;
  /** Appends to this repository's chain in one transaction: all of the events or none. */
  append(events: readonly ChainedEvent[]): Promise<void>;
  query(q?: AuditQuery): Promise<AuditPage>;
  /** Every stored event in chain order (time and chain filters only), page by page. */
  scan(q?: Pick<AuditQuery, 'from' | 'to' | 'chain'>): AsyncGenerator<ChainedEvent>;
  /** The chains in the store, in order. */
  chains(): Promise<string[]>;
  /** The retention checkpoint of a chain (src/audit/checkpoint.ts), kept in `gatehouse_meta`. */
  checkpoint(chain: string): Promise<Checkpoint | undefined>;
  /** In one transaction: stores `checkpoint` for `chain` and deletes its events up to `checkpoint.seq`; resolves with how many. */
  prune(chain: string, checkpoint: Checkpoint): Promise<number>;
  /**
   * Inserts a row and rolls the transaction back: the table takes writes now (no lock held
   * against it past the statement timeout, the server accepts writes). Nothing is stored.
   */
  probe(): Promise<void>;
}

/** The `gatehouse_meta` key of a chain's checkpoint. */
const checkpointKey = (chain: string) => `audit_checkpoint:${chain}`;

/** The chain name of `probe`'s row; never committed. */
const PROBE_CHAIN = 'gatehouse:readiness-probe';
const ROLLBACK = new Error('rollback');

/** The chain of events written before 0008_audit_chains, and of a repository given none. */
export const DEFAULT_CHAIN = 'default';

const encodeCursor = (chain: string, seq: number) => Buffer.from(`seq:${seq}:${chain}`).toString('base64url');
function decodeCursor(cursor: string): { chain: string; seq: number } {
  const m = /^seq:(\d{1,15}):([\s\S]{1,128})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new TypeError('invalid audit cursor');
  return { seq: Number(m[1]), chain: m[2]! };
}

/** The indexed columns of an event, by its type (a request event has none: `request`). */
function columnsOf(e: ChainedEvent) {
  if (e.type === 'admin') {
    return {
      type: 'admin',
      request_id: e.requestId ?? '',
      phase: 'complete',
      principal_id: e.actor.id,
      tenant: e.tenant,
      operation: e.action,
      decision: null,
      outcome: e.outcome,
      status: null,
      target: `${e.target.kind}:${e.target.id}`,
      door: e.door,
    };
  }
  return {
    type: 'request',
    request_id: e.requestId,
    phase: e.phase,
    principal_id: e.principal?.id ?? null,
    tenant: e.tenant,
    operation: e.operation,
    decision: e.decision?.effect ?? null,
    outcome: e.outcome,
    status: e.status,
    target: null,
    door: null,
  };
}

export function auditRepository(db: Kysely<Database>, options: { readonly chain?: string } = {}): AuditRepository {
  const chain = options.chain ?? DEFAULT_CHAIN;
  async function query(q: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    let sel = db.selectFrom('audit_events').select(['chain', 'seq', 'event']);
    if (q.from !== undefined) sel = sel.where('time', '>=', q.from);
    if (q.to !== undefined) sel = sel.where('time', '<', q.to);
    if (q.principal !== undefined) sel = sel.where('principal_id', '=', q.principal);
    if (q.tenant !== undefined) sel = sel.where('tenant', '=', q.tenant);
    if (q.operation !== undefined) sel = sel.where('operation', '=', q.operation);
    if (q.decision !== undefined) sel = sel.where('decision', '=', q.decision);
    if (q.outcome !== undefined) sel = sel.where('outcome', '=', q.outcome);
    if (q.type !== undefined) sel = sel.where('type', '=', q.type);
    if (q.door !== undefined) sel = sel.where('door', '=', q.door);
    if (q.target !== undefined) {
      // A kind alone (no `:`) matches every target of that kind; kinds are plain words, so the prefix has no wildcard.
      const t = q.target;
      sel = t.includes(':') ? sel.where('target', '=', t) : /^[a-z_]+$/.test(t) ? sel.where('target', 'like', `${t}:%`) : sel.where('target', '=', t);
    }
    if (q.chain !== undefined) sel = sel.where('chain', '=', q.chain);
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor);
      sel = sel.where((eb) => eb.or([eb('chain', '>', c.chain), eb.and([eb('chain', '=', c.chain), eb('seq', '>', c.seq)])]));
    }
    const rows = await sel.orderBy('chain').orderBy('seq').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map((r) => JSON.parse(r.event) as ChainedEvent),
      nextCursor: rows.length > limit && last ? encodeCursor(last.chain, Number(last.seq)) : null,
    };
  }
  async function checkpoint(of: string): Promise<Checkpoint | undefined> {
    const row = await db.selectFrom('gatehouse_meta').select('value').where('key', '=', checkpointKey(of)).executeTakeFirst();
    return row ? (JSON.parse(row.value) as Checkpoint) : undefined;
  }
  return {
    async head() {
      const row = await db.selectFrom('audit_events').select(['seq', 'hash']).where('chain', '=', chain).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      if (row) return { seq: Number(row.seq), hash: row.hash };
      // Every event pruned: the chain continues from its checkpoint.
      const cp = await checkpoint(chain);
      return cp ? { seq: cp.seq, hash: cp.hash } : EMPTY_HEAD;
    },
    checkpoint,
    async prune(of, cp) {
      return db.transaction().execute(async (trx) => {
        const value = JSON.stringify(cp);
        const key = checkpointKey(of);
        const updated = await trx.updateTable('gatehouse_meta').set({ value }).where('key', '=', key).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) await trx.insertInto('gatehouse_meta').values({ key, value }).execute();
        const deleted = await trx.deleteFrom('audit_events').where('chain', '=', of).where('seq', '<=', cp.seq).executeTakeFirst();
        return Number(deleted.numDeletedRows);
      });
    },
    async append(events) {
      if (events.length === 0) return;
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('audit_events')
          .values(
            events.map((e) => ({
              chain,
              seq: e.seq,
              time: e.time,
              event: JSON.stringify(e),
              hash: e.hash,
              ...columnsOf(e),
            })),
          )
          .execute();
      });
    },
    query,
    async probe() {
      const row = { chain: PROBE_CHAIN, seq: 0, time: new Date(0).toISOString(), request_id: 'probe', phase: 'probe', outcome: 'probe', event: '{}', hash: '' };
      await db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('audit_events').values(row).execute();
          throw ROLLBACK;
        })
        .catch((err: unknown) => {
          if (err !== ROLLBACK) throw err;
        });
    },
    async chains() {
      const rows = await db.selectFrom('audit_events').select('chain').distinct().orderBy('chain').execute();
      return rows.map((r) => r.chain);
    },
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
