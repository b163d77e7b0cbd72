/**
 * The floor of a Node.js proxy on this machine (bench/proxy.ts): node:http in front of one
 * undici Pool, each answer streamed straight into the response by a minimal dispatch handler
 * (the way src/upstream/upstream.ts forwards), nothing else (no auth, no policy, no audit, no
 * metrics, no error mapping). What Gatehouse's own per-request work costs is the distance
 * between this target and "Gatehouse pass-through". Run as its own process so it can be
 * pinned: `node bench/node-proxy.ts <upstream url>`; prints `{"port":N}` when listening.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);
const pool = new Pool(process.argv[2]!, { connections: 128 });

class Answer implements Dispatcher.DispatchHandler {
  readonly res: ServerResponse;
  constructor(res: ServerResponse) {
    this.res = res;
  }
  onRequestStart(): void {}
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    const out: Record<string, string | string[]> = {};
    for (const k in headers) if (!HOP.has(k) && headers[k] !== undefined) out[k] = headers[k];
    this.res.writeHead(statusCode, out);
    this.res.on('drain', () => controller.resume());
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (chunk.length > 0 && !this.res.write(chunk)) controller.pause();
  }
  onResponseEnd(): void {
    this.res.end();
  }
  onResponseError(): void {
    if (!this.res.headersSent) this.res.writeHead(502).end();
    else this.res.destroy();
  }
}

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
  pool.dispatch({ path: req.url!, method: req.method!, headers, body: req.method === 'GET' ? null : req }, new Answer(res));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
