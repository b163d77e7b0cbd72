/**
 * A TCP proxy that injects network faults between the gateway and one of its dependencies (the
 * IdP's JWKS endpoint, slapd, a webhook receiver): the real server stays as it is, the proxy
 * decides what the gateway's connections meet.
 *
 * - `pass`: bytes flow both ways.
 * - `reset`: every connection, open or new, is reset (TCP RST) at once.
 * - `hang`: a black hole: new connections are accepted and never answered, and bytes on open ones
 *   are dropped both ways (they stay open, nothing arrives).
 * - `down`: the listener is closed (connection refused) and open connections are reset.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

export type FaultMode = 'pass' | 'reset' | 'hang' | 'down';

export interface FaultProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly mode: FaultMode;
  /** Connections accepted since start. */
  readonly accepted: number;
  set(mode: FaultMode): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let mode: FaultMode = 'pass';
  let server: Server | undefined;
  let accepted = 0;

  const reset = (s: Socket) => (s.destroyed ? undefined : s.resetAndDestroy());
  const track = (s: Socket) => {
    open.add(s);
    s.on('error', () => undefined);
    s.once('close', () => open.delete(s));
  };

  function onConnection(client: Socket): void {
    accepted++;
    track(client);
    if (mode === 'reset') return void reset(client);
    if (mode === 'hang') return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on('data', (d: Buffer) => mode === 'hang' || upstream.write(d));
    upstream.on('data', (d: Buffer) => mode === 'hang' || client.write(d));
    client.once('close', () => reset(upstream));
    upstream.once('close', () => reset(client));
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });
  const unlisten = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
    });

  await listen();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    async set(next) {
      mode = next;
      if (next === 'reset' || next === 'down') for (const s of open) reset(s);
      if (next === 'down') await unlisten();
      else if (!server) await listen();
    },
    async close() {
      for (const s of open) reset(s);
      await unlisten();
    },
  };
}
