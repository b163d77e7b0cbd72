/**
 * How the CLI's admin events reach the audit chains. The CLI is a short-lived process without the
 * gateway's auditor (its queues, its file sink's chain head), and two writers of one chain would
 * break it; so the CLI writes each admin event to the store's `audit_journal`, and every running
 * gateway moves journal rows into its own auditor — every sink, every chain it keeps — within
 * `intervalMs`, or at once when the CLI's change message arrives over Redis. A row is deleted once
 * the gateway's durable sinks hold it. A gateway claims rows before it records them, so replicas
 * sharing the store do not both record one; a claim older than CLAIM_TIMEOUT_MS (a replica that
 * died half-way) is taken over: each event is recorded at least once, never lost.
 *
 * The event keeps the time the CLI made the change; its place in a chain is when a gateway took it.
 * With no gateway running the rows wait (`gatehouse audit verify` says how many).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from '../lib/logger.ts';
import type { Database } from '../store/schema.ts';
import type { AdminAuditEvent } from './admin-event.ts';

export const CLAIM_TIMEOUT_MS = 60_000;
const BATCH = 200;

/** Journal ids sort like the journal: creation time (ms, zero-padded), then a random tiebreak. */
const journalId = (at: number) => `${String(at).padStart(15, '0')}-${randomUUID()}`;

/** Writes one admin event to the journal (the CLI's audit). */
export async function writeJournal(db: Kysely<Database>, event: AdminAuditEvent): Promise<void> {
  const at = Date.parse(event.time);
  await db.insertInto('audit_journal').values({ id: journalId(at), created_at: at, event: JSON.stringify(event), claimed_by: null, claimed_at: null }).execute();
}

/** Admin events still waiting in the journal. */
export async function journalBacklog(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('audit_journal').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface JournalDrain {
  /** Moves what the journal holds now into the auditor; resolves with the number of events moved. */
  drain(): Promise<number>;
  /** Stops polling and waits for a drain in progress. */
  close(): Promise<void>;
}

export function startJournalDrain(
  db: Kysely<Database>,
  record: (event: AdminAuditEvent) => Promise<void>,
  options: { readonly log: Logger; readonly intervalMs: number; readonly now?: () => number },
): JournalDrain {
  const now = options.now ?? Date.now;
  let running: Promise<number> | undefined;
  let again = false;

  async function once(): Promise<number> {
    // The common case, every interval: nothing waits, and nothing is written.
    if (!(await db.selectFrom('audit_journal').select('id').limit(1).executeTakeFirst())) return 0;
    const claim = randomUUID();
    const t = now();
    const open = db
      .selectFrom('audit_journal')
      .select('id')
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_at', '<', t - CLAIM_TIMEOUT_MS)]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(BATCH);
    await db
      .updateTable('audit_journal')
      .set({ claimed_by: claim, claimed_at: t })
      .where('id', 'in', open)
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claimed_at', '<', t - CLAIM_TIMEOUT_MS)]))
      .execute();
    const rows = await db.selectFrom('audit_journal').select(['id', 'event']).where('claimed_by', '=', claim).orderBy('created_at').orderBy('id').execute();
    if (rows.length === 0) return 0;
    // Pushed in order (each queue keeps it); resolved once the durable sinks hold them.
    await Promise.all(rows.map((r) => record(JSON.parse(r.event) as AdminAuditEvent)));
    await db.deleteFrom('audit_journal').where('claimed_by', '=', claim).execute();
    return rows.length;
  }

  async function all(): Promise<number> {
    let moved = 0;
    for (;;) {
      const n = await once();
      moved += n;
      if (n < BATCH && !again) return moved;
      again = false;
    }
  }

  function drain(): Promise<number> {
    if (running) {
      // A drain is in progress: it goes round once more before it ends.
      again = true;
      return running;
    }
    running = all().finally(() => (running = undefined));
    return running;
  }

  const timer = setInterval(() => {
    drain().catch((err: Error) => options.log.warn({ err: err.message }, 'could not move CLI admin events from the audit journal; retrying'));
  }, options.intervalMs);
  timer.unref();
  void drain().catch((err: Error) => options.log.warn({ err: err.message }, 'could not move CLI admin events from the audit journal; retrying'));

  return {
    drain,
    async close() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
