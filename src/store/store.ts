/**
 * The store port: what the rest of Gatehouse may ask of persistent state. Implementations
 * share one schema and one migration set (kysely), so the same code runs on SQLite and
 * PostgreSQL (src/store/postgres.ts).
 */
import { randomUUID } from 'node:crypto';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import { join } from 'node:path';
import { MIGRATIONS, isPostgres } from './migrations.ts';
import { MIGRATION_LOCK_KEY, openPostgres, type PostgresOptions } from './postgres.ts';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite.ts';
import { gated, READY, schemaGate, type SchemaGate } from './schema-gate.ts';
export { StoreNotReadyError } from './schema-gate.ts';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string | null;
  readonly admin: boolean;
  readonly disabled: boolean;
  /** Epoch ms after which the password stops working (a break-glass password, `gatehouse admin restore`); null: never. */
  readonly passwordExpiresAt: number | null;
  /** `scim`: provisioned by SCIM; its managed fields change only through the SCIM door (src/services/scim.ts). */
  readonly managedBy: 'scim' | null;
}

export interface Store {
  /**
   * The query builder over the shared schema. Feature repositories (`src/store/<feature>.ts`)
   * take it so every back end runs the same queries.
   */
  readonly db: Kysely<Database>;
  findUserByName(username: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  createUser(input: { username: string; passwordHash: string | null; admin: boolean; managedBy?: 'scim' }): Promise<User>;
  /** Sets the password, with an expiry for a break-glass one (default none, which also clears an old expiry). */
  setPassword(username: string, passwordHash: string, expiresAt?: number | null): Promise<boolean>;
  /** Grants or removes platform administration; false when there is no such user. */
  setAdmin(username: string, admin: boolean): Promise<boolean>;
  /** Disables (or re-enables) a local user: a disabled user's password and tokens stop working; false when there is no such user. */
  setDisabled(username: string, disabled: boolean): Promise<boolean>;
  /** Deletes a local user (its API tokens go with it); false when there is no such user. */
  deleteUser(username: string): Promise<boolean>;
  /**
   * A number that every change to a local user (password, admin or disabled flag, deletion)
   * increases, in the same transaction as the change: every replica polls it to drop what it
   * remembers of changed users (src/identity/local-basic.ts).
   */
  usersVersion(): Promise<number>;
  countAdmins(): Promise<number>;
  /**
   * Runs `fn` in one transaction: the store it is given (and its `db`) reads and writes inside it;
   * it commits when `fn` resolves and rolls back when it throws. Not nestable.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Cheap round trip for readiness checks; rejects with the reason while the store is not ready yet. */
  ping(): Promise<void>;
  /**
   * Resolves once the store is usable: its schema checked (or migrated). At once for SQLite and
   * for a PostgreSQL reachable at start; later for one opened with `startWhileDown`.
   */
  whenReady(): Promise<void>;
  close(): Promise<void>;
}

/** The `store` configuration section (src/config/schema.ts) plus where the data directory is. */
export interface StoreOptions extends PostgresOptions {
  readonly driver: 'sqlite' | 'postgres';
  readonly path?: string | undefined;
  readonly dataDir: string;
  /** `on-start` (default): migrate before serving. `never`: refuse to open a store whose schema is behind. */
  readonly migrate?: 'on-start' | 'never' | undefined;
  readonly now?: () => Date;
  /** Errors of PostgreSQL connections (the server went away), idle or in use; default: ignored, the query on it fails. */
  readonly onConnectionError?: (err: Error) => void;
  /**
   * PostgreSQL only (the gateway sets it; the CLI does not): when the schema cannot be checked or
   * migrated now (the server is down), open anyway. The store is then not ready — every query
   * fails at once and `ping` says why — and keeps trying in the background (`onNotReady` hears
   * each failed attempt), migrating as `migrate` says once the server answers. A schema this
   * Gatehouse cannot use (newer, or pending with `migrate: never`) still fails the open.
   */
  readonly startWhileDown?: boolean;
  readonly onNotReady?: (err: Error) => void;
}

/** The store's schema does not match this Gatehouse (pending migrations with `migrate: never`, or a newer schema). */
export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError';
}

