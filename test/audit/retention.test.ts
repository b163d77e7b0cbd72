/**
 * Retention (src/audit/retention.ts, `gatehouse audit prune`): pruning rotated files of the file
 * sink and events of the store sink, by size and by age, keeps `gatehouse audit verify` green
 * across the signed checkpoint it leaves; the pruned events are exported first by the same
 * command; a checkpoint changed, re-signed with another key or removed is detected; a prune
 * refuses to launder a broken chain; the sink continues its chain after a prune.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { verifyChain } from '../../src/audit/chain.ts';
import { checkpointPath, loadCheckpointKey, signCheckpoint, type Checkpoint } from '../../src/audit/checkpoint.ts';
import type { AuditEvent, ChainedEvent } from '../../src/audit/event.ts';
import { openSinkQueue } from '../../src/audit/queue.ts';
import { pruneFile, pruneStore } from '../../src/audit/retention.ts';
import { fileSink, fileSinkSchema } from '../../src/audit/sinks/file.ts';
import { storeSink } from '../../src/audit/sinks/store.ts';
import { verifyFile, verifyStore } from '../../src/audit/verify.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { openStore } from '../../src/store/store.ts';
import { ROOT } from '../harness/paths.ts';
import { requestEvent } from './fixture-events.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';

const run = promisify(execFile);
const GATEHOUSE = join(ROOT, 'bin/gatehouse');
/** The fixture's calendar: event `i` happened `i` minutes after this. */
const EPOCH = Date.UTC(2026, 10, 22, 12, 0, 0);
const at = (i: number) => EPOCH + i * 60_000;

