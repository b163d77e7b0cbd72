/** `gatehouse audit verify` and `gatehouse audit export` (registered in cli/commands.ts). */
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Command, CommandInput } from '../cli/command.ts';
import { auditRepository } from '../store/audit.ts';
import type { Store } from '../store/store.ts';
import type { Config } from '../config/schema.ts';
import { ephemeralCheckpointKey, loadCheckpointKey, loadPublicKey } from './checkpoint.ts';
import { openCliStore } from '../cli/services.ts';
import { journalBacklog } from './journal.ts';
import { pruneFile, pruneStore, type PruneReport, type RetentionPolicy } from './retention.ts';
import { verifyFile, verifyStore, type VerifyReport } from './verify.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

async function withStore<T>(input: CommandInput, fn: (repo: ReturnType<typeof auditRepository>, store: Store) => Promise<T>): Promise<T> {
  const store = await openCliStore(input);
  try {
    return await fn(auditRepository(store.db), store);
  } finally {
    await store.close();
  }
}

function isoOrUndefined(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(String(v));
  if (Number.isNaN(t)) throw new Error(`--${name}: not a date/time (ISO 8601, e.g. 2026-11-22T00:00:00Z)`);
  return new Date(t).toISOString();
}

/** The checkpoint key's file: `audit.checkpointKey`, else the one generated into the data directory. */
const keyFile = (config: Config) => config.audit.checkpointKey ?? join(config.dataDir, 'audit', 'checkpoint-key.pem');

/** The key that checks checkpoints: `--public-key`, else the configured key's (if there is one). */
async function verifyingKey(config: Config, given: unknown) {
  if (given !== undefined) return loadPublicKey(String(given));
  return loadCheckpointKey(keyFile(config), false).then(
    (k) => k.publicKey,
    () => undefined,
  );
}

/** What `audit verify` / `audit prune` act on: FILE, `--store`, else the first configured file sink (else the store). */
function target(config: Config, values: Record<string, unknown>, positional: string | undefined) {
  const fileSink = config.audit.sinks.find((s) => s.type === 'file');
  if (positional !== undefined) return { file: positional, retention: fileSink?.type === 'file' ? fileSink.retention : undefined };
  if (!values.store && fileSink?.type === 'file') return { file: fileSink.path ?? join(config.dataDir, 'audit', 'audit.jsonl'), retention: fileSink.retention };
  const storeSink = config.audit.sinks.find((s) => s.type === 'store');
  return { file: undefined, retention: storeSink?.type === 'store' ? storeSink.retention : undefined };
}