function openDb(options: StoreOptions, purpose: 'queries' | 'migrations'): Kysely<Database> {
  if (options.driver === 'postgres') {
    return new Kysely<Database>({ dialect: openPostgres(options, options.onConnectionError ?? (() => {}), purpose).dialect });
  }
  const file = options.path ?? join(options.dataDir, 'gatehouse.db');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(file) }) });
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const now = options.now ?? (() => new Date());
  if (options.driver !== 'postgres') {
    const db = openDb(options, 'queries');
    try {
      await prepareSchema(db, options);
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return kyselyStore(db, now, READY);
  }
  // PostgreSQL checks or migrates its schema over its own connection, without the request statement timeout.
  const prepare = async () => {
    const conn = openDb(options, 'migrations');
    try {
      await prepareSchema(conn, options);
    } finally {
      await conn.destroy();
    }
  };
  const gate = schemaGate();
  const db = new Kysely<Database>({ dialect: gated(openPostgres(options, options.onConnectionError ?? (() => {})).dialect, gate.check) });
  try {
    await prepare();
    gate.open();
  } catch (err) {
    if (err instanceof StoreSchemaError || !options.startWhileDown) {
      await db.destroy();
      throw err;
    }
    gate.retry(prepare, err as Error, options.onNotReady);
  }
  return kyselyStore(db, now, gate);
}

/** Migrates (`migrate: on-start`) or checks that nothing is pending (`never`). */
async function prepareSchema(db: Kysely<Database>, options: StoreOptions): Promise<void> {
  if ((options.migrate ?? 'on-start') === 'on-start') {
    await migrate(db);
    return;
  }
  const { pending, unknown } = await schemaStatus(db);
  if (unknown.length > 0) throw newerSchema(unknown);
  if (pending.length > 0) {
    throw new StoreSchemaError(
      `the store schema is behind this Gatehouse: ${pending.length} migration(s) pending (${pending.join(', ')}) and store.migrate is never; run \`gatehouse migrate\` with this configuration first`,
    );
  }
}

/** Applies pending migrations (`gatehouse migrate`, and `openStore` with `migrate: on-start`); returns their names. */
export async function migrateStore(options: StoreOptions): Promise<string[]> {
  const db = openDb(options, 'migrations');
  try {
    return await migrate(db);
  } finally {
    await db.destroy();
  }
}

const newerSchema = (unknown: readonly string[]) =>
  new StoreSchemaError(`the store schema is newer than this Gatehouse (migrations it does not know: ${unknown.join(', ')}); run the newer Gatehouse version`);

const migrator = (db: Kysely<Database>) => new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } satisfies MigrationProvider });

