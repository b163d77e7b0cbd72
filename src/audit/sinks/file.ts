/**
 * Audit sink: JSON lines in a file, rotated by size and by age. Each batch is appended and
 * (by default) fdatasync'ed before the write resolves, so the file sink can be required.
 * Rotated files are named `<stem>.<first seq, 12 digits>.jsonl` next to the active file, so
 * name order is chain order; the chain continues across rotations and restarts.
 */
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { EMPTY_HEAD, type ChainHead } from '../chain.ts';
import type { ChainedEvent } from '../event.ts';
import { jsonLines, type AuditSink } from '../sink.ts';

export const fileSinkSchema = z
  .strictObject({
    type: z.literal('file'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics (default `file`).'),
    path: z.string().min(1).optional().describe('The active file; default `<dataDir>/audit/audit.jsonl`.'),
    maxBytes: z.number().int().min(4096).default(100 * 1024 * 1024).describe('Rotate before the active file would grow past this size (bytes).'),
    maxAgeMs: z.number().int().min(0).default(24 * 3600 * 1000).describe('Rotate when the active file\'s first event is older than this (milliseconds; checked on write; 0 disables).'),
    fsync: z.boolean().default(true).describe('fdatasync after every batch. Required for `audit.mode: required` to survive a machine crash, not only a process crash.'),
    retention: z
      .strictObject({
        maxAgeMs: z.number().int().min(1).optional().describe('Prune rotated files whose last event is older than this (milliseconds).'),
        maxBytes: z.number().int().min(4096).optional().describe('Prune the oldest rotated files while the active and rotated files together are larger than this (bytes).'),
      })
      .optional()
      .describe('Retention policy, applied by `gatehouse audit prune` (docs/operations.md "Retention"): the oldest rotated files go, a signed checkpoint keeps the rest verifiable. None: files are kept.'),
  })
  .describe('JSON lines in a file with size- and time-based rotation; durable, so it can be required.');

export type FileSinkConfig = z.infer<typeof fileSinkSchema>;

/** `audit.jsonl` → stem `audit`; rotated files are `audit.000000000001.jsonl`. */
function stemOf(path: string): string {
  return path.endsWith('.jsonl') ? path.slice(0, -'.jsonl'.length) : path;
}

/** The rotated files of an active file, oldest first, then the active file itself if present. */
export async function chainFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const stem = basename(stemOf(path));
  const pattern = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d{12})\\.jsonl$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  const rotated = names.filter((n) => pattern.test(n)).sort().map((n) => join(dir, n));
  const active = await stat(path).then(
    () => [path],
    () => [],
  );
  return [...rotated, ...active];
}

/** First and last complete lines of a file, and the length up to the last newline. */
export async function edges(path: string): Promise<{ first?: string; last?: string; complete: number; size: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) return { complete: 0, size };
    const span = Math.min(size, 1 << 20);
    const head = Buffer.alloc(span);
    await fh.read(head, 0, span, 0);
    const tail = Buffer.alloc(span);
    await fh.read(tail, 0, span, size - span);
    const lastNl = tail.lastIndexOf(0x0a);
    const complete = lastNl < 0 ? 0 : size - span + lastNl + 1;
    const firstNl = head.indexOf(0x0a);
    const first = firstNl < 0 ? undefined : head.subarray(0, firstNl).toString('utf8');
    const prevNl = lastNl <= 0 ? -1 : tail.lastIndexOf(0x0a, lastNl - 1);
    const last = lastNl < 0 ? undefined : tail.subarray(prevNl + 1, lastNl).toString('utf8');
    return { ...(first !== undefined && { first }), ...(last !== undefined && { last }), complete, size };
  } finally {
    await fh.close();
  }
}

/**
 * The edges of a file after cutting off a torn last line: a write cut by a crash, never
 * acknowledged, so never counted as written.
 */
export async function intactEdges(path: string, onTornTail?: (bytes: number) => void): Promise<Awaited<ReturnType<typeof edges>>> {
  const e = await edges(path);
  if (e.complete < e.size) {
    const t = await open(path, 'r+');
    await t.truncate(e.complete);
    await t.close();
    onTornTail?.(e.size - e.complete);
  }
  return { ...e, size: e.complete };
}

