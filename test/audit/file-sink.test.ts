/** The file sink: rotation by age, and a line torn by a crash removed at the next start. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/event.ts';
import { openSinkQueue } from '../../src/audit/queue.ts';
import { fileSink, fileSinkSchema } from '../../src/audit/sinks/file.ts';
import { verifyFile } from '../../src/audit/verify.ts';

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
