/**
 * Workload 2: a real MLflow (the pinned 3.18) on the same data, three ways: direct (workspace
 * header set by the caller), Gatehouse in front (bearer JWT, contributor in one tenant through a
 * group binding, workspace tenancy, audit to a file), and MLflow's own `basic-auth` app with the
 * equivalent permissions (default NO_PERMISSIONS; the caller owns its tenant's experiments).
 * N experiments across 20 tenants (workspaces); the caller sees one tenant.
 *
 * MLflow runs on a core of its own, the callers and the gateway on the other; every cell reports
 * the CPU time per request of the MLflow process tree and of the gateway (/proc), beside req/s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMlflow } from '../test/harness/mlflow.ts';
import { startIdp } from '../test/harness/oidc-idp.ts';
import { closedLoop, type RequestSpec, type Sample } from './lib/load.ts';
import { startGatehouse } from './lib/procs.ts';
import { TENANTS, benchToken, fullPipelineConfig } from './proxy.ts';
import { LOAD_CPU, PINNING, SUT_CPU, cpuMeter, load1, log, median, pinTree, processTree, round, setting } from './lib/util.ts';

const PAGE = 50;
const RUNS = 40;

export interface MlflowTargetResult {
  readonly workload: string;
  readonly target: string;
  /** Median over the repetitions; each repetition's figure in `rpsRuns`. */
  readonly rps: number;
  readonly rpsRuns: number[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Summed over the repetitions. */
  readonly errors: number;
  /** Highest 1-minute load average seen at the start of a repetition. */
  readonly load: number;
  /** CPU time (user + system) per request of the MLflow server's process tree, median over the repetitions. */
  readonly mlflowCpuMsPerReq: number;
  /** The same for the gateway process (Gatehouse rows only). */
  readonly gatewayCpuMsPerReq?: number;
}
export interface Completeness {
  readonly target: string;
  readonly visible: number;
  readonly expected: number;
  readonly pages: number[];
  readonly complete: boolean;
}
export interface MlflowResult {
  readonly experiments: number;
  readonly tenants: number;
  readonly seconds: number;
  readonly concurrency: number;
  /** Interleaved repetitions per workload and target (medians reported). */
  readonly reps: number;
  readonly setupSeconds: number;
  /** Where each process ran (taskset), in words. */
  readonly pinning: string;
  readonly results: MlflowTargetResult[];
  readonly completeness: Completeness[];
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** The MLflow server answering this target, whose process tree's CPU time is measured. */
  readonly mlflowPid: number;
  runId: string;
  searchExperiment: string;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function post(url: string, path: string, headers: Record<string, string>, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200 && res.status !== 201) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, any>;
}

/**
 * MLflow's basic-auth app on a store that `preload` fills first through a plain `mlflow server`
 * on the same SQLite file. Through basic-auth every request hashes a password (≈ 0.3 s of CPU
 * here), so creating the other tenants' experiments through it took 13 of the suite's 40 minutes;
 * the caller's own experiments are still created through basic-auth, by the caller, so its
 * permissions are exactly those of an owner.
 */