/** Migrations this Gatehouse knows but the store lacks, and migrations the store has that this Gatehouse does not know. */
export async function schemaStatus(db: Kysely<Database>): Promise<{ pending: string[]; unknown: string[] }> {
  const known = await migrator(db).getMigrations();
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const executed = tables.some((t) => t.name === 'kysely_migration')
    ? (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((r) => r.name)
    : [];
  return {
    pending: known.filter((m) => m.executedAt === undefined).map((m) => m.name),
    unknown: executed.filter((name) => !(name in MIGRATIONS)),
  };
}

/**
 * Runs the pending migrations. On PostgreSQL several replicas may start at once: each takes
 * Gatehouse's session-level advisory lock first, on the one connection the migrations then run
 * on, so exactly one process migrates and the others find nothing pending once they get the lock.
 * (kysely's Migrator takes its own advisory lock too, but only after creating its bookkeeping
 * tables outside it, relying on catching the errors of concurrent `create table if not exists`;
 * our lock covers that step as well.) The lock ends with the session, so a process that dies
 * while migrating cannot leave it held.
 */
async function migrate(db: Kysely<Database>): Promise<string[]> {
  const run = async (conn: Kysely<Database>) => {
    const { unknown } = await schemaStatus(conn);
    if (unknown.length > 0) throw newerSchema(unknown);
    const { error, results } = await migrator(conn).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`store migration ${failed} failed: ${(error as Error).message}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (!isPostgres(db)) return run(db);
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(conn);
    try {
      return await run(conn);
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(conn).catch(() => {});
    }
  });
}

type UserRow = Database['users'];
const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  admin: r.is_admin === 1,
  disabled: r.disabled === 1,
  passwordExpiresAt: r.password_expires_at === null || r.password_expires_at === undefined ? null : Number(r.password_expires_at),
  managedBy: r.managed_by === 'scim' ? 'scim' : null,
});

function kyselyStore(db: Kysely<Database>, now: () => Date, gate: SchemaGate): Store {
  /**
   * Runs a change to a user row and bumps `users_version` with it, when a row changed: in the
   * caller's transaction when this store is one (a service's, `transaction` below), else in its own.
   */
  async function changeUser(run: (tx: Kysely<Database>) => Promise<{ numUpdatedRows?: bigint; numDeletedRows?: bigint }>): Promise<boolean> {
    const inside = async (tx: Kysely<Database>) => {
      const r = await run(tx);
      const changed = Number(r.numUpdatedRows ?? r.numDeletedRows ?? 0) > 0;
      if (changed) await sql`update gatehouse_meta set value = cast(cast(value as integer) + 1 as text) where key = 'users_version'`.execute(tx);
      return changed;
    };
    return db.isTransaction ? inside(db) : db.transaction().execute(inside);
  }
  return {
    db,
    whenReady: () => gate.whenReady(),
    async findUserByName(username) {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && toUser(row);
    },
    async listUsers() {
      return (await db.selectFrom('users').selectAll().orderBy('username').execute()).map(toUser);
    },
    async createUser({ username, passwordHash, admin, managedBy }) {
      const ts = now().toISOString();
      const row: UserRow = {
        id: randomUUID(),
        username,
        password_hash: passwordHash,
        is_admin: admin ? 1 : 0,
        disabled: 0,
        created_at: ts,
        updated_at: ts,
        password_expires_at: null,
        managed_by: managedBy ?? null,
      };
      await db.insertInto('users').values(row).execute();
      return toUser(row);
    },
    async setPassword(username, passwordHash, expiresAt = null) {
      return changeUser((tx) =>
        tx.updateTable('users').set({ password_hash: passwordHash, password_expires_at: expiresAt, updated_at: now().toISOString() }).where('username', '=', username).executeTakeFirst(),
      );
    },
    async setAdmin(username, admin) {
      return changeUser((tx) => tx.updateTable('users').set({ is_admin: admin ? 1 : 0, updated_at: now().toISOString() }).where('username', '=', username).executeTakeFirst());
    },
    async setDisabled(username, disabled) {
      return changeUser((tx) => tx.updateTable('users').set({ disabled: disabled ? 1 : 0, updated_at: now().toISOString() }).where('username', '=', username).executeTakeFirst());
    },
    async deleteUser(username) {
      return changeUser((tx) => tx.deleteFrom('users').where('username', '=', username).executeTakeFirst());
    },
    async usersVersion() {
      const row = await db.selectFrom('gatehouse_meta').select('value').where('key', '=', 'users_version').executeTakeFirst();
      return Number(row?.value ?? 0);
    },
    async countAdmins() {
      const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_admin', '=', 1).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    transaction: (fn) => db.transaction().execute((tx) => fn(kyselyStore(tx, now, gate))),
    async ping() {
      await db.selectFrom('gatehouse_meta').select('key').limit(1).execute();
    },
    async close() {
      gate.close();
      await db.destroy();
    },
  };
}
