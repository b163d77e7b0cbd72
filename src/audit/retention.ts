/**
 * Retention: the oldest events of a chain — rotated files of the file sink, rows of the store
 * sink — are pruned by age and size, without breaking verification. A prune removes a prefix of
 * the chain only (never its newest event, which the sink continues from), after checking that
 * prefix verifies from the previous checkpoint (a prune never launders a broken chain), after
 * writing it to the export file when asked, and after a signed checkpoint names its last event
 * (checkpoint.ts). Order: export (flushed), checkpoint (flushed), delete — a crash in between
 * leaves events the checkpoint already covers, which verification passes over and the next prune
 * deletes.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { AuditRepository } from '../store/audit.ts';
import { verifyChain, type ChainItem } from './chain.ts';
import {
  checkpointPath,
  checkpointProblem,
  headOf,
  readCheckpointFile,
  signCheckpoint,
  writeCheckpointFile,
  type Checkpoint,
  type CheckpointKey,
} from './checkpoint.ts';
import type { ChainedEvent } from './event.ts';
import { chainFiles, edges, syncDir } from './sinks/file.ts';

export interface RetentionPolicy {
  /** Prune events older than this (ms). */
  readonly maxAgeMs?: number | undefined;
  /** File sink: prune the oldest rotated files while all files together are larger (bytes). */
  readonly maxBytes?: number | undefined;
  /** Store sink: keep at most this many events per chain. */
  readonly maxEvents?: number | undefined;
}

export interface PruneOptions {
  readonly now: number;
  readonly key: CheckpointKey;
  /** Write the pruned events here first, one JSON line each as stored (a new file). */
  readonly exportTo?: string | undefined;
  /** Say what would be pruned; change nothing. */
  readonly dryRun?: boolean | undefined;
}

export interface PruneReport {
  readonly chain: string;
  /** Events pruned now. */
  readonly pruned: number;
  /** The checkpoint written (or, dry, that would be); undefined when nothing was pruned. */
  readonly checkpoint?: Checkpoint;
  readonly files?: readonly string[];
}

/** Refuses a previous checkpoint that the key did not sign: pruning on from it would hide its forgery. */
function trusted(cp: Checkpoint | undefined, key: CheckpointKey, where: string): void {
  const problem = cp && checkpointProblem(cp, key.publicKey);
  if (problem) throw new Error(`refusing to prune ${where}: ${problem}`);
}

/** The events to prune must verify from the previous checkpoint; returns them. */
function verified(items: ChainItem[], previous: Checkpoint | undefined, where: string): ChainedEvent[] {
  const { problems } = verifyChain(items, headOf(previous));
  if (problems.length > 0) throw new Error(`refusing to prune ${where}: the events to prune do not verify (${problems.map((p) => p.message).join('; ')}); run gatehouse audit verify`);
  const from = previous?.seq ?? 0;
  return items.map((i) => i.event as ChainedEvent).filter((e) => e.seq > from);
}

async function exportLines(path: string, lines: readonly string[]): Promise<void> {
  const h = await open(path, 'wx');
  try {
    await h.writeFile(lines.map((l) => `${l}\n`).join(''));
    await h.sync();
  } finally {
    await h.close();
  }
}

function nextCheckpoint(chain: string, pruned: readonly ChainedEvent[], previous: Checkpoint | undefined, o: PruneOptions): Checkpoint {
  const last = pruned[pruned.length - 1]!;
  return signCheckpoint(
    { v: 1, chain, seq: last.seq, hash: last.hash, count: (previous?.count ?? 0) + pruned.length, time: new Date(o.now).toISOString(), lastEventTime: last.time },
    o.key,
  );
}

/** Prunes the rotated files of the file sink whose active file is `path`. */
export async function pruneFile(path: string, policy: RetentionPolicy, o: PruneOptions): Promise<PruneReport> {
  const chain = `file:${basename(path)}`;
  const cpFile = checkpointPath(path);
  const previous = await readCheckpointFile(cpFile);
  trusted(previous, o.key, path);
  const files = await chainFiles(path);
  const info = await Promise.all(files.map(async (f) => ({ path: f, ...(await edges(f)) })));
  // The file holding the chain's newest event stays: the sink continues from it.
  let newest = info.length - 1;
  while (newest > 0 && info[newest]!.last === undefined) newest--;
  let total = info.reduce((n, f) => n + f.size, 0);
  const prune: string[] = [];
  for (const f of info.slice(0, newest)) {
    if (f.path === path || f.last === undefined) break;
    const old = policy.maxAgeMs !== undefined && o.now - Date.parse((JSON.parse(f.last) as ChainedEvent).time) > policy.maxAgeMs;
    const big = policy.maxBytes !== undefined && total > policy.maxBytes;
    if (!old && !big) break;
    prune.push(f.path);
    total -= f.size;
  }
  if (prune.length === 0) return { chain, pruned: 0, files: [] };
  const items: ChainItem[] = [];
  const lines: string[] = [];
  for (const f of prune) {
    (await readFile(f, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .forEach((line, i) => {
        lines.push(line);
        items.push({ where: `${basename(f)}:${i + 1}`, event: JSON.parse(line) as ChainedEvent });
      });
  }
  const events = verified(items, previous, path);
  if (events.length === 0) return { chain, pruned: 0, files: [] };
  const checkpoint = nextCheckpoint(chain, events, previous, o);
  if (o.dryRun) return { chain, pruned: events.length, checkpoint, files: prune };
  if (o.exportTo) await exportLines(o.exportTo, lines);
  await writeCheckpointFile(cpFile, checkpoint);
  for (const f of prune) await rm(f, { force: true });
  await syncDir(dirname(path));
  return { chain, pruned: events.length, checkpoint, files: prune };
}

/** Prunes every chain of the store sink. */
export async function pruneStore(repo: AuditRepository, policy: RetentionPolicy, o: PruneOptions): Promise<PruneReport[]> {
  const reports: PruneReport[] = [];
  const exported: string[] = [];
  const work: Array<() => Promise<void>> = [];
  for (const chain of await repo.chains()) {
    const previous = await repo.checkpoint(chain);
    trusted(previous, o.key, `store chain ${chain}`);
    const all: ChainedEvent[] = [];
    for await (const e of repo.scan({ chain })) all.push(e);
    if (all.length < 2) continue;
    // A prefix in chain order, never the newest event: the older-than cut, or the count cut, whichever is further.
    const cutoff = o.now - (policy.maxAgeMs ?? Infinity);
    const young = all.findIndex((e) => Date.parse(e.time) >= cutoff);
    const byAge = young < 0 ? all.length : young;
    const bySize = policy.maxEvents !== undefined ? all.length - policy.maxEvents : 0;
    const n = Math.min(Math.max(byAge, bySize), all.length - 1);
    if (n <= 0) continue;
    const events = verified(all.slice(0, n).map((event) => ({ where: `store chain ${chain} seq ${event.seq}`, event })), previous, `store chain ${chain}`);
    if (events.length === 0) continue;
    const checkpoint = nextCheckpoint(`store:${chain}`, events, previous, o);
    reports.push({ chain: `store:${chain}`, pruned: events.length, checkpoint });
    exported.push(...events.map((e) => JSON.stringify(e)));
    work.push(async () => void (await repo.prune(chain, checkpoint)));
  }
  if (o.dryRun || reports.length === 0) return reports;
  if (o.exportTo) await exportLines(o.exportTo, exported);
  for (const w of work) await w();
  return reports;
}
