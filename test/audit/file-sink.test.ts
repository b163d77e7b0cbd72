/** The file sink: rotation by age, a line torn by a crash removed at the next start, a short write refused. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/event.ts';
import { openSinkQueue } from '../../src/audit/queue.ts';
import { fileSink, fileSinkSchema } from '../../src/audit/sinks/file.ts';
import { verifyFile } from '../../src/audit/verify.ts';
import { NODE, ROOT } from '../harness/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'gh-filesink-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let clock = Date.UTC(2026, 10, 22, 12);
const event = (i: number) => ({ v: 1, phase: 'complete', time: new Date(clock).toISOString(), requestId: `r${i}` }) as unknown as AuditEvent;

async function open(path: string) {
  const config = fileSinkSchema.parse({ type: 'file', path, maxAgeMs: 3_600_000 });
  const torn: number[] = [];
  const q = await openSinkQueue(fileSink(config, { dataDir: dir, now: () => clock, onTornTail: (n) => torn.push(n) }), { maxQueue: 100, onLoss: () => assert.fail('no loss') });
  return { q, torn };
}

test('the active file rotates once its first event is older than maxAgeMs', async () => {
  const path = join(dir, 'age', 'audit.jsonl');
  const { q } = await open(path);
  await q.push(event(1));
  clock += 1_800_000;
  await q.push(event(2));
  assert.deepEqual(readdirSync(join(dir, 'age')), ['audit.jsonl']);
  clock += 1_800_000;
  await q.push(event(3));
  await q.close(1000);
  assert.deepEqual(readdirSync(join(dir, 'age')).sort(), ['audit.000000000001.jsonl', 'audit.jsonl']);
  assert.equal(readFileSync(path, 'utf8').split('\n').filter(Boolean).length, 1);
  assert.deepEqual((await verifyFile(path)).problems, []);
});

test('a torn last line is cut at the next start and the chain continues', async () => {
  const path = join(dir, 'torn', 'audit.jsonl');
  let { q } = await open(path);
  await q.push(event(1));
  await q.close(1000);
  appendFileSync(path, '{"v":1,"phase":"comp');
  const reopened = await open(path);
  q = reopened.q;
  assert.deepEqual(reopened.torn, [20]);
  await q.push(event(2));
  await q.close(1000);
  const report = await verifyFile(path);
  assert.deepEqual(report.problems, []);
  assert.equal(report.lastSeq, 2);
});

test('a short write fails the batch and leaves the file as it was before it', () => {
  // A real short write: the kernel cuts a write that would take the file past RLIMIT_FSIZE
  // (`ulimit -f 1`: 1024 bytes) at the limit, as it does at the end of a full disk.
  const path = join(dir, 'short', 'audit.jsonl');
  const script = `
    import { statSync, readFileSync } from 'node:fs';
    import { fileSink, fileSinkSchema } from './src/audit/sinks/file.ts';
    // Writes starting at the limit also raise SIGXFSZ; only the one crossing it is short.
    process.on('SIGXFSZ', () => undefined);
    const path = ${JSON.stringify(path)};
    const sink = fileSink(fileSinkSchema.parse({ type: 'file', path }), { dataDir: ${JSON.stringify(dir)}, now: Date.now });
    await sink.open();
    const event = (seq, pad) => ({ v: 1, seq, time: new Date().toISOString(), pad: 'x'.repeat(pad) });
    const size = () => statSync(path).size;
    await sink.write([event(1, 200)]);
    const first = size();
    const failed = await sink.write([event(2, 500), event(3, 500)]).then(() => 'accepted', (err) => err.message);
    const afterFailed = size();
    await sink.write([event(4, 100)]);
    await sink.close();
    process.stdout.write(JSON.stringify({ first, failed, afterFailed, lines: readFileSync(path, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l).seq) }));
  `;
  const r = spawnSync('bash', ['-c', 'ulimit -f 1 && exec "$0" --disable-warning=ExperimentalWarning --input-type=module -e "$1"', NODE, script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { first: number; failed: string; afterFailed: number; lines: number[] };
  assert.ok(out.first > 0 && out.first < 1024);
  assert.match(out.failed, /short write \(\d+ of \d+ bytes\)/);
  assert.equal(out.afterFailed, out.first, 'the part of the batch that was written is cut off again');
  assert.deepEqual(out.lines, [1, 4]);
});