const event = (i: number): AuditEvent => requestEvent(i, at(i));

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'gh-retention-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI with a data directory of its own (where the checkpoint key is generated) and no config file. */
function cli(args: string[], dataDir: string, extra: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, ...extra };
  delete env.GATEHOUSE_CONFIG;
  return run(GATEHOUSE, args, { env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Writes events from..to through the real file sink (4 KiB files: it rotates; its clock is the fixture's). */
async function writeFileChain(path: string, from: number, to: number): Promise<void> {
  const config = fileSinkSchema.parse({ type: 'file', path, maxBytes: 4096, fsync: false });
  const q = await openSinkQueue(fileSink(config, { dataDir: dir, now: () => at(to) }), { maxQueue: 1000, onLoss: () => assert.fail('no loss') });
  for (let i = from; i <= to; i++) await q.push(event(i));
  await q.close(1000);
}

const jsonLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChainedEvent);

describe('file sink', () => {
  let base: string;
  before(async () => {
    base = join(dir, 'file-clean');
    await writeFileChain(join(base, 'audit.jsonl'), 1, 60);
  });
  const copy = (name: string) => {
    cpSync(base, join(dir, name), { recursive: true });
    return { active: join(dir, name, 'audit.jsonl'), data: join(dir, `${name}-data`) };
  };

  test('prune by size with --export-to: verify stays green across the checkpoint; export + rest = the whole chain', async () => {
    const { active, data } = copy('by-size');
    const before = readdirSync(join(active, '..')).filter((f) => /\.\d{12}\.jsonl$/.test(f)).length;
    const exported = join(dir, 'by-size-export.jsonl');
    // As docs/operations.md tells an operator: the configured file sink, its retention policy, export first.
    const config = { GATEHOUSE_AUDIT__SINKS: JSON.stringify([{ type: 'file', path: active, retention: { maxBytes: 8192 } }]) };
    const pruned = await cli(['audit', 'prune', '--export-to', exported], data, config);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /pruned \d+ events of file:audit\.jsonl \(\d+ files\); checkpoint seq \d+/);
    const after = readdirSync(join(active, '..')).filter((f) => /\.\d{12}\.jsonl$/.test(f)).length;
    assert.ok(after < before && after >= 1, `${before} rotated files, ${after} after`);
    assert.ok(existsSync(checkpointPath(active)));
    assert.ok(existsSync(join(data, 'audit', 'checkpoint-key.pem')), 'a key was generated into the data directory');

    const verify = await cli(['audit', 'verify', '--public-key', join(data, 'audit', 'checkpoint-key.pem.pub')], data, config);
    assert.equal(verify.code, 0, verify.stdout);
    assert.match(verify.stdout, /continues from checkpoint file:audit\.jsonl seq \d+/);
    assert.match(verify.stdout, /chain intact/);

    // The export is the pruned prefix, verifying from the chain's start; the rest continues it.
    const head = jsonLines(exported);
    assert.deepEqual(verifyChain(head.map((event, i) => ({ where: `export:${i + 1}`, event }))).problems, []);
    const cp = JSON.parse(readFileSync(checkpointPath(active), 'utf8')) as Checkpoint;
    assert.deepEqual([cp.seq, cp.hash, cp.count], [head.length, head[head.length - 1]!.hash, head.length]);
    const report = await verifyFile(active, { publicKey: (await loadCheckpointKey(join(data, 'audit', 'checkpoint-key.pem'), false)).publicKey });
    assert.equal(head.length + report.events, 60);
    assert.equal(report.lastSeq, 60);

    // A second prune moves the checkpoint on; the count adds up; verify is still green.
    assert.equal((await cli(['audit', 'prune', active, '--max-bytes', '4096'], data)).code, 0);
    const cp2 = JSON.parse(readFileSync(checkpointPath(active), 'utf8')) as Checkpoint;
    assert.ok(cp2.seq > cp.seq && cp2.count === cp2.seq, `checkpoint ${cp.seq} → ${cp2.seq}, count ${cp2.count}`);
    assert.equal((await cli(['audit', 'verify', active], data)).code, 0);

    // The sink continues the chain after the prune, and verify stays green.
    await writeFileChain(active, 61, 70);
    const again = await cli(['audit', 'verify', active], data);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /last seq 70/);
  });

  test('prune by age (injected clock): only files whose last event is older than the limit', async () => {
    const { active, data } = copy('by-age');
    const key = await loadCheckpointKey(join(data, 'key.pem'), true);
    const r = await pruneFile(active, { maxAgeMs: 30 * 60_000 }, { now: at(60), key });
    assert.ok(r.pruned > 0 && r.checkpoint!.seq < 30, `pruned through seq ${r.checkpoint?.seq}`);
    assert.ok(Date.parse(r.checkpoint!.lastEventTime) < at(30));
    const report = await verifyFile(active, { publicKey: key.publicKey });
    assert.deepEqual(report.problems, []);
    const first = jsonLines(readdirSync(join(active, '..')).filter((f) => /\.\d{12}\.jsonl$/.test(f)).sort().map((f) => join(active, '..', f))[0]!)[0]!;
    assert.equal(first.seq, r.checkpoint!.seq + 1, 'what remains starts right after the checkpoint');
  });

  test('a tampered checkpoint is detected: changed, re-signed with another key, removed', async () => {
    const { active, data } = copy('tampered');
    assert.equal((await cli(['audit', 'prune', active, '--max-bytes', '8192'], data)).code, 0);
    const cpFile = checkpointPath(active);
    const good = JSON.parse(readFileSync(cpFile, 'utf8')) as Checkpoint;

    // Changed: more events claimed pruned than were (hiding a deletion) — the signature no longer matches.
    writeFileSync(cpFile, JSON.stringify({ ...good, count: good.count + 5 }));
    const changed = await cli(['audit', 'verify', active], data);
    assert.equal(changed.code, 1);
    assert.match(changed.stdout, /checkpoint: audit\.checkpoint\.json: the checkpoint's signature does not match its content/);

    // Re-signed by someone else's key after deleting one more file: not the operator's key.
    const intruder = await loadCheckpointKey(join(dir, 'intruder.pem'), true);
    const rotated = readdirSync(join(active, '..')).filter((f) => /\.\d{12}\.jsonl$/.test(f)).sort();
    const doomed = jsonLines(join(active, '..', rotated[0]!));
    rmSync(join(active, '..', rotated[0]!));
    const last = doomed[doomed.length - 1]!;
    const { key: _k, signature: _s, ...body } = good;
    writeFileSync(cpFile, JSON.stringify(signCheckpoint({ ...body, seq: last.seq, hash: last.hash, count: last.seq }, intruder)));
    const forged = await cli(['audit', 'verify', active], data);
    assert.equal(forged.code, 1);
    assert.match(forged.stdout, /checkpoint: .*signed by key [0-9a-f]{16}…, not by the verifying key/);
    // The same forgery, checked with the public key kept elsewhere (--public-key), fails too.
    const pinned = await cli(['audit', 'verify', active, '--public-key', join(data, 'audit', 'checkpoint-key.pem.pub')], data);
    assert.equal(pinned.code, 1);

    // Removed: the remaining chain starts mid-way — its first events are reported removed.
    rmSync(cpFile);
    const removed = await cli(['audit', 'verify', active], data);
    assert.equal(removed.code, 1);
    assert.match(removed.stdout, /removed: .*event\(s\) seq 1–\d+ removed/);
  });

  test('a key the operator made with openssl signs the checkpoint (audit.checkpointKey)', async () => {
    const { active, data } = copy('own-key');
    const keyFile = join(dir, 'own-key.pem');
    await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    const env = { GATEHOUSE_AUDIT__CHECKPOINT_KEY: keyFile };
    assert.equal((await cli(['audit', 'prune', active, '--max-bytes', '8192'], data, env)).code, 0);
    const cp = JSON.parse(readFileSync(checkpointPath(active), 'utf8')) as Checkpoint;
    assert.equal(cp.key, (await loadCheckpointKey(keyFile, false)).fingerprint);
    assert.ok(!existsSync(join(data, 'audit', 'checkpoint-key.pem')), 'no key generated when one is configured');
    const verify = await cli(['audit', 'verify', active], data, env);
    assert.equal(verify.code, 0, verify.stdout);
  });

  test('a prune refuses a chain that does not verify, and deletes nothing', async () => {
    const { active, data } = copy('broken');
    const first = readdirSync(join(active, '..')).filter((f) => /\.\d{12}\.jsonl$/.test(f)).sort()[0]!;
    const path = join(active, '..', first);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"status":200', '"status":201'));
    const r = await cli(['audit', 'prune', active, '--max-bytes', '4096'], data);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to prune .*do not verify .*seq 1 was changed/);
    assert.ok(existsSync(path) && !existsSync(checkpointPath(active)));
  });
});

