/**
 * A real MLflow tracking server for tests: the pinned version from the project virtualenv,
 * on a free loopback port, SQLite backend, proxied artifacts in a temporary directory;
 * optionally with workspaces. Job execution is off (Gatehouse denies the job routes, and its
 * eight huey workers cost ~1.2 GiB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireMlflowVenv, MLFLOW_VENV } from './paths.ts';
import { freePort, waitFor } from './ports.ts';

export interface MlflowServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly workspaces: boolean;
  readonly process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export interface MlflowOptions {
  readonly workspaces?: boolean;
  /** A directory of the caller's (store, artifacts, log), kept on stop: a second server can reuse its store. Default a fresh one, removed on stop. */
  readonly dir?: string;
  /** `mlflow server --app-name`, e.g. `basic-auth` (MLflow's own authentication app). */
  readonly appName?: string;
  /** Added to the server's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export async function startMlflow(options: MlflowOptions = {}): Promise<MlflowServer> {
  requireMlflowVenv();
  const workspaces = options.workspaces ?? false;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gh-mlflow-'));
  const port = await freePort();
  const logFile = join(dir, 'mlflow.log');
  const args = [
    'server',
    ...(options.appName ? ['--app-name', options.appName] : []),
    '--host', '127.0.0.1',
    '--port', String(port),
    '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`,
    '--artifacts-destination', join(dir, 'artifacts'),
    '--workers', '1',
    workspaces ? '--enable-workspaces' : '--disable-workspaces',
  ];
  const fd = openSync(logFile, 'a');
  const child = spawn(join(MLFLOW_VENV, 'bin/mlflow'), args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', PYTHONUNBUFFERED: '1', ...options.env },
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `code ${code} signal ${signal}`));
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFileSync(logFile, 'utf8');
  try {
    await waitFor(`MLflow ${options.appName ?? ''}`, async () => (await fetch(`${url}/health`)).ok, 120_000, () => exited && `${exited}\n${log().slice(-3000)}`);
  } catch (err) {
    killGroup(child);
    throw err;
  }
  return {
    url,
    port,
    dir,
    workspaces,
    process: child,
    log,
    async stop() {
      await new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        killGroup(child);
        setTimeout(() => killGroup(child, 'SIGKILL'), 10_000).unref();
      });
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** An OTLP/JSON trace export (`POST /v1/traces`) holding one root span, ids in hex as the OTLP spec writes them. */
export function otlpBody(traceHex: string, spanHex: string): unknown {
  const span = { traceId: traceHex, spanId: spanHex, name: 's', startTimeUnixNano: '1000', endTimeUnixNano: '2000', kind: 1 };
  return { resourceSpans: [{ resource: {}, scopeSpans: [{ scope: {}, spans: [span] }] }] };
}
