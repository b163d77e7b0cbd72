/**
 * The webhook sink against a real local HTTP receiver: batching, retry with backoff, giving
 * up (counted as lost), no retry on a client error, and queue overflow counted as lost.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyChain } from '../../src/audit/chain.ts';
import type { AuditEvent, ChainedEvent } from '../../src/audit/event.ts';
import { openSinkQueue, type LossReason } from '../../src/audit/queue.ts';
import { webhookSink, webhookSinkSchema } from '../../src/audit/sinks/webhook.ts';

const TOKEN = 'Bearer collector-secret-token';
let server: Server;
let url: string;
let received: Array<{ auth: string | undefined; events: ChainedEvent[] }>;
let respond: (req: IncomingMessage, res: ServerResponse, n: number) => void;

before(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += String(c);
    received.push({ auth: req.headers.authorization, events: (JSON.parse(body) as { events: ChainedEvent[] }).events });
    respond(req, res, received.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
});
after(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received = [];
  respond = (_req, res) => res.writeHead(204).end();
});

const event = (i: number) => ({ v: 1, phase: 'complete', time: new Date(0).toISOString(), requestId: `r${i}` }) as unknown as AuditEvent;

function open(options: Record<string, unknown>, maxQueue = 1000) {
  const losses: Array<[LossReason, number, string]> = [];
  const config = webhookSinkSchema.parse({ type: 'webhook', url, headers: { authorization: TOKEN }, retryBaseMs: 1, ...options });
  return {
    losses,
    queue: openSinkQueue(webhookSink(config), { maxQueue, onLoss: (_s, reason, n, err) => losses.push([reason, n, err?.message ?? '']) }),
  };
}

test('events arrive in batches, chained, after retries of a failing receiver', async () => {
  respond = (_req, res, n) => res.writeHead(n <= 2 ? 503 : 200).end();
  const { queue, losses } = open({ batchSize: 5, flushIntervalMs: 20 });
  const q = await queue;
  await Promise.all(Array.from({ length: 12 }, (_, i) => q.push(event(i + 1))));
  await q.close(1000);
  assert.deepEqual(losses, []);
  const accepted = received.slice(2);
  assert.equal(received[0]!.events[0]!.seq, 1, 'the failed attempts carried the same batch');
  assert.ok(accepted.every((b) => b.events.length <= 5 && b.auth === TOKEN));
  const events = accepted.flatMap((b) => b.events);
  assert.deepEqual(events.map((e) => e.requestId), Array.from({ length: 12 }, (_, i) => `r${i + 1}`));
  assert.deepEqual(verifyChain(events.map((e, i) => ({ where: `#${i}`, event: e }))).problems, []);
});

test('a receiver that keeps failing: the batch is lost after maxRetries, counted, no secret in the error', async () => {
  respond = (_req, res) => res.writeHead(500).end();
  const { queue, losses } = open({ batchSize: 10, flushIntervalMs: 0, maxRetries: 2 });
  const q = await queue;
  await assert.rejects(q.push(event(1)), /gave up after 3 attempts \(status 500\)/);
  assert.equal(received.length, 3);
  assert.deepEqual(losses.map(([r, n]) => [r, n]), [['error', 1]]);
  assert.ok(!losses[0]![2].includes('collector-secret'));
  // The chain did not move: the next event that gets through is seq 1.
  respond = (_req, res) => res.writeHead(200).end();
  await q.push(event(2));
  assert.equal(received.at(-1)!.events[0]!.seq, 1);
  await q.close(1000);
});

test('a client error is not retried', async () => {
  respond = (_req, res) => res.writeHead(400).end();
  const { queue, losses } = open({ flushIntervalMs: 0 });
  const q = await queue;
  await assert.rejects(q.push(event(1)), /status 400/);
  assert.equal(received.length, 1);
  assert.deepEqual(losses.map(([r]) => r), ['error']);
  await q.close(1000);
});

test('a full queue loses events and counts them as overflow', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  respond = (_req, res) => void held.then(() => res.writeHead(200).end());
  const { queue, losses } = open({ flushIntervalMs: 0, batchSize: 1 }, 2);
  const q = await queue;
  const first = q.push(event(1)); // taken by the writer at once
  await new Promise((r) => setTimeout(r, 50));
  const queued = [q.push(event(2)), q.push(event(3))];
  assert.equal(q.depth(), 2);
  await assert.rejects(q.push(event(4)), /queue full/);
  await assert.rejects(q.push(event(5)), /queue full/);
  assert.deepEqual(losses.map(([r, n]) => [r, n]), [['overflow', 1], ['overflow', 1]]);
  release();
  await Promise.all([first, ...queued]);
  assert.deepEqual(received.flatMap((b) => b.events.map((e) => [e.requestId, e.seq])), [['r1', 1], ['r2', 2], ['r3', 3]]);
  await q.close(1000);
});
