/**
 * `gatehouse audit verify`: walks a sink's hash chain — a JSON-lines file with its rotated
 * predecessors, or the store — and reports every changed, removed or reordered event with its
 * location. Cutting events off the END of a chain cannot be detected from the chain alone;
 * compare the last seq with a copy kept elsewhere (another sink, the webhook receiver).
 *
 * A chain pruned by retention (retention.ts) starts after its checkpoint: the checkpoint's
 * signature is checked with the verifying key, and the remaining events must continue from the
 * event it names. A checkpoint that fails its signature, or one present with no key to check it,
 * is a problem (kind `checkpoint`): verification fails closed.
 */
import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditRepository } from '../store/audit.ts';
import { verifyChain, type ChainItem, type ChainProblem } from './chain.ts';
import { checkpointPath, checkpointProblem, headOf, readCheckpointFile, type Checkpoint } from './checkpoint.ts';
import type { ChainedEvent } from './event.ts';
import { chainFiles } from './sinks/file.ts';

export interface VerifyReport {
  readonly ok: boolean;
  /** What was read, in chain order. */
  readonly sources: readonly string[];
  readonly events: number;
  readonly lastSeq: number;
  readonly problems: readonly ChainProblem[];
  /** The retention checkpoints the chains continue from. */
  readonly checkpoints: ReadonlyArray<Pick<Checkpoint, 'chain' | 'seq' | 'count' | 'time' | 'key'>>;
}

/** The problem with a checkpoint, if any (no key to check it is one). */
function checkpointCheck(cp: Checkpoint | undefined, publicKey: KeyObject | undefined, where: string): ChainProblem[] {
  if (!cp) return [];
  const problem = publicKey ? checkpointProblem(cp, publicKey) : 'there is no public key to check it (audit verify --public-key, or audit.checkpointKey)';
  return problem ? [{ where, seq: typeof cp.seq === 'number' ? cp.seq : null, kind: 'checkpoint', message: `${where}: ${problem}` }] : [];
}

const summary = (cp: Checkpoint) => ({ chain: cp.chain, seq: cp.seq, count: cp.count, time: cp.time, key: cp.key });

async function* fileItems(files: readonly string[]): AsyncGenerator<ChainItem> {
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line === '') continue;
      let event: Partial<ChainedEvent> | undefined;
      try {
        const parsed: unknown = JSON.parse(line);
        event = typeof parsed === 'object' && parsed !== null ? (parsed as Partial<ChainedEvent>) : undefined;
      } catch {
        event = undefined;
      }
      yield { where: `${basename(file)}:${n}`, event };
    }
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Verifies the file sink at `path` (the active file; its rotated files and checkpoint are found next to it). */
export async function verifyFile(path: string, options: { readonly publicKey?: KeyObject | undefined } = {}): Promise<VerifyReport> {
  const files = await chainFiles(path);
  if (files.length === 0) throw new Error(`no audit file at ${path}`);
  const cpFile = checkpointPath(path);
  const cp = await readCheckpointFile(cpFile);
  const result = verifyChain(await collect(fileItems(files)), headOf(cp));
  const problems = [...checkpointCheck(cp, options.publicKey, basename(cpFile)), ...result.problems];
  return {
    ok: problems.length === 0,
    sources: cp ? [cpFile, ...files] : files,
    events: result.count,
    lastSeq: result.head.seq,
    problems,
    checkpoints: cp ? [summary(cp)] : [],
  };
}

/**
 * Verifies every chain of the store sink (one per replica, `audit.replicaId`), each on its own.
 * With one chain the report reads as before (`store seq 5`); with several, each problem and
 * source names its chain, and `lastSeq` is the largest.
 */
export async function verifyStore(repo: AuditRepository, options: { readonly publicKey?: KeyObject | undefined } = {}): Promise<VerifyReport> {
  const chains = await repo.chains();
  const several = chains.length > 1;
  const problems: ChainProblem[] = [];
  const checkpoints: Checkpoint[] = [];
  let events = 0;
  let lastSeq = 0;
  for (const chain of chains) {
    const items: ChainItem[] = [];
    const where = several ? `store chain ${chain} seq` : 'store seq';
    const cp = await repo.checkpoint(chain);
    if (cp) checkpoints.push(cp);
    for (const p of checkpointCheck(cp, options.publicKey, `store chain ${chain} checkpoint`)) problems.push(p);
    for await (const e of repo.scan({ chain })) items.push({ where: `${where} ${e.seq}`, event: e });
    const result = verifyChain(items, headOf(cp));
    // A loop, not push(...): a chain broken everywhere has as many problems as events.
    for (const p of result.problems) problems.push(p);
    events += result.count;
    lastSeq = Math.max(lastSeq, result.head.seq);
  }
  return { ok: problems.length === 0, sources: several ? chains.map((c) => `store chain ${c}`) : ['store'], events, lastSeq, problems, checkpoints: checkpoints.map(summary) };
}
