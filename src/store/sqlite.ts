/**
 * The embedded store's driver: Node's built-in `node:sqlite` behind kysely's SqliteDialect.
 * No native addon to build (npm 11 skips install scripts; better-sqlite3 would need a source
 * build), one file under the data directory. kysely's dialect expects a better-sqlite3-like
 * object; this adapter is that object.
 */
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export function openSqlite(file: string): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  // synchronous FULL: every commit syncs the WAL before it returns. The store audit sink acknowledges
  // events as durable (audit.mode required); with NORMAL the last commits may be lost on power loss.
  // The cost (bench/sqlite-sync.ts, docs/performance.md) is paid per commit, and commits are few.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;');
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      const stmt = db.prepare(sql);
      const params = (p: ReadonlyArray<unknown>) => p as SQLInputValue[];
      return {
        reader: stmt.columns().length > 0,
        all: (p) => stmt.all(...params(p)),
        run: (p) => stmt.run(...params(p)),
        iterate: (p) => stmt.iterate(...params(p)),
      };
    },
  };
}
