/**
 * What the fault suites share: a gateway process started from a YAML configuration (so a crash
 * is a process exit, as in production), concurrent load against it, and the checks every fault
 * ends with — the process is still up, every answer was a success or an MLflow-shaped 503, and
 * the gateway serves again once the dependency is back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGatehouse, type Spawned } from '../harness/gatehouse.ts';

export interface FaultGateway extends Spawned {
  /** Fails the test with the process's output when the process is gone. */
  assertAlive(): void;
  close(): Promise<void>;
}

/** `bin/gatehouse serve` with `config` (JSON is YAML) as its configuration file. */
export async function spawnWithConfig(mlflowUrl: string, config: Record<string, unknown>, env: Record<string, string> = {}): Promise<FaultGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-faults-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, JSON.stringify(config));
  const gh = await spawnGatehouse(mlflowUrl, { GATEHOUSE_CONFIG: file, ...env }).catch((err: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return Object.assign(gh, {
    assertAlive() {
      const out = gh.output.join('\n');
      assert.equal(gh.process.exitCode, null, `the gateway exited (code ${gh.process.exitCode}, signal ${gh.process.signalCode}):\n${out.slice(-6000)}`);
      assert.doesNotMatch(out, /Unhandled 'error' event|uncaughtException|unhandled rejection/i, out.slice(-6000));
    },
    async close() {
      await gh.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  /** Time from sending to the end of the body (milliseconds). */
  readonly ms?: number;
}

/** One request; a network failure (reset, refused) is status 0 with the error's text. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text(), ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, body: `${(err as Error).name}: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`, ms: performance.now() - t0 };
  }
}

/** MLflow's error shape (`{"error_code", "message"}`) with a 503's code, as the MLflow client retries it. */
export function assertUnavailable(a: Answer, gatehouseCode?: string): void {
  assert.equal(a.status, 503, a.body);
  const body = JSON.parse(a.body) as { error_code?: unknown; message?: unknown; gatehouse_code?: unknown };
  assert.equal(body.error_code, 'TEMPORARILY_UNAVAILABLE', a.body);
  assert.equal(typeof body.message, 'string', a.body);
  if (gatehouseCode !== undefined) assert.equal(body.gatehouse_code, gatehouseCode, a.body);
}

export interface Load {
  /** Answers so far, by status (0: network failure). */
  readonly counts: Map<number, number>;
  /** Answers that were neither 200 nor an MLflow-shaped 503 (at most 20 kept). */
  readonly unexpected: Answer[];
  stop(): Promise<void>;
}

/** `workers` loops each sending `request` back to back until stopped. */
export function startLoad(workers: number, request: () => Promise<Answer>): Load {
  const counts = new Map<number, number>();
  const unexpected: Answer[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const a = await request();
      counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
      let ok = a.status === 200;
      if (a.status === 503) {
        try {
          assertUnavailable(a);
          ok = true;
        } catch {
          ok = false;
        }
      }
      if (!ok && unexpected.length < 20) unexpected.push(a);
      // A gateway that is gone answers at once: do not spin on refused connections.
      if (a.status === 0) await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    counts,
    unexpected,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Sends `request` until it answers 200, at most `attempts` times, 100 ms apart, checking the
 * process is alive before each; returns the time it took (milliseconds, a figure for the docs).
 */
export async function recovered(gh: Pick<FaultGateway, 'assertAlive'>, request: () => Promise<Answer>, attempts = 300): Promise<number> {
  const t0 = performance.now();
  let last: Answer | undefined;
  for (let i = 1; i <= attempts; i++) {
    gh.assertAlive();
    last = await request();
    if (last.status === 200) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`not recovered after ${attempts} attempts; last answer ${last?.status}: ${last?.body}`);
}

/** Sends `request` until it answers 503, at most `attempts` times (the gateway may need a moment to see the outage). */
export async function unavailable(gh: Pick<FaultGateway, 'assertAlive'>, request: () => Promise<Answer>, attempts = 100): Promise<Answer> {
  let last: Answer | undefined;
  for (let i = 0; i < attempts; i++) {
    gh.assertAlive();
    last = await request();
    if (last.status === 503) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never answered 503 during the outage; last answer ${last?.status}: ${last?.body}`);
}