let pgServer: PostgresServer | undefined;
after(() => pgServer?.close());

for (const driver of ['sqlite', 'postgres'] as const) describe(`store sink (${driver})`, () => {
  test('prune by count with --export-to, then by age; verify --store green across the checkpoint; the chain continues; a tampered checkpoint fails', async () => {
    const data = join(dir, `store-${driver}`);
    let env: Record<string, string> = {};
    let storeConfig: Parameters<typeof openStore>[0] = { driver: 'sqlite', dataDir: data };
    if (driver === 'postgres') {
      pgServer ??= await startPostgres();
      const url = pgServer.url(await pgServer.createDatabase('retention'));
      env = { GATEHOUSE_STORE__DRIVER: 'postgres', GATEHOUSE_STORE__URL: url };
      storeConfig = { driver: 'postgres', url, dataDir: data } as Parameters<typeof openStore>[0];
    }
    const store = await openStore(storeConfig);
    const push = async (from: number, to: number) => {
      const q = await openSinkQueue(storeSink({ type: 'store' }, auditRepository(store.db)), { maxQueue: 1000, onLoss: () => assert.fail('no loss') });
      for (let i = from; i <= to; i++) await q.push(event(i));
      await q.close(1000);
    };
    try {
      await push(1, 30);
      const exported = join(dir, `store-export-${driver}.jsonl`);
      env = { ...env, GATEHOUSE_AUDIT__SINKS: '[{type: store, retention: {maxEvents: 10}}]' };
      const dry = await cli(['audit', 'prune', '--store', '--dry-run', '--json'], data, env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual((JSON.parse(dry.stdout) as { reports: Array<{ pruned: number }> }).reports.map((r) => r.pruned), [20]);
      assert.equal((await verifyStore(auditRepository(store.db))).events, 30, 'a dry run changes nothing');
      const pruned = await cli(['audit', 'prune', '--store', '--export-to', exported], data, env);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.match(pruned.stdout, /pruned 20 events of store:default; checkpoint seq 20/);
      assert.deepEqual(jsonLines(exported).map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
      const verify = await cli(['audit', 'verify', '--store'], data, env);
      assert.equal(verify.code, 0, verify.stdout);
      assert.match(verify.stdout, /store: 10 events, last seq 30/);
      assert.match(verify.stdout, /continues from checkpoint store:default seq 20 \(20 events pruned/);

      // By age, with the clock injected: events older than 5 minutes before event 30 go.
      const repo = auditRepository(store.db);
      const key = await loadCheckpointKey(join(data, 'audit', 'checkpoint-key.pem'), false);
      const [r] = await pruneStore(repo, { maxAgeMs: 5 * 60_000 }, { now: at(30), key });
      assert.deepEqual([r!.pruned, r!.checkpoint!.seq, r!.checkpoint!.count], [4, 24, 24]);

      // The sink continues after the prune (its head is in the rows it kept).
      await push(31, 35);
      const report = await verifyStore(repo, { publicKey: key.publicKey });
      assert.deepEqual(report.problems, []);
      assert.deepEqual([report.events, report.lastSeq], [11, 35]);

      // A checkpoint changed in the store is detected.
      await sql`update gatehouse_meta set value = replace(value, '"count":24', '"count":23') where key = 'audit_checkpoint:default'`.execute(store.db);
      const tampered = await cli(['audit', 'verify', '--store'], data, env);
      assert.equal(tampered.code, 1);
      assert.match(tampered.stdout, /checkpoint: store chain default checkpoint: the checkpoint's signature does not match/);
    } finally {
      await store.close();
    }
  });
});
