/** Audit sink: one JSON line per event on standard output, for a log collector. Best effort (not durable). */
import { z } from 'zod';
import { EMPTY_HEAD } from '../chain.ts';
import { jsonLines, type AuditSink } from '../sink.ts';

export const stdoutSinkSchema = z
  .strictObject({
    type: z.literal('stdout'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics (default `stdout`).'),
  })
  .describe('JSON lines on standard output. The chain starts afresh with every process start.');

export type StdoutSinkConfig = z.infer<typeof stdoutSinkSchema>;

export function stdoutSink(config: StdoutSinkConfig, out: NodeJS.WritableStream = process.stdout): AuditSink {
  return {
    id: config.id ?? 'stdout',
    type: 'stdout',
    durable: false,
    async open() {
      return EMPTY_HEAD;
    },
    write(events, lines) {
      const text = jsonLines(events, lines);
      return new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
    },
    async close() {},
  };
}
