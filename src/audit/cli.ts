/** `gatehouse audit verify` and `gatehouse audit export` (registered in cli/commands.ts). */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Command, CommandInput } from '../cli/commands.ts';
import { auditRepository } from '../store/audit.ts';
import type { Store } from '../store/store.ts';
import { openCliStore } from '../cli/services.ts';
import { journalBacklog } from './journal.ts';
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

export const auditCommands: Record<string, Command> = {
  'audit verify': {
    summary: 'check an audit hash chain (file with its rotations, or the store)',
    usage:
      'gatehouse audit verify [FILE] [--store] [--json]\n\nVerifies the JSON-lines file FILE (and its rotated files, in order) or, with --store, the store sink.\nWithout either, the first configured file sink (else the store). Exit 0 when intact, 1 with every changed,\nremoved or reordered event and where it is. For the store it also says how many CLI admin events still wait\nin the journal for a running gateway to record them.',
    options: { store: { type: 'boolean' } },
    async run(input) {
      const { config, values, positionals } = input;
      let report: VerifyReport & { journal?: number };
      const fileSink = config!.audit.sinks.find((s) => s.type === 'file');
      if (positionals[0] !== undefined) report = await verifyFile(positionals[0]);
      else if (!values.store && fileSink?.type === 'file') report = await verifyFile(fileSink.path ?? join(config!.dataDir, 'audit', 'audit.jsonl'));
      else report = await withStore(input, async (repo, store) => ({ ...(await verifyStore(repo)), journal: await journalBacklog(store.db) }));
      if (values.json) out(JSON.stringify(report, null, 2));
      else {
        out(`${report.sources.join(', ')}: ${report.events} events, last seq ${report.lastSeq}`);
        for (const p of report.problems) out(`  ${p.kind}: ${p.message}`);
        if (report.journal) out(`  ${report.journal} CLI admin event(s) wait in the journal until a running gateway records them`);
        out(report.ok ? 'chain intact' : `chain BROKEN: ${report.problems.length} problem(s)`);
      }
      return report.ok ? 0 : 1;
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
