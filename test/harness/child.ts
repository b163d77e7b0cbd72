/**
 * A server a test runs as its own child process and may stop and start again on the same ports
 * (outage tests): its last output is kept for the error when it exits before it is ready.
 */
import type { ChildProcess } from 'node:child_process';
import { waitFor } from './ports.ts';

export interface Supervised {
  readonly running: boolean;
  /** Launches the process and waits until `ready` says so (or it exits: an error with its output). */
  start(): Promise<void>;
  /** Stops it with `signal` (default the one given to supervise) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function supervise(what: string, launch: () => ChildProcess, ready: () => Promise<boolean>, o: { readonly timeoutMs: number; readonly signal: NodeJS.Signals }): Supervised {
  let child: ChildProcess | undefined;
  let exited: string | undefined;
  let log = '';
  return {
    get running() {
      return child !== undefined && exited === undefined;
    },
    async start() {
      exited = undefined;
      const c = launch();
      child = c;
      c.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      c.on('exit', (code, signal) => (exited = `code ${code} signal ${signal}\n${log}`));
      await waitFor(what, ready, o.timeoutMs, () => exited);
    },
    async stop(signal = o.signal) {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill(signal);
      });
    },
  };
}