async function startBasicAuthMlflow(preload: (url: string) => Promise<void>): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mlflow-auth-'));
  const plain = await startMlflow({ dir });
  try {
    await preload(plain.url);
  } finally {
    await plain.stop();
  }
  const ini = join(dir, 'basic_auth.ini');
  writeFileSync(ini, `[mlflow]\ndefault_permission = NO_PERMISSIONS\ndatabase_uri = sqlite:///${join(dir, 'auth.db')}\nadmin_username = admin\nadmin_password = bench-admin-password-1\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n`);
  const auth = await startMlflow({ dir, appName: 'basic-auth', env: { MLFLOW_AUTH_CONFIG_PATH: ini, MLFLOW_FLASK_SERVER_SECRET_KEY: 'bench-secret-key-0123456789' } });
  return {
    url: auth.url,
    pid: auth.process.pid!,
    async stop() {
      await auth.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** Walks every experiments/search page; complete = every page but the last is full and the union is the visible set. */
async function walk(t: Target, expected: number): Promise<Completeness> {
  const pages: number[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const r = await post(t.url, '/api/2.0/mlflow/experiments/search', t.headers, { max_results: PAGE, ...(token && { page_token: token }) });
    const exps = (r.experiments ?? []) as { experiment_id: string }[];
    pages.push(exps.length);
    for (const e of exps) seen.add(e.experiment_id);
    token = r.next_page_token as string | undefined;
  } while (token && pages.length < 1000);
  const full = pages.slice(0, -1).every((n) => n === PAGE);
  return { target: t.name, visible: seen.size, expected, pages, complete: full && seen.size === expected };
}

export async function runMlflowBench(): Promise<MlflowResult> {
  const experiments = setting('MLFLOW_EXPERIMENTS', 2000, 400);
  const seconds = setting('MLFLOW_SECONDS', 8, 3);
  const concurrency = setting('MLFLOW_CONCURRENCY', 4, 4);
  const reps = setting('MLFLOW_REPS', 5, 1);
  const perTenant = Math.floor(experiments / TENANTS.length);
  const t0 = performance.now();
  const jobs = TENANTS.flatMap((tenant) => Array.from({ length: perTenant }, (_, i) => ({ tenant, name: `${tenant}-exp-${i}` })));
  // The basic-auth store: the other 19 tenants' experiments, which the caller has no permission on
  // (default NO_PERMISSIONS), are written before the app starts; t01's are created by the caller below.
  const preload = (url: string) => mapLimit(jobs.filter((j) => j.tenant !== 't01'), 16, async (j) => void (await post(url, '/api/2.0/mlflow/experiments/create', {}, { name: j.name })));
  const [idp, ws, auth] = await Promise.all([startIdp(), startMlflow({ workspaces: true }), startBasicAuthMlflow(preload)]);
  let gh: Awaited<ReturnType<typeof startGatehouse>> | undefined;
  try {
    // Data, created once through MLflow's REST API directly, concurrently.
    for (const name of TENANTS) await post(ws.url, '/api/3.0/mlflow/workspaces', {}, { name });
    await mapLimit(jobs, 16, async (j) => void (await post(ws.url, '/api/2.0/mlflow/experiments/create', { 'x-mlflow-workspace': j.tenant }, { name: j.name })));
    const ADMIN = { authorization: basic('admin', 'bench-admin-password-1') };
    await post(auth.url, '/api/2.0/mlflow/users/create', ADMIN, { username: 'bench', password: 'bench-password-0123' });
    const BENCH = { authorization: basic('bench', 'bench-password-0123') };
    // The caller's tenant (t01) is owned by it (an owner's MANAGE permission, as basic-auth grants the creator).
    await mapLimit(jobs.filter((j) => j.tenant === 't01'), 4, async (j) => void (await post(auth.url, '/api/2.0/mlflow/experiments/create', BENCH, { name: j.name })));
    // MLflow gets a core to itself (its single worker cannot use more than one, the GIL); the
    // callers, the IdP and the gateway share the other. The gateway competes with the load
    // generator, never with MLflow: the shape of a deployment where it runs in its own pod.
    // Pinned after the setup, which hashes a password per basic-auth request on both cores.
    gh = await startGatehouse(fullPipelineConfig(ws.url, idp.issuer), { cpu: LOAD_CPU });
    const gatewayPid = gh.pid;
    const token = await benchToken(idp, ['bench-writers']);
    const targets: Target[] = [
      { name: 'direct', url: ws.url, mlflowPid: ws.process.pid!, headers: { 'x-mlflow-workspace': 't01' }, runId: '', searchExperiment: '' },
      { name: 'gatehouse', url: gh.url, mlflowPid: ws.process.pid!, headers: { authorization: `Bearer ${token}` }, runId: '', searchExperiment: '' },
      { name: 'mlflow-basic-auth', url: auth.url, mlflowPid: auth.pid, headers: BENCH, runId: '', searchExperiment: '' },
    ];
    for (const t of targets) {
      const { experiment_id } = await post(t.url, '/api/2.0/mlflow/experiments/create', t.headers, { name: `t01-runs-${t.name}` });
      t.searchExperiment = experiment_id as string;
      const ids: string[] = [];
      for (let i = 0; i < RUNS; i++) ids.push((await post(t.url, '/api/2.0/mlflow/runs/create', t.headers, { experiment_id, start_time: Date.now() })).run.info.run_id as string);
      t.runId = ids[0]!;
    }
    const setupSeconds = round((performance.now() - t0) / 1000, 1);
    const pinned = pinTree(ws.process.pid!, SUT_CPU) && pinTree(auth.pid, SUT_CPU);
    const pinning = PINNING && pinned
      ? `both MLflow servers (every process and thread: taskset -a -cp ${SUT_CPU}) on CPU ${SUT_CPU}; the load generator, the IdP and Gatehouse on CPU ${LOAD_CPU}`
      : 'not pinned';
    log(`mlflow: ${experiments} experiments in ${TENANTS.length} tenants ready after ${setupSeconds} s`);
    const completeness: Completeness[] = [];
    // t01 holds its share of experiments plus the runs experiments made above: two in the workspace
    // server (direct's and Gatehouse's), one in the basic-auth server (the caller sees only its own).
    const visible = (t: Target) => perTenant + (t.name === 'mlflow-basic-auth' ? 1 : 2);
    for (const t of targets) completeness.push(await walk(t, visible(t)));
    const json = (t: Target) => ({ ...t.headers, 'content-type': 'application/json' });
    // A first page is full: PAGE experiments, or all of t01's when it holds fewer (BENCH_QUICK).
    const workloads: { name: string; spec: (t: Target, i: number) => RequestSpec; check?: (t: Target, body: string) => boolean }[] = [
      { name: 'runs/get', spec: (t) => ({ method: 'GET', path: `/api/2.0/mlflow/runs/get?run_id=${t.runId}`, headers: t.headers }) },
      { name: 'log-metric', spec: (t, i) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/log-metric', headers: json(t), body: JSON.stringify({ run_id: t.runId, key: 'loss', value: i / 7, timestamp: Date.now(), step: i }) }) },
      {
        name: 'log-batch',
        spec: (t, i) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', headers: json(t), body: JSON.stringify({ run_id: t.runId, metrics: Array.from({ length: 10 }, (_, k) => ({ key: `m${k}`, value: i + k, timestamp: Date.now(), step: i })) }) }),
      },
      { name: 'experiments/search', spec: (t) => ({ method: 'POST', path: '/api/2.0/mlflow/experiments/search', headers: json(t), body: JSON.stringify({ max_results: PAGE }) }), check: (t, b) => (JSON.parse(b) as { experiments?: unknown[] }).experiments?.length === Math.min(PAGE, visible(t)) },
      { name: 'runs/search', spec: (t) => ({ method: 'POST', path: '/api/2.0/mlflow/runs/search', headers: json(t), body: JSON.stringify({ experiment_ids: [t.searchExperiment], max_results: 20 }) }), check: (_t, b) => (JSON.parse(b) as { runs?: unknown[] }).runs?.length === 20 },
    ];
    const results: MlflowTargetResult[] = [];
    for (const w of workloads) {
      // Repetitions interleaved over the targets (as in the proxy workload), so that a burst of
      // background load hits all of them; medians (MLflow pinned, one cell still swings by 10-20 %).
      const samples = new Map<string, { s: Sample; load: number; mlflowCpu: number; gatewayCpu: number }[]>(targets.map((t) => [t.name, []]));
      for (let r = 0; r < reps; r++) {
        for (const t of targets) {
          const load = load1();
          const spent = { mlflow: cpuMeter(processTree(t.mlflowPid)), gateway: cpuMeter([gatewayPid]) };
          const s: Sample = await closedLoop(new URL(t.url).origin, { seconds, concurrency, next: (i) => w.spec(t, i), ...(w.check && { check: (_st: number, b: string) => w.check!(t, b) }) });
          const mlflowCpu = spent.mlflow() / Math.max(1, s.requests);
          const gatewayCpu = spent.gateway() / Math.max(1, s.requests);
          samples.get(t.name)!.push({ s, load, mlflowCpu, gatewayCpu });
          log(`mlflow ${w.name} ${t.name} rep ${r + 1}/${reps}: ${round(s.rps, 1)} req/s p50 ${round(s.p50Ms)} ms p99 ${round(s.p99Ms)} ms errors ${s.errors}; CPU per request: MLflow ${round(mlflowCpu)} ms, gateway ${round(gatewayCpu)} ms`);
        }
      }
      for (const t of targets) {
        const runs = samples.get(t.name)!;
        results.push({
          workload: w.name,
          target: t.name,
          rps: round(median(runs.map((x) => x.s.rps)), 1),
          rpsRuns: runs.map((x) => round(x.s.rps, 1)),
          p50Ms: round(median(runs.map((x) => x.s.p50Ms))),
          p99Ms: round(median(runs.map((x) => x.s.p99Ms))),
          errors: runs.reduce((n, x) => n + x.s.errors, 0),
          load: Math.max(...runs.map((x) => x.load)),
          mlflowCpuMsPerReq: round(median(runs.map((x) => x.mlflowCpu)), 3),
          ...(t.name === 'gatehouse' && { gatewayCpuMsPerReq: round(median(runs.map((x) => x.gatewayCpu)), 3) }),
        });
      }
    }
    return { experiments: perTenant * TENANTS.length, tenants: TENANTS.length, seconds, concurrency, reps, setupSeconds, pinning, results, completeness };
  } finally {
    await gh?.stop();
    await Promise.all([ws.stop(), auth.stop(), idp.close()]);
  }
}