const number = (v: unknown, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: a positive whole number`);
  return n;
};

export const auditCommands: Record<string, Command> = {
  'audit verify': {
    summary: 'check an audit hash chain (file with its rotations, or the store)',
    usage:
      'gatehouse audit verify [FILE] [--store] [--public-key PEM] [--json]\n\nVerifies the JSON-lines file FILE (and its rotated files, in order) or, with --store, the store sink.\nWithout either, the first configured file sink (else the store). Exit 0 when intact, 1 with every changed,\nremoved or reordered event and where it is. A chain pruned by retention continues from its signed checkpoint,\nchecked with --public-key (default: the public half of audit.checkpointKey). For the store it also says how\nmany CLI admin events still wait in the journal for a running gateway to record them.',
    options: { store: { type: 'boolean' }, 'public-key': { type: 'string' } },
    async run(input) {
      const { config, values, positionals } = input;
      let report: VerifyReport & { journal?: number };
      const publicKey = await verifyingKey(config!, values['public-key']);
      const { file } = target(config!, values, positionals[0]);
      if (file !== undefined) report = await verifyFile(file, { publicKey });
      else report = await withStore(input, async (repo, store) => ({ ...(await verifyStore(repo, { publicKey })), journal: await journalBacklog(store.db) }));
      if (values.json) out(JSON.stringify(report, null, 2));
      else {
        out(`${report.sources.join(', ')}: ${report.events} events, last seq ${report.lastSeq}`);
        for (const c of report.checkpoints) out(`  continues from checkpoint ${c.chain} seq ${c.seq} (${c.count} events pruned, last prune ${c.time}, key ${c.key.slice(0, 16)}…)`);
        for (const p of report.problems) out(`  ${p.kind}: ${p.message}`);
        if (report.journal) out(`  ${report.journal} CLI admin event(s) wait in the journal until a running gateway records them`);
        out(report.ok ? 'chain intact' : `chain BROKEN: ${report.problems.length} problem(s)`);
      }
      return report.ok ? 0 : 1;
    },
  },
  'audit prune': {
    writes: true,
    summary: 'prune old audit events by the retention policy, leaving a signed checkpoint',
    usage: [
      'gatehouse audit prune [FILE] [--store] [--export-to FILE] [--dry-run] [--max-age-ms N] [--max-bytes N] [--max-events N] [--json]',
      '',
      'Prunes the oldest rotated files of the file sink FILE (default: the first configured file sink) or, with',
      '--store, the oldest events of every store chain, by the sink\'s retention policy (or the --max-* options,',
      'which replace it). The events to prune must verify first; they are written to --export-to (a new file, one',
      'JSON line per event as stored) before anything is deleted; a checkpoint signed with audit.checkpointKey',
      '(generated into the data directory at the first prune) names the last pruned event, so gatehouse audit verify',
      'still proves the rest of the chain. The newest event of a chain is never pruned. Exit 0, or 1 on a refusal.',
    ].join('\n'),
    options: {
      store: { type: 'boolean' },
      'export-to': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'max-age-ms': { type: 'string' },
      'max-bytes': { type: 'string' },
      'max-events': { type: 'string' },
    },
    async run(input) {
      const { config, values, positionals } = input;
      const { file, retention } = target(config!, values, positionals[0]);
      const flags: RetentionPolicy = { maxAgeMs: number(values['max-age-ms'], 'max-age-ms'), maxBytes: number(values['max-bytes'], 'max-bytes'), maxEvents: number(values['max-events'], 'max-events') };
      const policy = flags.maxAgeMs ?? flags.maxBytes ?? flags.maxEvents ? flags : (retention ?? {});
      if (Object.values(policy).every((v) => v === undefined)) {
        err('no retention policy: set retention on the sink (docs/config.md) or give --max-age-ms, --max-bytes or --max-events');
        return 1;
      }
      // A dry run creates nothing: without a key yet, it signs with one held in memory.
      const dryRun = values['dry-run'] === true;
      const key = dryRun && !existsSync(keyFile(config!)) ? ephemeralCheckpointKey() : await loadCheckpointKey(keyFile(config!), !dryRun);
      const options = { now: Date.now(), key, exportTo: values['export-to'] as string | undefined, dryRun };
      let reports: PruneReport[];
      try {
        reports = file !== undefined ? [await pruneFile(file, policy, options)] : await withStore(input, (repo) => pruneStore(repo, policy, options));
      } catch (e) {
        err((e as Error).message);
        return 1;
      }
      if (values.json) out(JSON.stringify({ dryRun: options.dryRun, key: key.fingerprint, reports }, null, 2));
      else {
        const pruned = reports.filter((r) => r.pruned > 0);
        if (pruned.length === 0) out('nothing to prune');
        for (const r of pruned) {
          out(`${options.dryRun ? 'would prune' : 'pruned'} ${r.pruned} events of ${r.chain}${r.files?.length ? ` (${r.files.length} files)` : ''}; checkpoint seq ${r.checkpoint!.seq}, key ${key.fingerprint.slice(0, 16)}…`);
        }
        if (options.exportTo && !options.dryRun && pruned.length > 0) out(`exported to ${options.exportTo}`);
      }
      return 0;
    },
  },
  'audit export': {
    summary: 'write the store\'s audit events as JSON lines',
    usage:
      'gatehouse audit export [--from TIME] [--to TIME] [--out FILE]\n\nEvents of the store sink with from <= time < to (ISO 8601), in chain order, one JSON object per line,\nexactly as stored (seq, prev and hash included). Default output: standard output.',
    options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    async run(input) {
      const { values } = input;
      const from = isoOrUndefined(values.from, 'from');
      const to = isoOrUndefined(values.to, 'to');
      const sink = values.out ? createWriteStream(String(values.out)) : process.stdout;
      let n = 0;
      await withStore(input, async (repo) => {
        for await (const e of repo.scan({ from, to })) {
          if (!sink.write(`${JSON.stringify(e)}\n`)) await once(sink, 'drain');
          n++;
        }
      });
      if (values.out) {
        const file = sink as ReturnType<typeof createWriteStream>;
        await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
        err(`wrote ${n} events to ${String(values.out)}`);
      }
      return 0;
    },
  },
};
