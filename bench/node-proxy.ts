/**
 * The floor of a Node.js proxy on this machine (bench/proxy.ts): node:http in front of one
 * undici Pool, `Pool.stream` straight into the response, nothing else (no auth, no policy, no
 * audit, no metrics). What Gatehouse's own per-request work costs is the distance between this
 * target and "Gatehouse pass-through". Run as its own process so it can be pinned:
 * `node bench/node-proxy.ts <upstream url>`; prints `{"port":N}` when listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);
const pool = new Pool(process.argv[2]!, { connections: 128 });
const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
  pool
    .stream({ path: req.url!, method: req.method as 'GET', headers, body: req.method === 'GET' ? null : req }, ({ statusCode, headers: h }) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v as string | string[];
      res.writeHead(statusCode, out);
      return res;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
