/**
 * Workload 1: proxy overhead on a fast stub upstream. Targets: the stub alone (direct), nginx
 * as a plain reverse proxy, Gatehouse pass-through, Gatehouse with the full pipeline, and
 * oauth2-proxy (authentication only) when it could be built. wrk -t1 -c50, a warm-up per target,
 * then several repetitions interleaved round-robin; medians.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainFiles } from '../src/audit/sinks/file.ts';
import { RESOURCE, startIdp, type TestIdp } from '../test/harness/oidc-idp.ts';
import { wrk, type Sample } from './lib/load.ts';
import { OAUTH2_PROXY, startGatehouse, startNginx, startNodeProxy, startOauth2Proxy, startStubServer, ADMIN_AUTH, type Served } from './lib/procs.ts';
import { closedLoop } from './lib/load.ts';
import { LOAD_CPU, PINNING, SUT_CPU, cpuMeter, load1, log, median, pin, round, scrapeMetrics, setting } from './lib/util.ts';

export const TENANTS = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
const PATH = '/api/2.0/mlflow/experiments/get?experiment_id=123456789';
const FAST_SCRYPT = { cost: 1024, blockSize: 8, parallelization: 1 };
const OPEN_LIMIT = { rate: 1e9, burst: 1e9 };
/** The slow-upstream cell: about MLflow's own latency per request here (7–12 ms of CPU, 30 ms answers with 4 callers). */
const SLOW_DELAY_MS = 30;
const SLOW_CALLERS = 4;

export interface TargetResult {
  readonly name: string;
  readonly label: string;
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly reps: number;
  readonly load: number[];
  readonly vsNginx?: { rps: number; p50DeltaMs: number; p99DeltaMs: number };
  readonly samples: Sample[];
  /** The target's own CPU time (user + system, all threads, from /proc) per request under wrk, median over the repetitions. */
  readonly cpuUsPerReq: number;
  /** The slow-upstream cell: 4 closed-loop callers, the stub answering after SLOW_DELAY_MS; latencies as the callers saw them (medians over the repetitions). */
  readonly slow: { rps: number; p50Ms: number; p99Ms: number; cpuUsPerReq: number; cpuUsRuns: number[] };
}

export interface ProxyResult {
  readonly settings: { seconds: number; reps: number; warmupSeconds: number; connections: number; pinned: boolean; pinning: string; slowSeconds: number; slowDelayMs: number; slowCallers: number };
  readonly targets: TargetResult[];
  readonly oauth2Proxy: { measured: boolean; why?: string; version?: string };
  readonly auditEvents: number;
  /** Events the full pipeline's best-effort audit dropped (`gatehouse_audit_events_lost_total`). */
  readonly auditLost: number;
}

export function passThroughConfig(upstream: string): Record<string, unknown> {
  return {
    mlflow: { url: upstream },
    authorization: { mode: 'dev-allow-all' },
    auth: { providers: [{ type: 'local', scrypt: FAST_SCRYPT }] },
    audit: { sinks: [] },
    rateLimits: { enabled: false },
  };
}

/** Bearer JWTs of `issuer`, RBAC through a tenant binding of the `bench-readers` group, workspace tenancy, audit to a file, metrics, rate limits on (never reached). */
export function fullPipelineConfig(upstream: string, issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mlflow: { url: upstream },
    authorization: { mode: 'policy' },
    tenancy: { mode: 'workspace' },
    tenants: TENANTS.map((name) => ({ name })),
    bindings: [
      { role: 'viewer', group: 'bench-readers', tenant: 't01' },
      { role: 'contributor', group: 'bench-writers', tenant: 't01' },
    ],
    auth: { providers: [{ type: 'oidc', id: 'corp', issuer, audience: RESOURCE, ...extra }] },
    audit: { mode: 'best-effort', sinks: [{ type: 'file' }] },
    rateLimits: {
      enabled: true,
      principal: { reads: OPEN_LIMIT, writes: OPEN_LIMIT, searches: OPEN_LIMIT, artifacts: OPEN_LIMIT },
      tenant: { reads: OPEN_LIMIT, writes: OPEN_LIMIT, searches: OPEN_LIMIT, artifacts: OPEN_LIMIT },
    },
  };
}

export async function benchToken(idp: TestIdp, groups: string[] = ['bench-readers']): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return idp.sign({ iss: idp.issuer, aud: RESOURCE, sub: 'bench-user', preferred_username: 'bench-user', email: 'bench@example.test', email_verified: true, groups, iat: now, exp: now + 4 * 3600 });
}

