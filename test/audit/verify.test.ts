/**
 * Tamper evidence: `gatehouse audit verify` passes an untouched chain (across rotated files and
 * in the store) and reports exactly where an event was changed, removed or reordered.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { AuditEvent } from '../../src/audit/event.ts';
import { openSinkQueue } from '../../src/audit/queue.ts';
import { fileSink, fileSinkSchema } from '../../src/audit/sinks/file.ts';
import { storeSink } from '../../src/audit/sinks/store.ts';
import { verifyFile, verifyStore } from '../../src/audit/verify.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { ROOT } from '../harness/paths.ts';
import { requestEvent } from './fixture-events.ts';

const run = promisify(execFile);
/** The CLI's environment: this process's, without a config file. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.GATEHOUSE_CONFIG;
  return env;
}
let dir: string;
let clean: string;

/** The fixture's calendar: event `i` happened `i` seconds after this. */
const EPOCH = Date.UTC(2026, 10, 22, 12, 0, 0);

const event = (i: number): AuditEvent => requestEvent(i, EPOCH + i * 1000);

/**
 * Writes `n` events through the real file sink, small files so it rotates (by size only: the
 * sink's clock is the fixture's, so its age rotation never fires whatever today's date is).
 */
async function writeChain(path: string, n: number, from = 1): Promise<void> {
  const config = fileSinkSchema.parse({ type: 'file', path, maxBytes: 4096, fsync: false });
  const now = () => EPOCH + (from + n) * 1000;
  const q = await openSinkQueue(fileSink(config, { dataDir: dir, now }), { maxQueue: 1000, onLoss: () => assert.fail('no loss expected') });
  for (let i = from; i < from + n; i++) await q.push(event(i));
  await q.close(1000);
}

/** A copy of the clean chain to tamper with; returns the path of its active file. */
function copy(name: string): string {
  const target = join(dir, name);
  cpSync(clean, target, { recursive: true });
  return join(target, 'audit.jsonl');
}

const files = (active: string) => readdirSync(join(active, '..')).sort().filter((f) => f !== 'audit.jsonl').concat('audit.jsonl').map((f) => join(active, '..', f));
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const writeLines = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => `${l}\n`).join(''));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-verify-'));
  clean = join(dir, 'clean');
  await writeChain(join(clean, 'audit.jsonl'), 30);
  // A restart continues the chain in the same file set.
  await writeChain(join(clean, 'audit.jsonl'), 10, 31);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('audit verify on files', () => {
  test('an untouched chain passes, across rotated files and a restart', async () => {
    const active = join(clean, 'audit.jsonl');
    assert.ok(files(active).length >= 3, 'the 4 KiB limit rotated the file');
    const report = await verifyFile(active);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.events, 40);
    assert.equal(report.lastSeq, 40);
    const cli = await run(join(ROOT, 'bin/gatehouse'), ['audit', 'verify', active], { env: cliEnv() });
    assert.match(cli.stdout, /40 events, last seq 40/);
    assert.match(cli.stdout, /chain intact/);
  });

  test('a changed event is reported at its file and line', async () => {
    const active = copy('changed');
    const first = files(active)[0]!;
    const ls = lines(first);
    ls[2] = ls[2]!.replace('"decision":{"effect":"allow"', '"decision":{"effect":"deny"');
    writeLines(first, ls);
    const report = await verifyFile(active);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.where, p.seq]),
      [['changed', `${first.split('/').pop()}:3`, 3]],
    );
    const cli = await run(join(ROOT, 'bin/gatehouse'), ['audit', 'verify', active], { env: cliEnv() }).then(
      () => assert.fail('verify must exit 1'),
      (err: { code: number; stdout: string }) => err,
    );
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /changed: .*:3: event seq 3 was changed/);
    assert.match(cli.stdout, /chain BROKEN/);
  });

  test('a changed and re-hashed event breaks the link to the next one', async () => {
    const active = copy('rehashed');
    const { hashOf } = await import('../../src/audit/chain.ts');
    const ls = lines(active);
    const e = JSON.parse(ls[1]!) as Record<string, unknown>;
    e.status = 500;
    e.hash = hashOf(e as never);
    ls[1] = JSON.stringify(e);
    writeLines(active, ls);
    const report = await verifyFile(active);
    const seq = (e.seq as number) + 1;
    assert.deepEqual(report.problems.map((p) => [p.kind, p.seq]), [['broken-link', seq]]);
  });

  test('a removed event is reported with its seq and where the gap is', async () => {
    const active = copy('removed');
    const second = files(active)[1]!;
    const ls = lines(second);
    const removed = (JSON.parse(ls[1]!) as { seq: number }).seq;
    ls.splice(1, 1);
    writeLines(second, ls);
    const report = await verifyFile(active);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.where]),
      [['removed', `${second.split('/').pop()}:2`]],
    );
    assert.match(report.problems[0]!.message, new RegExp(`seq ${removed} removed before seq ${removed + 1}`));
  });

  test('a removed rotated file is a gap, not a pass', async () => {
    const active = copy('removed-file');
    rmSync(files(active)[1]!);
    const report = await verifyFile(active);
    assert.deepEqual(report.problems.map((p) => p.kind), ['removed']);
  });

  test('reordered events are reported as reordered, both of them', async () => {
    const active = copy('reordered');
    const ls = lines(active);
    const a = (JSON.parse(ls[3]!) as { seq: number }).seq;
    [ls[3], ls[4]] = [ls[4]!, ls[3]!];
    writeLines(active, ls);
    const report = await verifyFile(active);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.where, p.seq]),
      [
        ['reordered', 'audit.jsonl:4', a + 1],
        ['reordered', 'audit.jsonl:5', a],
      ],
    );
  });
});