/**
 * Appends `buf` to a file of `before` bytes and (with `fsync`) flushes it. On failure the file is
 * cut back to `before`: no half batch stays, the events were not accepted, the chain head did not move.
 */
export async function appendAll(fh: FileHandle, buf: Buffer, before: number, fsync: boolean, what: string): Promise<void> {
  try {
    const { bytesWritten } = await fh.write(buf);
    if (bytesWritten !== buf.length) throw new Error(`${what}: short write (${bytesWritten} of ${buf.length} bytes)`);
    if (fsync) await fh.datasync();
  } catch (err) {
    await fh.truncate(before).catch(() => undefined);
    throw err;
  }
}

/** Flushes a directory, so a file created, renamed or removed in it stays so after a crash. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

const headOf = (line: string | undefined): ChainHead | undefined => {
  if (!line) return undefined;
  const e = JSON.parse(line) as ChainedEvent;
  return { seq: e.seq, hash: e.hash };
};

export function fileSink(config: FileSinkConfig, deps: { dataDir: string; now: () => number; onTornTail?: (bytes: number) => void }): AuditSink {
  const path = config.path ?? join(deps.dataDir, 'audit', 'audit.jsonl');
  let fh: FileHandle | undefined;
  let size = 0;
  /** Time of the active file's first event (ms), or undefined while it is empty. */
  let startedAt: number | undefined;

  async function openActive(): Promise<void> {
    fh = await open(path, 'a');
    size = (await fh.stat()).size;
  }

  async function rotate(firstSeqOfActive: number): Promise<void> {
    await fh!.close();
    fh = undefined;
    await rename(path, `${stemOf(path)}.${String(firstSeqOfActive).padStart(12, '0')}.jsonl`);
    await syncDir(dirname(path));
    await openActive();
    startedAt = undefined;
  }

  let activeFirstSeq = 0;
  return {
    id: config.id ?? 'file',
    type: 'file',
    durable: true,
    async open() {
      await mkdir(dirname(path), { recursive: true });
      let head: ChainHead | undefined;
      const files = await chainFiles(path);
      if (files[files.length - 1] === path) {
        const e = await intactEdges(path, deps.onTornTail);
        head = headOf(e.last);
        if (e.first) {
          const first = JSON.parse(e.first) as ChainedEvent;
          startedAt = Date.parse(first.time);
          activeFirstSeq = first.seq;
        }
      }
      for (let i = files.length - 1; head === undefined && i >= 0; i--) {
        if (files[i] !== path) head = headOf((await edges(files[i]!)).last);
      }
      await openActive();
      return head ?? EMPTY_HEAD;
    },
    async write(events, lines) {
      if (events.length === 0) return;
      const buf = Buffer.from(jsonLines(events, lines));
      const now = deps.now();
      const tooBig = size > 0 && size + buf.length > config.maxBytes;
      const tooOld = size > 0 && config.maxAgeMs > 0 && startedAt !== undefined && now - startedAt >= config.maxAgeMs;
      if (tooBig || tooOld) await rotate(activeFirstSeq);
      const before = size;
      await appendAll(fh!, buf, before, config.fsync, `audit file ${path}`);
      size = before + buf.length;
      if (before === 0) {
        startedAt = Date.parse(events[0]!.time);
        activeFirstSeq = events[0]!.seq;
      }
    },
    async probe() {
      if (!fh) throw new Error(`audit file ${path} is not open`);
      const [held, named] = await Promise.all([fh.stat(), stat(path)]);
      // A device (/dev/full) or a pipe is not a durable file; a file moved or deleted under the sink takes writes nobody keeps.
      if (!held.isFile()) throw new Error(`audit file ${path} is not a regular file`);
      if (held.ino !== named.ino || held.dev !== named.dev) throw new Error(`audit file ${path} was moved or replaced under the gateway`);
      // One block written and flushed next to it: the disk has room and takes writes (ENOSPC, EROFS, EIO show here).
      const probe = join(dirname(path), `.${basename(path)}.probe`);
      const h = await open(probe, 'w');
      try {
        await h.write(Buffer.alloc(4096));
        await h.datasync();
      } finally {
        await h.close();
        await rm(probe, { force: true });
      }
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}
