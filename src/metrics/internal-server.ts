/**
 * The internal listener (default 127.0.0.1:9090): `/metrics` for Prometheus and nothing else.
 * Kept off the public listener so metrics never leak to MLflow clients.
 */
import type { Server } from 'node:http';
import { createServer } from '../lib/http-server.ts';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface InternalServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createInternalServer(metrics: Metrics): InternalServer {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.name}\n`),
    );
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
