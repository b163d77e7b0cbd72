/**
 * What `synchronous = FULL` costs the SQLite store (src/store/sqlite.ts) against NORMAL: the
 * store audit sink's commit of one batch, timed on two stores in one temporary directory on the
 * same disk, the two modes interleaved (alternating which goes first), so the ratio compares
 * the same minutes. Prints the median commit time per mode and batch size, and the ratio.
 *
 *   node bench/sqlite-sync.ts [rounds=200] [dir=.data/bench-sqlite-sync]
 *
 * The directory must be on the disk the store will use: a tmpfs makes every sync free.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { EMPTY_HEAD, seal, type ChainHead } from '../src/audit/chain.ts';
import type { AuditEvent } from '../src/audit/event.ts';
import { auditRepository } from '../src/store/audit.ts';
import { openStore } from '../src/store/store.ts';

const rounds = Number(process.argv[2] ?? 200);
const parent = resolve(process.argv[3] ?? '.data/bench-sqlite-sync');
mkdirSync(parent, { recursive: true });
const dir = mkdtempSync(join(parent, 'run-'));

const event = (i: number): AuditEvent => ({
  v: 1, phase: 'pending', time: new Date().toISOString(), requestId: `bench-${i}`,
  principal: { id: 'local:bench', kind: 'user', method: 'basic', provider: 'local' }, tenant: 'team-a',
  client: { address: '127.0.0.1', userAgent: 'bench' }, method: 'POST', operation: 'runs.create', action: 'experiment.write',
  resources: [], decision: { effect: 'allow', reasons: [] }, outcome: 'pending', error: null, upstreamStatus: null, status: null, latencyMs: 1,
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const modes = ['FULL', 'NORMAL'] as const;
  const stores = await Promise.all(modes.map((m) => openStore({ driver: 'sqlite', dataDir: join(dir, m) })));
  await sql`pragma synchronous = NORMAL`.execute(stores[1]!.db);
  const repos = stores.map((s) => auditRepository(s.db, { chain: 'bench' }));
  const heads: ChainHead[] = [EMPTY_HEAD, EMPTY_HEAD];
  let n = 0;
  const lines: string[] = [`load average at start ${loadavg()[0]!.toFixed(2)}, ${rounds} interleaved rounds per batch size, in ${dir}`];
  for (const size of [1, 20]) {
    const times: number[][] = [[], []];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const { sealed, head } = seal(heads[i]!, Array.from({ length: size }, () => event(n++)));
        const t0 = process.hrtime.bigint();
        await repos[i]!.append(sealed);
        times[i]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
        heads[i] = head;
      }
    }
    const [full, normal] = times.map(median) as [number, number];
    lines.push(`batch of ${size}: FULL ${full.toFixed(3)} ms, NORMAL ${normal.toFixed(3)} ms per commit (medians); FULL/NORMAL ${(full / normal).toFixed(2)}`);
  }
  lines.push(`load average at end ${loadavg()[0]!.toFixed(2)}`);
  console.log(lines.join('\n'));
  await Promise.all(stores.map((s) => s.close()));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
