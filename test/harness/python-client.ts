/** Runs a Python script with the MLflow virtualenv, as a user's training script would run. */
import { spawn } from 'node:child_process';
import { childEnv, requireMlflowVenv } from './paths.ts';

export interface PythonResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runPython(script: string, env: Record<string, string>, timeoutMs = 600_000): Promise<PythonResult> {
  const python = requireMlflowVenv();
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], {
      env: childEnv({ TMPDIR: process.env.TMPDIR ?? '/tmp', PYTHONUNBUFFERED: '1', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} timed out after ${timeoutMs} ms\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The e2e suites' way of acting as a user with the stock MLflow client: a Python script reads
 * `GH_ACTIONS` (`[name, action, ...args]`, `$name` naming an earlier result) and prints
 * `{results, values}` as its last line. Values carry over from one call to the next.
 */
export interface ClientActions<O> {
  /** Results by action name; `env` adds variables (MLFLOW_WORKSPACE, ...). */
  as(user: string, actions: unknown[][], env?: Record<string, string>): Promise<Record<string, O>>;
  /** Everything the actions produced so far, by name. */
  readonly values: Record<string, unknown>;
}

export function clientActions<O>(script: string, trackingUri: () => string, password: string, env: Record<string, string> = {}): ClientActions<O> {
  const values: Record<string, unknown> = {};
  return {
    values,
    async as(user, actions, extra = {}) {
      const r = await runPython(script, {
        MLFLOW_TRACKING_URI: trackingUri(),
        MLFLOW_TRACKING_USERNAME: user,
        MLFLOW_TRACKING_PASSWORD: password,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
        ...env,
        ...extra,
        GH_ACTIONS: JSON.stringify(actions),
        GH_VALUES: JSON.stringify(values),
      });
      if (r.code !== 0) throw new Error(`${script} exited ${r.code}:\n${r.stderr.slice(-4000)}`);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { results: Record<string, O>; values: Record<string, unknown> };
      Object.assign(values, out.values);
      return out.results;
    },
  };
}
