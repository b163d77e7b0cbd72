/**
 * A real Redis for tests (Debian's `redis-server`; `scripts/test` installs it): one throwaway
 * server per test file on a free loopback port, no persistence (`--save '' --appendonly no`).
 * `stop()`/`start()` take it down and bring it back on the same port (outage tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort, waitFor } from './ports.ts';
import { withoutFakeClock } from './paths.ts';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0` */
  readonly url: string;
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, until `resume` (SIGCONT). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

function binary(): string {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']) if (existsSync(p)) return p;
  throw new Error('redis-server is missing: run ./scripts/test (it installs it) or apt-get install -y redis-server');
}

/** True when the server answers PING with PONG (a raw RESP exchange, no client library). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.startsWith('+PONG'));
      }
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const bin = binary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gh-redis-'));
  let child: ChildProcess | undefined;
  let exited: string | undefined;
  let log = '';

  async function start(): Promise<void> {
    exited = undefined;
    const c = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // redis-server cannot run under libfaketime (its allocator's clock_gettime recursion makes
      // libfaketime give up and the server spins without listening): Redis keeps the real clock, as
      // on another machine; only durations (TTLs) have to agree, and they do.
      env: withoutFakeClock(process.env),
    });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    c.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    c.on('exit', (code, signal) => (exited = `code ${code} signal ${signal}\n${log}`));
    await waitFor('redis-server', () => pong(port), 10_000, () => exited);
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get running() {
      return child !== undefined && exited === undefined;
    },
    stop,
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