describe('audit verify on the store', () => {
  let store: Store;
  before(async () => {
    store = await openStore({ driver: 'sqlite', dataDir: join(dir, 'store') });
    const q = await openSinkQueue(storeSink({ type: 'store' }, auditRepository(store.db)), { maxQueue: 1000, onLoss: () => assert.fail('no loss') });
    await Promise.all(Array.from({ length: 12 }, (_, i) => q.push(event(i + 1))));
    await q.close(1000);
  });
  after(() => store.close());

  test('intact, then a changed row and a deleted row are found', async () => {
    const repo = auditRepository(store.db);
    assert.deepEqual((await verifyStore(repo)).problems, []);
    await sql`update audit_events set event = replace(event, '"status":200', '"status":201') where seq = 5`.execute(store.db);
    await sql`delete from audit_events where seq = 9`.execute(store.db);
    const report = await verifyStore(repo);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.where]),
      [
        ['changed', 'store seq 5'],
        ['removed', 'store seq 10'],
      ],
    );
  });

  test('export writes the stored events as JSON lines, filtered by time', async () => {
    const configDir = join(dir, 'store');
    const out = join(dir, 'export.jsonl');
    await run(join(ROOT, 'bin/gatehouse'), ['audit', 'export', '--from', '2026-11-22T12:00:03Z', '--to', '2026-11-22T12:00:07Z', '--out', out], {
      env: cliEnv({ GATEHOUSE_DATA_DIR: configDir }),
    });
    const exported = lines(out).map((l) => JSON.parse(l) as { seq: number; requestId: string; hash: string });
    assert.deepEqual(exported.map((e) => e.requestId), ['req-3', 'req-4', 'req-5', 'req-6']);
    assert.ok(exported.every((e) => /^[0-9a-f]{64}$/.test(e.hash)));
  });
});

describe('audit verify on a chain broken everywhere', () => {
  test('every problem of 200,000 changed events is reported, none spread into a call', async () => {
    const N = 200_000;
    const repo = {
      chains: async () => ['default'],
      checkpoint: async () => undefined,
      async *scan() {
        for (let i = 1; i <= N; i++) yield { ...event(i), seq: i, prev: '0'.repeat(64), hash: 'f'.repeat(64) };
      },
    } as unknown as Parameters<typeof verifyStore>[0];
    const report = await verifyStore(repo);
    assert.equal(report.ok, false);
    assert.equal(report.events, N);
    assert.ok(report.problems.length >= N, `${report.problems.length} problems`);
  });
});
