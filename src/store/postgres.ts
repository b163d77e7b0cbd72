/**
 * The production store's driver: PostgreSQL through `pg` (pure JavaScript, no native addon)
 * behind kysely's PostgresDialect, so every repository runs the same queries as on SQLite.
 *
 * Two differences from SQLite are absorbed here rather than in every repository:
 * - `bigint` (int8) columns and `count(*)` arrive from pg as strings; this pool parses them as
 *   numbers (the schema keeps only values below 2^53: epoch milliseconds, audit positions, counts).
 * - a connection that PostgreSQL closes (restart, failover, `pg_terminate_backend`) emits `error`.
 *   pg-pool listens for a client's errors only while the client is idle in the pool, so an error
 *   of a client checked out by a query or transaction would end the process ("Unhandled 'error'
 *   event"). Every client of our pools listens for its whole life instead, and marks what it
 *   emits as the store's (src/lib/dependency-errors.ts). The error is logged; the query on it
 *   fails (the caller answers 503) and the next one opens a new connection.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Pool, PoolConfig } from 'pg';
import { PostgresDialect } from 'kysely';
import { markDependencyError } from '../lib/dependency-errors.ts';

/** `pg`, loaded on first use: a SQLite deployment does not load it at start (cold start, docs/performance.md). */
const pg = (): typeof import('pg') => createRequire(import.meta.url)('pg') as typeof import('pg');

/** The `store` options PostgreSQL reads (src/config/schema.ts, `storeSchema`). */
export interface PostgresOptions {
  readonly url?: string | undefined;
  readonly urlFile?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly database?: string | undefined;
  readonly user?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly ssl?: { readonly mode: 'disable' | 'require' | 'verify-full'; readonly caFile?: string | undefined } | undefined;
  readonly pool?: { readonly max: number; readonly idleTimeoutMs: number; readonly connectionTimeoutMs: number } | undefined;
  /** Server-side `statement_timeout` and client-side query timeout; 0 disables both. */
  readonly statementTimeoutMs?: number | undefined;
}

const INT8_OID = 20;

function int8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError('bigint value beyond 2^53 in the store');
  return n;
}

const readSecret = (file: string) => readFileSync(file, 'utf8').replace(/\r?\n$/, '');

/** pg pool settings from the options; the password and URL are read from their files here, never logged. */
export function poolConfig(o: PostgresOptions, purpose: 'queries' | 'migrations' = 'queries'): PoolConfig {
  const types = new (pg().TypeOverrides)();
  types.setTypeParser(INT8_OID, int8);
  const url = o.url ?? (o.urlFile !== undefined ? readSecret(o.urlFile) : undefined);
  const ssl =
    o.ssl === undefined || o.ssl.mode === 'disable'
      ? undefined
      : o.ssl.mode === 'require'
        ? { rejectUnauthorized: false }
        : { rejectUnauthorized: true, ...(o.ssl.caFile !== undefined && { ca: readFileSync(o.ssl.caFile, 'utf8') }) };
  const timeout = o.statementTimeoutMs ?? 0;
  return {
    ...(url !== undefined && { connectionString: url }),
    ...(o.host !== undefined && { host: o.host }),
    ...(o.port !== undefined && { port: o.port }),
    ...(o.database !== undefined && { database: o.database }),
    ...(o.user !== undefined && { user: o.user }),
    ...(o.passwordFile !== undefined && { password: readSecret(o.passwordFile) }),
    ...(ssl !== undefined && { ssl }),
    types,
    application_name: purpose === 'migrations' ? 'gatehouse-migrate' : 'gatehouse',
    // Migrations (index builds on a large audit table) may take longer than any request should.
    max: purpose === 'migrations' ? 1 : (o.pool?.max ?? 10),
    idleTimeoutMillis: o.pool?.idleTimeoutMs ?? 30_000,
    connectionTimeoutMillis: o.pool?.connectionTimeoutMs ?? 5_000,
    ...(purpose === 'queries' && timeout > 0 && { statement_timeout: timeout, query_timeout: timeout + 1_000 }),
  };
}

export interface PostgresConnection {
  readonly dialect: PostgresDialect;
  readonly pool: Pool;
}

export function openPostgres(o: PostgresOptions, onConnectionError: (err: Error) => void, purpose: 'queries' | 'migrations' = 'queries'): PostgresConnection {
  const { Pool, Client } = pg();
  class StoreClient extends Client {
    constructor(config?: ConstructorParameters<typeof Client>[0]) {
      super(config);
      this.on('error', onConnectionError);
    }

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error') markDependencyError(args[0], 'store');
      return super.emit(event, ...args);
    }
  }
  const pool = new Pool({ ...poolConfig(o, purpose), Client: StoreClient });
  // An idle client's error reaches the pool too (pg-pool re-emits it); its own listener has logged it.
  pool.on('error', () => undefined);
  return { pool, dialect: new PostgresDialect({ pool }) };
}

/**
 * The key of the session-level advisory lock every Gatehouse process takes around its migrations
 * (`pg_advisory_lock(bigint)`: the ASCII of "Gatehous"; `pg_locks` shows it as classid 1197569125,
 * objid 1752135027). Fixed forever: replicas of different versions must contend for the same lock.
 */
export const MIGRATION_LOCK_KEY = 0x47617465_686f7573n;
