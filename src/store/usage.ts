/**
 * Usage counts from the audit store (table `audit_events`, written by the `store` audit sink):
 * requests per UTC day, tenant and operation, for the usage analytics API (src/admin/usage.ts).
 * Only `complete` request events count (in `audit.mode: required` a write also has a `pending`
 * one; admin events are no MLflow calls), and only requests that matched a route.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface UsageQuery {
  /** First day, `YYYY-MM-DD` (UTC), inclusive. */
  readonly from: string;
  /** Last day, `YYYY-MM-DD` (UTC), inclusive. */
  readonly to: string;
  /** Only this tenant. */
  readonly tenant?: string | undefined;
}

export interface UsageRow {
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  /** Null for requests without a tenant. */
  readonly tenant: string | null;
  readonly operation: string;
  /** Requests, whatever their outcome. */
  readonly calls: number;
  /** Requests answered 2xx. */
  readonly succeeded: number;
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

export async function usageByDay(db: Kysely<Database>, q: UsageQuery): Promise<UsageRow[]> {
  // `time` is ISO 8601 UTC (`2026-11-22T15:00:00.000Z`): its first ten characters are the day,
  // and string order is time order, on SQLite and PostgreSQL alike.
  const day = sql<string>`substr(time, 1, 10)`;
  let sel = db
    .selectFrom('audit_events')
    .select([
      day.as('day'),
      'tenant',
      'operation',
      (eb) => eb.fn.countAll<number>().as('calls'),
      sql<number>`sum(case when status >= 200 and status < 300 then 1 else 0 end)`.as('succeeded'),
    ])
    .where('type', '=', 'request')
    .where('phase', '=', 'complete')
    .where('operation', 'is not', null)
    .where('time', '>=', q.from)
    .where('time', '<', nextDay(q.to));
  if (q.tenant !== undefined) sel = sel.where('tenant', '=', q.tenant);
  const rows = await sel.groupBy([day, 'tenant', 'operation']).orderBy('day').execute();
  // PostgreSQL returns count/sum as strings.
  return rows.map((r) => ({ day: r.day, tenant: r.tenant ?? null, operation: r.operation!, calls: Number(r.calls), succeeded: Number(r.succeeded) }));
}