async function check(name: string, url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url + PATH, { headers });
  const body = await res.text();
  if (res.status !== 200 || !body.includes('bench-experiment-')) throw new Error(`${name}: ${res.status} ${body.slice(0, 300)}`);
}

function oauth2ProxyWhy(): string {
  const f = join(OAUTH2_PROXY, '..', 'build-status.txt');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : 'not built (run scripts/bench, which tries to build it through the Go module proxy)';
}

export async function runProxyBench(): Promise<ProxyResult> {
  const seconds = setting('PROXY_SECONDS', 10, 4);
  const reps = setting('PROXY_REPS', 5, 2);
  const warmup = setting('PROXY_WARMUP_SECONDS', 3, 2);
  const connections = setting('PROXY_CONNECTIONS', 50, 50);
  const slowSeconds = setting('PROXY_SLOW_SECONDS', 6, 3);
  const started: Served[] = [];
  const idp = await startIdp();
  try {
    const upstream = await startStubServer(LOAD_CPU);
    started.push(upstream);
    const direct = await startStubServer(SUT_CPU);
    started.push(direct);
    const nginx = await startNginx(upstream.url, SUT_CPU);
    started.push(nginx);
    const floor = await startNodeProxy(upstream.url, SUT_CPU);
    started.push(floor);
    const pass = await startGatehouse(passThroughConfig(upstream.url), { cpu: SUT_CPU });
    started.push(pass);
    const full = await startGatehouse(fullPipelineConfig(upstream.url, idp.issuer), { cpu: SUT_CPU });
    started.push(full);
    // The same full pipeline with tracing on (every request sampled), exporting to the stub, which answers 200 to anything:
    // its ratio to gatehouse-full is what tracing costs when on; gatehouse-full itself runs with tracing off (not loaded).
    const traced = await startGatehouse({ ...fullPipelineConfig(upstream.url, idp.issuer), tracing: { enabled: true, url: `${upstream.url}/v1/traces`, sampleRatio: 1 } }, { cpu: SUT_CPU });
    started.push(traced);
    const token = await benchToken(idp);
    const targets: { name: string; label: string; url: string; pid: number; headers: Record<string, string> }[] = [
      { name: 'direct', label: 'direct (stub alone)', url: direct.url, pid: direct.pid, headers: {} },
      { name: 'nginx', label: 'nginx 1.22 reverse proxy', url: nginx.url, pid: nginx.pid, headers: {} },
      { name: 'node-floor', label: 'node:http + undici, nothing else (floor)', url: floor.url, pid: floor.pid, headers: {} },
      { name: 'gatehouse-pass', label: 'Gatehouse pass-through', url: pass.url, pid: pass.pid, headers: { authorization: ADMIN_AUTH } },
      { name: 'gatehouse-full', label: 'Gatehouse full pipeline', url: full.url, pid: full.pid, headers: { authorization: `Bearer ${token}` } },
      { name: 'gatehouse-traced', label: 'Gatehouse full pipeline, tracing on (all sampled)', url: traced.url, pid: traced.pid, headers: { authorization: `Bearer ${token}` } },
    ];
    let oauth2Proxy: ProxyResult['oauth2Proxy'] = { measured: false, why: oauth2ProxyWhy() };
    if (existsSync(OAUTH2_PROXY)) {
      try {
        const o2p = await startOauth2Proxy(upstream.url, idp.issuer, RESOURCE, SUT_CPU);
        started.push(o2p);
        await check('oauth2-proxy', o2p.url, { authorization: `Bearer ${token}` });
        targets.push({ name: 'oauth2-proxy', label: 'oauth2-proxy 7.8.1 (authn only)', url: o2p.url, pid: o2p.pid, headers: { authorization: `Bearer ${token}` } });
        oauth2Proxy = { measured: true, version: '7.8.1' };
      } catch (err) {
        oauth2Proxy = { measured: false, why: `built, but did not serve: ${(err as Error).message.slice(0, 500)}` };
      }
    }
    for (const t of targets) await check(t.name, t.url, t.headers);
    log(`proxy: warm-up ${warmup}s per target`);
    for (const t of targets) await wrk({ url: t.url + PATH, seconds: warmup, connections, headers: t.headers });
    const samples = new Map<string, { s: Sample[]; load: number[]; cpu: number[]; slow: Sample[]; slowCpu: number[] }>(targets.map((t) => [t.name, { s: [], load: [], cpu: [], slow: [], slowCpu: [] }]));
    const usPerReq = (spentMs: number, s: Sample) => (spentMs * 1000) / Math.max(1, s.requests);
    for (let r = 0; r < reps; r++) {
      for (const t of targets) {
        const l = load1();
        const spent = cpuMeter([t.pid]);
        const s = await wrk({ url: t.url + PATH, seconds, connections, headers: t.headers });
        const cpu = usPerReq(spent(), s);
        const mine = samples.get(t.name)!;
        mine.s.push(s);
        mine.load.push(l);
        mine.cpu.push(cpu);
        log(`proxy rep ${r + 1}/${reps} ${t.name}: ${Math.round(s.rps)} req/s p50 ${s.p50Ms} ms p99 ${s.p99Ms} ms errors ${s.errors}, ${Math.round(cpu)} µs CPU per request`);
      }
    }
    // The slow-upstream cell: the same targets at the rate a single MLflow worker sustains here
    // (≈ 130 req/s), where what a proxy costs per request is not what it costs at saturation.
    for (let r = 0; r < reps; r++) {
      for (const t of targets) {
        const spent = cpuMeter([t.pid]);
        const headers = { ...t.headers, 'x-bench-delay-ms': String(SLOW_DELAY_MS) };
        const s = await closedLoop(t.url, { seconds: slowSeconds, concurrency: SLOW_CALLERS, next: () => ({ method: 'GET', path: PATH, headers }) });
        const cpu = usPerReq(spent(), s);
        const mine = samples.get(t.name)!;
        mine.slow.push(s);
        mine.slowCpu.push(cpu);
        log(`proxy slow upstream rep ${r + 1}/${reps} ${t.name}: ${round(s.rps, 1)} req/s p50 ${round(s.p50Ms)} ms p99 ${round(s.p99Ms)} ms errors ${s.errors}, ${Math.round(cpu)} µs CPU per request`);
      }
    }
    const results: TargetResult[] = targets.map((t) => {
      const { s, load, cpu, slow, slowCpu } = samples.get(t.name)!;
      return {
        name: t.name,
        label: t.label,
        rps: round(median(s.map((x) => x.rps)), 0),
        rpsMin: round(Math.min(...s.map((x) => x.rps)), 0),
        rpsMax: round(Math.max(...s.map((x) => x.rps)), 0),
        p50Ms: round(median(s.map((x) => x.p50Ms))),
        p99Ms: round(median(s.map((x) => x.p99Ms))),
        errors: s.reduce((a, x) => a + x.errors, 0) + slow.reduce((a, x) => a + x.errors, 0),
        reps: s.length,
        load,
        samples: s,
        cpuUsPerReq: round(median(cpu), 0),
        slow: { rps: round(median(slow.map((x) => x.rps)), 1), p50Ms: round(median(slow.map((x) => x.p50Ms))), p99Ms: round(median(slow.map((x) => x.p99Ms))), cpuUsPerReq: round(median(slowCpu), 0), cpuUsRuns: slowCpu.map((x) => round(x, 0)) },
      };
    });
    const ng = results.find((r) => r.name === 'nginx')!;
    const withRatios = results.map((r) => ({ ...r, vsNginx: { rps: round(r.rps / ng.rps, 3), p50DeltaMs: round(r.p50Ms - ng.p50Ms), p99DeltaMs: round(r.p99Ms - ng.p99Ms) } }));
    await new Promise((r) => setTimeout(r, 1500)); // let the best-effort audit queue drain
    // Every file of the sink's chain: at full durations the 100 MB active file rotates.
    let auditEvents = 0;
    for (const file of await chainFiles(join(full.dataDir, 'audit/audit.jsonl'))) auditEvents += readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    const auditLost = (await scrapeMetrics(full.internalUrl))('gatehouse_audit_events_lost_total');
    return {
      settings: {
        seconds,
        reps,
        warmupSeconds: warmup,
        connections,
        pinned: PINNING,
        pinning: PINNING ? `system under test on CPU ${SUT_CPU} (taskset -a -cp ${SUT_CPU}); wrk, the stub upstream and the IdP on CPU ${LOAD_CPU}; "direct" is a second stub instance on CPU ${SUT_CPU}` : 'not pinned',
        slowSeconds,
        slowDelayMs: SLOW_DELAY_MS,
        slowCallers: SLOW_CALLERS,
      },
      targets: withRatios,
      oauth2Proxy,
      auditEvents,
      auditLost,
    };
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    await idp.close();
  }
}

export { pin };
