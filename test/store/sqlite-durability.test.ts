/**
 * The embedded store's durability (issue 18): SQLite in WAL mode with `synchronous = NORMAL`
 * may lose the last commits on power loss (the WAL is not synced at commit), which the store
 * audit sink acknowledges as durable in `audit.mode: required`. The store runs
 * `synchronous = FULL`: every commit is synced before it returns. Read back from the store's
 * own connection, so a change to the pragmas fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../../src/store/store.ts';

test('the SQLite store syncs every commit (synchronous FULL, WAL journal)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-sqlite-sync-'));
  const store = await openStore({ driver: 'sqlite', dataDir: dir });
  try {
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    assert.equal(sync.rows.length, 1);
    assert.equal(sync.rows[0]!.synchronous, 2, '2 is FULL (0 OFF, 1 NORMAL, 3 EXTRA)');
    const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    assert.equal(journal.rows[0]?.journal_mode, 'wal');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
