/**
 * Load generators: wrk (closed loop, for the fast stub workloads) and a small undici-based
 * closed-loop generator for request bodies and per-request checks (real MLflow workloads).
 */
import { spawn } from 'node:child_process';
import { Pool } from 'undici';
import { LOAD_CPU, PINNING, percentile } from './util.ts';

export interface Sample {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Responses that were not 2xx/3xx, plus socket errors and timeouts. */
  readonly errors: number;
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us':
      return v / 1000;
    case 'ms':
      return v;
    case 's':
      return v * 1000;
    case 'm':
      return v * 60_000;
    default:
      throw new Error(`wrk latency unit ${unit}`);
  }
}

/** Parses `wrk --latency` output. */
export function parseWrk(out: string): Sample {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const lat = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? ms(m[1]!, m[2]!) : Number.NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  if (!Number.isFinite(rps)) throw new Error(`could not parse wrk output:\n${out}`);
  return { rps, p50Ms: lat('50'), p99Ms: lat('99'), requests, errors: non2xx + sockErrors };
}

export interface WrkOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One wrk run (`-t1 -c50 --latency`), pinned to the load core when pinning is on. */
export function wrk(o: WrkOptions): Promise<Sample> {
  const args = ['-t1', `-c${o.connections ?? 50}`, `-d${o.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(o.url);
  const [cmd, argv] = PINNING ? ['taskset', ['-c', LOAD_CPU, 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      try {
        resolve(parseWrk(out));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * A closed loop of `concurrency` callers for `seconds`: each sends `next(i)` and waits for the
 * answer. `check` sees every response body; a non-2xx status or a failed check counts as an error.
 */
export async function closedLoop(
  origin: string,
  o: { seconds: number; concurrency: number; next: (i: number) => RequestSpec; check?: (status: number, body: string) => boolean },
): Promise<Sample> {
  const pool = new Pool(origin, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const start = performance.now();
  const deadline = start + o.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const spec = o.next(counter++);
      const t0 = performance.now();
      try {
        const res = await pool.request({ origin, method: spec.method, path: spec.path, headers: spec.headers, body: spec.body });
        const text = await res.body.text();
        latencies.push(performance.now() - t0);
        if (res.statusCode >= 300 || (o.check && !o.check(res.statusCode, text))) errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests: latencies.length, errors };
}
