/** One migration set for every store back end, written with kysely's schema builder. */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const MIGRATIONS: Record<string, Migration> = {
  '0001_users': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gatehouse_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into gatehouse_meta (key, value) values ('schema', 'gatehouse')`.execute(db);
    },
  },
  '0003_audit': {
    async up(db: Kysely<unknown>) {
      // The audit sink's hash chain: seq is the chain position, event the exact JSON that was hashed.
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text')
        .addColumn('tenant', 'text')
        .addColumn('operation', 'text')
        .addColumn('decision', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      for (const column of ['time', 'principal_id', 'tenant', 'operation', 'request_id']) {
        await db.schema.createIndex(`audit_events_${column}`).on('audit_events').column(column).execute();
      }
    },
  },
};
