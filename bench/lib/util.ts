/** Shared helpers of the benchmark suite: settings, statistics, processes, pinning, memory. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';

export const QUICK = process.env.BENCH_QUICK === '1';

/** A numeric setting from the environment (BENCH_<NAME>), with its full and quick defaults. */
export function setting(name: string, full: number, quick: number): number {
  const raw = process.env[`BENCH_${name}`];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`BENCH_${name}=${raw} is not a number`);
    return n;
  }
  return QUICK ? quick : full;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The 1-minute load average, rounded, recorded next to every figure. */
export const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

export const CORES = cpus().length;

/**
 * Pins every thread of a process to a CPU list with taskset (`taskset -a -cp LIST PID`).
 * On a machine with fewer than 2 cores, or with BENCH_PIN=0, nothing is pinned.
 */
export function pin(pid: number, cpuList: string): boolean {
  if (!PINNING) return false;
  const r = spawnSync('taskset', ['-a', '-cp', cpuList, String(pid)], { stdio: 'ignore' });
  return r.status === 0;
}
export const PINNING = process.env.BENCH_PIN !== '0' && CORES >= 2 && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
/** The system under test gets core 0; the load generator, the stub upstream and the IdP share the last core. */
export const SUT_CPU = '0';
export const LOAD_CPU = String(CORES - 1);

/** A process and all its live descendants (from the parent pid in each /proc/<pid>/stat). */
export function processTree(root: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Field 4 (ppid) follows the command name, which is in parentheses and may contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parent.set(ppid, [...(parent.get(ppid) ?? []), Number(name)]);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(parent.get(out[i]!) ?? []));
  return out;
}

/** Pins a process, every thread of it and of its descendants (MLflow's CLI starts uvicorn as a child). */
export function pinTree(root: number, cpuList: string): boolean {
  return processTree(root).map((pid) => pin(pid, cpuList)).every(Boolean);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU time (user + system, all threads) spent so far by these processes, in milliseconds; a process gone counts 0. */
function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime: fields 14 and 15 of stat(5)
    } catch {
      /* exited */
    }
  }
  return (ticks * 1000) / CLK_TCK;
}

/** Starts measuring these processes' CPU time: the function returned gives the milliseconds they spent since. */
export function cpuMeter(pids: readonly number[]): () => number {
  const start = cpuMs(pids);
  return () => cpuMs(pids) - start;
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

/**
 * A gateway's metrics, read once from its internal listener (`/metrics`, Prometheus text): the
 * function returned sums the samples of `name` whose label text passes `labels` (all by default).
 */
export async function scrapeMetrics(internalUrl: string): Promise<(name: string, labels?: (labelText: string) => boolean) => number> {
  const lines = (await (await fetch(`${internalUrl}/metrics`)).text()).split('\n');
  return (name, labels = () => true) => {
    let sum = 0;
    for (const line of lines) {
      if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
      const value = line.lastIndexOf(' ');
      if (labels(line.slice(name.length, value))) sum += Number(line.slice(value + 1));
    }
    return sum;
  };
}

/** Samples a process's RSS while `work` runs; returns the peak (KiB). */
export async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakKiB: number }> {
  let peak = rssKiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssKiB(pid));
    } catch {
      /* process gone */
    }
  }, 20);
  try {
    const result = await work();
    return { result, peakKiB: Math.max(peak, rssKiB(pid)) };
  } finally {
    clearInterval(timer);
  }
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly output: string[];
  stop(): Promise<void>;
}

/** Spawns a process and waits until a line of its stdout or stderr satisfies `ready` (returns that line). */
export async function spawnUntil(cmd: string, args: readonly string[], ready: (line: string) => boolean, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Child & { line: string }> {
  const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} did not become ready:\n${output.join('\n').slice(-3000)}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code}:\n${output.join('\n').slice(-3000)}`)));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (l) => {
        if (output.length < 2000) output.push(l);
        if (ready(l)) {
          clearTimeout(timer);
          resolve(l);
        }
      });
    }
  });
  return { process: child, pid: child.pid!, output, line, stop: () => stopChild(child) };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

export function log(msg: string): void {
  process.stderr.write(`\x1b[1m[bench]\x1b[0m ${msg} (load ${load1()})\n`);
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
