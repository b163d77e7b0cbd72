/**
 * A real PostgreSQL for tests (Debian's `postgresql` package; `scripts/test` installs it): one
 * throwaway cluster per test file on a free loopback port, its Unix socket in a temp directory,
 * and a fresh database per suite (`createDatabase`). `stop()`/`start()` take the server down and
 * bring it back on the same port (store-outage tests).
 *
 * The cluster's default collation is ICU `en-US`, as on most managed PostgreSQL services, not
 * the byte order "C": string comparisons in the store must not depend on it.
 */
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './ports.ts';
import { childEnv } from './paths.ts';

const execFile = promisify(execFileCb);

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly running: boolean;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust authentication, no password). */
  url(database: string): string;
  /** A new, empty database with a unique name. */
  createDatabase(prefix?: string): Promise<string>;
  /**
   * Stops the server: `fast` (default) rolls back open transactions and closes every connection
   * cleanly; `immediate` kills the server processes at once (a crash, recovered on the next start).
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The newest installed server's bin directory; a missing PostgreSQL fails, never skips. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL is missing: run ./scripts/test (it installs it) or apt-get install -y postgresql');
  return join(root, versions[0]!, 'bin');
}

/** initdb refuses to run as root: as root, the cluster belongs to the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

let databases = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'gh-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'log');
  const port = await freePort();
  const opts = { ...owner, env: childEnv({ LC_ALL: 'C.UTF-8' }) };
  await execFile(
    join(bin, 'initdb'),
    ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en-US'],
    opts,
  );
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c shared_buffers=16MB',
    '-c max_connections=60',
  ].join(' ');
  let running = false;
  const pgCtl = async (...args: string[]) => {
    try {
      await execFile(join(bin, 'pg_ctl'), ['-D', data, ...args], opts);
    } catch (err) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
      throw new Error(`pg_ctl ${args.join(' ')} failed: ${(err as Error).message}\n${log}`);
    }
  };
  const start = async () => {
    await pgCtl('-o', serverOptions, '-l', logFile, '-w', '-t', '60', 'start');
    running = true;
  };
  await start();
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    get running() {
      return running;
    },
    url,
    async createDatabase(prefix = 'gatehouse') {
      const name = `${prefix}_${process.pid}_${++databases}`;
      const client = new Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      return name;
    },
    async stop(mode = 'fast') {
      await pgCtl('-m', mode, '-w', 'stop');
      running = false;
    },
    start,
    async close() {
      if (running) await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => {});
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
