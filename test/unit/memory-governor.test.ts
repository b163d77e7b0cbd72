/**
 * The memory governor (src/lib/memory.ts): streamed bytes pay for their own garbage. It runs in
 * a child because it needs V8's `gc` (bin/gatehouse starts Node with --expose-gc; the test runner
 * does not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NODE, ROOT } from '../harness/paths.ts';

/** Drops `mib` MiB of 64 KiB buffers (as a streamed transfer does) and reports the governor's collections. */
function collectionsAfterDropping(mib: number, exposeGc: boolean): number {
  const script = `
    import { startMemoryGovernor } from './src/lib/memory.ts';
    const governor = startMemoryGovernor({ intervalMs: 5, thresholdBytes: 1024 * 1024 });
    let sink = 0;
    for (let i = 0; i < ${mib * 16}; i++) {
      sink += Buffer.alloc(64 * 1024, i & 0xff)[7];
      if (i % 16 === 15) await new Promise((r) => setTimeout(r, 10));
    }
    governor.stop();
    console.log(JSON.stringify({ collections: governor.collections(), sink }));
  `;
  const args = [...(exposeGc ? ['--expose-gc'] : []), '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script];
  const r = spawnSync(NODE, args, { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { collections: number }).collections;
}

test('buffer garbage past the threshold sets off young-generation collections', () => {
  assert.ok(collectionsAfterDropping(32, true) >= 2);
});

test('without V8\'s gc function it stays out of the way', () => {
  assert.equal(collectionsAfterDropping(8, false), 0);
});
