/**
 * The store port: what the rest of Gatehouse may ask of persistent state. Implementations
 * share one schema and one migration set (kysely), so the same code runs on SQLite and,
 * later, PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { Kysely, SqliteDialect } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.ts';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite.ts';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string | null;
  readonly admin: boolean;
  readonly disabled: boolean;
}

export interface Store {
  /**
   * The query builder over the shared schema. Feature repositories (`src/store/<feature>.ts`)
   * take it so every back end runs the same queries.
   */
  readonly db: Kysely<Database>;
  findUserByName(username: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  createUser(input: { username: string; passwordHash: string | null; admin: boolean }): Promise<User>;
  setPassword(username: string, passwordHash: string): Promise<boolean>;
  countAdmins(): Promise<number>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly driver: 'sqlite';
  readonly path?: string | undefined;
  readonly dataDir: string;
  readonly now?: () => Date;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const file = options.path ?? join(options.dataDir, 'gatehouse.db');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(file) }) });
  await migrate(db);
  return kyselyStore(db, options.now ?? (() => new Date()));
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${(error as Error).message}`);
  }
}

type UserRow = Database['users'];
const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  admin: r.is_admin === 1,
  disabled: r.disabled === 1,
});

function kyselyStore(db: Kysely<Database>, now: () => Date): Store {
  return {
    db,
    async findUserByName(username) {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && toUser(row);
    },
    async listUsers() {
      return (await db.selectFrom('users').selectAll().orderBy('username').execute()).map(toUser);
    },
    async createUser({ username, passwordHash, admin }) {
      const ts = now().toISOString();
      const row: UserRow = {
        id: randomUUID(),
        username,
        password_hash: passwordHash,
        is_admin: admin ? 1 : 0,
        disabled: 0,
        created_at: ts,
        updated_at: ts,
      };
      await db.insertInto('users').values(row).execute();
      return toUser(row);
    },
    async setPassword(username, passwordHash) {
      const r = await db
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: now().toISOString() })
        .where('username', '=', username)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async countAdmins() {
      const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_admin', '=', 1).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async ping() {
      await db.selectFrom('gatehouse_meta').select('key').limit(1).execute();
    },
    async close() {
      await db.destroy();
    },
  };
}
