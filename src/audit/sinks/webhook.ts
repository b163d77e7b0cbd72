/**
 * Audit sink: batches of events POSTed as JSON (`{"events": [...]}`) to an HTTP endpoint
 * (a SIEM collector). Retries with exponential backoff on network errors, 408, 429 and 5xx.
 * Best effort only: a remote endpoint is not a durable acceptance the gateway can wait on.
 */
import { z } from 'zod';
import { EMPTY_HEAD } from '../chain.ts';
import type { AuditSink } from '../sink.ts';

export const webhookSinkSchema = z
  .strictObject({
    type: z.literal('webhook'),
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional().describe('Sink id for metrics (default `webhook`).'),
    url: z.url({ protocol: /^https?$/ }).describe('Endpoint receiving `POST {"events": [...]}`.'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra request headers (e.g. an `authorization` for the collector). Values are secrets: never logged.'),
    batchSize: z.number().int().min(1).max(10_000).default(100).describe('Events per request.'),
    flushIntervalMs: z.number().int().min(0).default(1000).describe('Longest wait to fill a batch (milliseconds).'),
    maxRetries: z.number().int().min(0).default(5).describe('Retries of a failed batch before its events count as lost.'),
    retryBaseMs: z.number().int().min(1).default(500).describe('First retry delay (milliseconds), doubled per retry, at most 30 s.'),
    timeoutMs: z.number().int().min(1).default(10_000).describe('Timeout of one request (milliseconds).'),
  })
  .describe('Batches POSTed to an HTTP endpoint with retry; best effort.');

export type WebhookSinkConfig = z.infer<typeof webhookSinkSchema>;

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export function webhookSink(config: WebhookSinkConfig, deps: { sleep?: (ms: number) => Promise<void> } = {}): AuditSink {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    id: config.id ?? 'webhook',
    type: 'webhook',
    durable: false,
    batch: { size: config.batchSize, intervalMs: config.flushIntervalMs },
    async open() {
      return EMPTY_HEAD;
    },
    async write(events, lines) {
      const body = lines ? `{"events":[${lines.join(',')}]}` : JSON.stringify({ events });
      for (let attempt = 0; ; attempt++) {
        let failure: string;
        try {
          const res = await fetch(config.url, {
            method: 'POST',
            headers: { ...config.headers, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(config.timeoutMs),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.ok) return;
          failure = `status ${res.status}`;
          if (!RETRYABLE(res.status)) throw new Error(`webhook ${config.id ?? 'webhook'}: ${failure}`);
        } catch (err) {
          if ((err as Error).message.startsWith('webhook ')) throw err;
          failure = (err as Error).name;
        }
        if (attempt >= config.maxRetries) throw new Error(`webhook ${config.id ?? 'webhook'}: gave up after ${attempt + 1} attempts (${failure})`);
        await sleep(Math.min(config.retryBaseMs * 2 ** attempt, 30_000));
      }
    },
    async close() {},
  };
}
