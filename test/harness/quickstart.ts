/**
 * ./scripts/quickstart as a person runs it, in its own process group: started in the background,
 * ready once it printed its closing line, stopped with Ctrl-C (SIGINT to the group).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { childEnv, ROOT, withoutFakeClock } from './paths.ts';

export interface Quickstart {
  /** What it printed so far: the gateway's log (stdout) and the quickstart's messages (stderr). */
  stdout(): string;
  stderr(): string;
  /** Ctrl-C; resolves with its exit code (0: a normal end). */
  stop(): Promise<number | null>;
  /** The terminal goes away (a closed window, a reader that quit): its output pipes are closed. */
  closeOutput(): void;
}

export async function startQuickstart(env: Record<string, string | undefined>, args: string[] = []): Promise<Quickstart> {
  // MLflow is a third-party server that cannot run under libfaketime; the quickstart's users read no dates.
  const child: ChildProcess = spawn(join(ROOT, 'scripts/quickstart'), args, { env: withoutFakeClock(childEnv(env)), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Ctrl-C stops both.')) resolve();
    });
    void exited.then((code) => reject(new Error(`the quickstart ended (${code}):\n${stderr}`)));
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    closeOutput() {
      child.stdout!.destroy();
      child.stderr!.destroy();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGINT');
      return exited;
    },
  };
}
