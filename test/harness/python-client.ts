/** Runs a Python script with the MLflow virtualenv, as a user's training script would run. */
import { spawn } from 'node:child_process';
import { requireMlflowVenv } from './paths.ts';

export interface PythonResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runPython(script: string, env: Record<string, string>, timeoutMs = 600_000): Promise<PythonResult> {
  const python = requireMlflowVenv();
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR ?? '/tmp', PYTHONUNBUFFERED: '1', ...env },
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
