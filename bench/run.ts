/**
 * `npm run bench` (through scripts/bench): runs the benchmark suite and writes
 * bench/results/latest.json, bench/results/latest.md, bench/results/chart.svg, and the results
 * section of docs/performance.md (between its bench markers; BENCH_UPDATE_DOCS=0 leaves it alone).
 * BENCH_QUICK=1: short durations and smaller data (~3 minutes). BENCH_ONLY=proxy,mlflow,artifacts,footprint
 * runs a subset. Every duration and size is a BENCH_* variable (see docs/performance.md).
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { runArtifactBench, type ArtifactResult } from './artifacts.ts';
import { runFootprintBench, type FootprintResult } from './footprint.ts';
import { runMlflowBench, type MlflowResult } from './mlflow.ts';
import { runProxyBench, type ProxyResult } from './proxy.ts';
import { ROOT } from './lib/procs.ts';
import { CORES, LOAD_CPU, QUICK, load1, log, pin, round } from './lib/util.ts';

interface Target {
  readonly name: string;
  readonly value: string;
  readonly status: 'met' | 'missed' | 'inconclusive' | 'not measured' | 'measured';
  readonly note?: string;
}

export interface Results {
  readonly date: string;
  readonly quick: boolean;
  readonly machine: Record<string, string | number>;
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  proxy?: ProxyResult;
  mlflow?: MlflowResult;
  artifacts?: ArtifactResult;
  footprint?: FootprintResult;
  targets: Target[];
  readonly errors: Record<string, string>;
}

const sh = (cmd: string) => {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
};

/**
 * met / missed, but on a loaded machine (1-min load above the core count) a verdict within 25 %
 * of the threshold is "inconclusive": noisy numbers must not claim a target.
 */
function verdict(ok: boolean, value: number, threshold: number, load: number): Target['status'] {
  const margin = Math.abs(value - threshold) / Math.max(Math.abs(threshold), 1e-9);
  if (load > CORES && margin < 0.25) return 'inconclusive';
  return ok ? 'met' : 'missed';
}

function evaluate(r: Results): Target[] {
  const t: Target[] = [];
  const maxLoad = (xs: number[]) => Math.max(...xs);
  if (r.proxy) {
    const full = r.proxy.targets.find((x) => x.name === 'gatehouse-full')!;
    const ng = r.proxy.targets.find((x) => x.name === 'nginx')!;
    const l = maxLoad([...full.load, ...ng.load]);
    t.push({ name: 'Full pipeline ≥ 75 % of nginx req/s', value: `${Math.round(full.vsNginx!.rps * 100)} %`, status: verdict(full.vsNginx!.rps >= 0.75, full.vsNginx!.rps, 0.75, l), note: `load ≤ ${l}` });
    t.push({ name: 'Full pipeline p99 within 2 ms of nginx', value: `${full.vsNginx!.p99DeltaMs >= 0 ? '+' : ''}${full.vsNginx!.p99DeltaMs} ms`, status: verdict(full.vsNginx!.p99DeltaMs <= 2, full.vsNginx!.p99DeltaMs, 2, l), note: `load ≤ ${l}` });
    // Under wrk every target is saturated: with 50 connections in flight a request waits for ≈ 50 others (Little's
    // law), so the p99 there follows throughput. The slow-upstream cell shows the latency a proxy adds below saturation.
    const d = round(full.slow.p99Ms - ng.slow.p99Ms);
    t.push({ name: 'Full pipeline p99 within 2 ms of nginx below saturation (slow-upstream cell)', value: `${d >= 0 ? '+' : ''}${d} ms`, status: verdict(d <= 2, d, 2, l), note: `≈ ${Math.round(full.slow.rps)} req/s, 4 callers; not the issue's measurement (that is the row above)` });
    const traced = r.proxy.targets.find((x) => x.name === 'gatehouse-traced');
    if (traced) t.push({ name: 'Tracing on (every request sampled) vs off: req/s ratio, same run', value: `${round(traced.rps / full.rps, 3)}×`, status: 'measured', note: `CPU µs/req ${traced.cpuUsPerReq} vs ${full.cpuUsPerReq}; off, the SDK is not loaded` });
    const o = r.proxy.targets.find((x) => x.name === 'oauth2-proxy');
    if (o) t.push({ name: 'Full pipeline ≥ 1.0× oauth2-proxy req/s', value: `${round(full.rps / o.rps, 2)}×`, status: verdict(full.rps >= o.rps, full.rps / o.rps, 1, maxLoad([...full.load, ...o.load])) });
    else t.push({ name: 'Full pipeline ≥ 1.0× oauth2-proxy req/s', value: '–', status: 'not measured', note: r.proxy.oauth2Proxy.why ?? '' });
  }
  if (r.mlflow) {
    const m = r.mlflow.results;
    const get = (w: string, target: string) => m.find((x) => x.workload === w && x.target === target)!;
    const workloads = [...new Set(m.map((x) => x.workload))];
    const costs = workloads.map((w) => ({ w, cost: 1 - get(w, 'gatehouse').rps / get(w, 'direct').rps, load: Math.max(get(w, 'gatehouse').load, get(w, 'direct').load) }));
    const worst = costs.reduce((a, b) => (b.cost > a.cost ? b : a));
    // What the gateway's CPU would take from MLflow if both had to share the same cores.
    const shares = workloads.map((w) => {
      const g = get(w, 'gatehouse');
      return g.gatewayCpuMsPerReq === undefined ? undefined : { w, share: g.gatewayCpuMsPerReq / (g.gatewayCpuMsPerReq + g.mlflowCpuMsPerReq) };
    });
    const shareNote = shares.every((x) => x !== undefined)
      ? `gateway CPU per request as a share of gateway + MLflow CPU: ${shares.map((x) => `${x.w} ${round(x.share * 100, 1)} %`).join(', ')}`
      : '';
    t.push({ name: 'Real MLflow: Gatehouse costs ≤ 5 % of direct throughput', value: `worst ${Math.round(worst.cost * 100)} % (${worst.w}); ${costs.map((c) => `${c.w} ${Math.round(c.cost * 100)} %`).join(', ')}`, status: verdict(worst.cost <= 0.05, worst.cost, 0.05, worst.load), note: shareNote });
    for (const w of ['experiments/search', 'runs/search']) {
      const ratio = get(w, 'gatehouse').rps / get(w, 'mlflow-basic-auth').rps;
      t.push({ name: `Real MLflow ${w}: ≥ 3× MLflow basic-auth`, value: `${round(ratio, 1)}×`, status: verdict(ratio >= 3, ratio, 3, get(w, 'gatehouse').load) });
    }
    const complete = r.mlflow.completeness.every((c) => c.complete);
    t.push({ name: 'Every search page complete', value: r.mlflow.completeness.map((c) => `${c.target} ${c.visible}/${c.expected} in pages [${c.pages.join(',')}]`).join('; '), status: complete ? 'met' : 'missed' });
  }
  if (r.artifacts) {
    const a = r.artifacts;
    const worst = Math.min(a.upload.ratio, a.download.ratio);
    const ref = a.nginx ? `nginx (plain streaming proxy, same core) in the same run: upload ${Math.round(a.nginx.upload.ratio * 100)} %, download ${Math.round(a.nginx.download.ratio * 100)} %` : undefined;
    t.push({ name: 'Artifacts ≥ 90 % of direct throughput', value: `upload ${Math.round(a.upload.ratio * 100)} %, download ${Math.round(a.download.ratio * 100)} %`, status: verdict(worst >= 0.9, worst, 0.9, Math.max(...a.load)), ...(ref && { note: ref }) });
    t.push({ name: 'Artifacts: gateway RSS growth ≤ 64 MiB', value: `${a.peakGrowthMiB} MiB`, status: a.peakGrowthMiB <= 64 ? 'met' : 'missed' });
  }
  if (r.footprint) {
    const f = r.footprint;
    const cached = f.tokenCacheHits >= f.entries;
    t.push({
      name: `${f.entries.toLocaleString('en')} cached tokens + resources in ≤ 256 MiB RSS`,
      value: `${f.servingPeakRssMiB} MiB serving (${f.fillPeakRssMiB} MiB peak while filling)`,
      status: f.entries < 100_000 ? 'not measured' : !cached ? 'missed' : f.servingPeakRssMiB <= 256 ? 'met' : 'missed',
      note: f.entries < 100_000 ? 'quick mode: fewer than 100k entries' : cached ? '' : `only ${f.tokenCacheHits} of ${f.entries} tokens were still cached`,
    });
    t.push({ name: 'Cold start to ready ≤ 1 s', value: `${f.coldStartMs} ms`, status: verdict(f.coldStartMs <= 1000, f.coldStartMs, 1000, f.coldStartLoad), note: `load ${f.coldStartLoad}` });
  }
  return t;
}

// ---- report ----

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function barPanel(title: string, rows: { label: string; value: number; note: string }[], y0: number, width: number): { svg: string; height: number } {
  const max = Math.max(...rows.map((r) => r.value), 1);
  const left = 250;
  const barW = width - left - 150;
  let svg = `<text x="10" y="${y0 + 18}" font-size="15" font-weight="bold">${esc(title)}</text>`;
  rows.forEach((r, i) => {
    const y = y0 + 32 + i * 26;
    const w = Math.max(1, (r.value / max) * barW);
    svg += `<text x="${left - 8}" y="${y + 14}" font-size="12" text-anchor="end">${esc(r.label)}</text>`;
    svg += `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="18" fill="${r.label.startsWith('Gatehouse') ? '#2f6db5' : '#9aa5b1'}"/>`;
    svg += `<text x="${left + w + 6}" y="${y + 14}" font-size="12">${esc(r.note)}</text>`;
  });
  return { svg, height: 40 + rows.length * 26 };
}

function chart(r: Results): string {
  const width = 900;
  let y = 10;
  let body = '';
  const add = (p: { svg: string; height: number }) => {
    body += p.svg;
    y += p.height + 10;
  };
  if (r.proxy) {
    add(barPanel(`Stub upstream, wrk -c${r.proxy.settings.connections}: req/s (median of ${r.proxy.settings.reps})`, r.proxy.targets.map((t) => ({ label: t.label, value: t.rps, note: `${t.rps.toLocaleString('en')} req/s · ${t.vsNginx!.rps}× nginx · p99 ${t.p99Ms} ms` })), y, width));
  }
  if (r.mlflow) {
    const rows = r.mlflow.results.map((m) => ({ label: `${m.workload} · ${m.target === 'gatehouse' ? 'Gatehouse' : m.target}`, value: m.rps, note: `${m.rps} req/s · p99 ${m.p99Ms} ms` }));
    add(barPanel(`Real MLflow 3.18, ${r.mlflow.experiments} experiments / ${r.mlflow.tenants} tenants: req/s`, rows, y, width));
  }
  if (r.artifacts) {
    const a = r.artifacts;
    add(
      barPanel(`Artifacts, ${a.mib} MiB: MiB/s`, [
        { label: 'upload direct', value: a.upload.directMiBs, note: `${a.upload.directMiBs} MiB/s` },
        { label: 'Gatehouse upload', value: a.upload.gatehouseMiBs, note: `${a.upload.gatehouseMiBs} MiB/s (${a.upload.ratio}×)` },
        { label: 'download direct', value: a.download.directMiBs, note: `${a.download.directMiBs} MiB/s` },
        { label: 'Gatehouse download', value: a.download.gatehouseMiBs, note: `${a.download.gatehouseMiBs} MiB/s (${a.download.ratio}×)` },
        ...(a.nginx
          ? [
              { label: 'nginx upload', value: a.nginx.upload.MiBs, note: `${a.nginx.upload.MiBs} MiB/s (${a.nginx.upload.ratio}×)` },
              { label: 'nginx download', value: a.nginx.download.MiBs, note: `${a.nginx.download.MiBs} MiB/s (${a.nginx.download.ratio}×)` },
            ]
          : []),
      ], y, width),
    );
  }
  body += `<text x="10" y="${y + 12}" font-size="11" fill="#555">${esc(`${r.date} · ${r.machine.cpu} · ${r.machine.cores} cores · load ${r.loadBefore.join('/')} at start${r.quick ? ' · BENCH_QUICK' : ''}`)}</text>`;
  y += 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}

function markdown(r: Results): string {
  const L: string[] = [];
  L.push(`Run: ${r.date}${r.quick ? ' (BENCH_QUICK=1: short durations, smaller data)' : ''}. Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memGiB} GiB, ${r.machine.kernel}; Node ${r.machine.node}, nginx ${r.machine.nginx}, wrk ${r.machine.wrk}, MLflow 3.18.0. Load average (1/5/15 min) at start ${r.loadBefore.join(' / ')}, at end ${r.loadAfter.join(' / ')}.`);
  L.push('');
  L.push('### Targets');
  L.push('');
  L.push('| target | measured | verdict | note |');
  L.push('|---|---|---|---|');
  for (const t of r.targets) L.push(`| ${t.name} | ${t.value} | **${t.status}** | ${t.note ?? ''} |`);
  L.push('');
  if (r.proxy) {
    const p = r.proxy;
    L.push(`### 1. Proxy overhead, stub upstream (wrk -t1 -c${p.settings.connections}, ${p.settings.warmupSeconds} s warm-up, ${p.settings.reps} × ${p.settings.seconds} s interleaved, medians)`);
    L.push('');
    L.push(`Pinning: ${p.settings.pinning}.`);
    L.push('');
    L.push('| target | req/s median (min–max) | × nginx | p50 ms | p99 ms | p50 − nginx | p99 − nginx | CPU µs/req | errors | load during reps |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const t of p.targets) L.push(`| ${t.label} | ${t.rps.toLocaleString('en')} (${t.rpsMin.toLocaleString('en')}–${t.rpsMax.toLocaleString('en')}) | ${t.vsNginx!.rps} | ${t.p50Ms} | ${t.p99Ms} | ${t.vsNginx!.p50DeltaMs} | ${t.vsNginx!.p99DeltaMs} | ${t.cpuUsPerReq ?? '–'} | ${t.errors} | ${t.load.join(', ')} |`);
    L.push('');
    L.push('*CPU µs/req* is the target\'s own user + system CPU time during a repetition (all threads, from /proc) divided by the requests it answered; median.');
    L.push('');
    if (p.settings.slowDelayMs !== undefined && p.targets.every((t) => t.slow)) {
      L.push(`**Slow upstream** (the stub answers after ${p.settings.slowDelayMs} ms; ${p.settings.slowCallers} closed-loop callers, ${p.settings.reps} × ${p.settings.slowSeconds} s interleaved, medians): what each target costs per request at about the rate one MLflow worker sustains here.`);
      L.push('');
      L.push('| target | req/s | p50 ms | p99 ms | p50 − nginx | p99 − nginx | CPU µs/req (each repetition) | × its CPU µs/req under wrk |');
      L.push('|---|---|---|---|---|---|---|---|');
      const slowNginx = p.targets.find((t) => t.name === 'nginx')!.slow;
      for (const t of p.targets) {
        L.push(`| ${t.label} | ${t.slow.rps} | ${t.slow.p50Ms} | ${t.slow.p99Ms} | ${round(t.slow.p50Ms - slowNginx.p50Ms)} | ${round(t.slow.p99Ms - slowNginx.p99Ms)} | ${t.slow.cpuUsPerReq} (${t.slow.cpuUsRuns.join(', ')}) | ${round(t.slow.cpuUsPerReq / t.cpuUsPerReq, 1)} |`);
      }
      L.push('');
      L.push('Latencies in this cell include the stub\'s 30 ms and are measured by the bench process (CPU 1), the same way for every target: the differences to nginx are what each proxy adds when it is not saturated.');
      L.push('');
    }
    L.push(`Full pipeline wrote ${p.auditEvents.toLocaleString('en')} audit events to its file sink during the run${p.auditLost === undefined ? '' : ` (${p.auditLost.toLocaleString('en')} dropped by its best-effort queue)`}. oauth2-proxy: ${p.oauth2Proxy.measured ? `measured (v${p.oauth2Proxy.version}, built from source through the Go module proxy)` : `not measured: ${p.oauth2Proxy.why}`}.`);
    L.push('');
  }
  if (r.mlflow) {
    const m = r.mlflow;
    L.push(`### 2. Real MLflow 3.18 (${m.experiments.toLocaleString('en')} experiments in ${m.tenants} tenants, caller sees one; ${m.concurrency} concurrent callers, ${m.reps ?? 1} × ${m.seconds} s per cell interleaved, medians; setup ${m.setupSeconds} s)`);
    L.push('');
    if (m.pinning) L.push(`Pinning: ${m.pinning}. CPU per request is user + system time from /proc (all threads; for MLflow its whole process tree) over the cell, divided by the requests answered; medians.`);
    L.push('');
    L.push('| workload | target | req/s median (each repetition) | × direct | p50 ms | p99 ms | errors | load | MLflow CPU ms/req | gateway CPU ms/req |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const x of m.results) {
      const d = m.results.find((y) => y.workload === x.workload && y.target === 'direct')!;
      L.push(`| ${x.workload} | ${x.target} | ${x.rps} (${(x.rpsRuns ?? [x.rps]).join(', ')}) | ${round(x.rps / d.rps, 2)} | ${x.p50Ms} | ${x.p99Ms} | ${x.errors} | ${x.load} | ${x.mlflowCpuMsPerReq ?? '–'} | ${x.gatewayCpuMsPerReq ?? '–'} |`);
    }
    L.push('');
    L.push('Search completeness (experiments/search, walking every page of 50):');
    L.push('');
    for (const c of m.completeness) L.push(`- ${c.target}: ${c.visible} of ${c.expected} visible experiments, pages [${c.pages.join(', ')}] — ${c.complete ? 'complete' : '**incomplete**'}`);
    L.push('');
    L.push('An "error" in the search rows is a non-200 answer or a first page shorter than it should be (experiments/search asks for 50, or all of the tenant\'s experiments when it has fewer; runs/search for 20 of 40 runs).');
    L.push('');
  }
  if (r.artifacts) {
    const a = r.artifacts;
    L.push(`### 3. Artifacts (${a.mib} MiB, ${a.reps} repetition(s), medians; load ${a.load.join(', ')})`);
    L.push('');
    const ng = (d: 'upload' | 'download') => (a.nginx ? ` ${a.nginx[d].MiBs} | ${a.nginx[d].ratio} | ${a.nginx[d].cpuMsPerMiB ?? '–'} |` : ' – | – | – |');
    L.push('| direction | direct MiB/s | through Gatehouse MiB/s | ratio | gateway CPU ms per MiB | through nginx MiB/s | ratio | nginx CPU ms per MiB |');
    L.push('|---|---|---|---|---|---|---|---|');
    L.push(`| upload | ${a.upload.directMiBs} | ${a.upload.gatehouseMiBs} | ${a.upload.ratio} | ${a.gatewayCpuMsPerMiB?.upload ?? '–'} |${ng('upload')}`);
    L.push(`| download | ${a.download.directMiBs} | ${a.download.gatehouseMiBs} | ${a.download.ratio} | ${a.gatewayCpuMsPerMiB?.download ?? '–'} |${ng('download')}`);
    L.push('');
    L.push('The client (this process) has CPU 1; the gateway and nginx are pinned to CPU 0; MLflow is not pinned, so it shares the cores with them, as a gateway next to its MLflow would. nginx is the reference for what any proxy in the path costs here: one worker, no body size limit, uploads streamed, answers relayed through 64 KiB memory buffers. Each repetition transfers through every target in turn, a different one first each time. Downloads are read with node:http, uploads written with it, for every target.');
    L.push('');
    L.push(`Gateway RSS: ${a.baselineRssMiB} MiB before, peak growth ${a.peakGrowthMiB} MiB during the transfers.`);
    L.push('');
  }
  if (r.footprint) {
    const f = r.footprint;
    L.push(`### 4. Footprint (load ${f.load})`);
    L.push('');
    L.push(`- ${f.entries.toLocaleString('en')} distinct bearer JWTs (distinct subjects) and ${f.entries.toLocaleString('en')} distinct run ids resolved to experiments. RSS ${f.baselineRssMiB} MiB after 1,000 (baseline); peak ${f.fillPeakRssMiB} MiB while filling (each request verifying a new token and resolving a new run); **peak ${f.servingPeakRssMiB} MiB while serving the same ${f.entries.toLocaleString('en')} callers again** (${f.tokenCacheHits.toLocaleString('en')} verified-token cache hits); ${f.rssAfterMiB} MiB 2 s later; ${f.errors} failed requests.`);
    if (f.heap) {
      const h = (x: { usedMiB: number; totalMiB: number; externalMiB: number }) => `JS heap ${x.usedMiB} MiB used of ${x.totalMiB} MiB, external ${x.externalMiB} MiB`;
      L.push(`- The gateway's own view (/metrics): baseline ${h(f.heap.baseline)}; after ${h(f.heap.after)}.`);
    }
    L.push(`- Cold start, spawn → first 200 from /readyz (restart of an initialised data directory): median ${f.coldStartMs} ms of [${f.coldStartRunsMs.join(', ')}] (load ${f.coldStartLoad}).`);
    L.push('');
  }
  for (const [k, v] of Object.entries(r.errors)) L.push(`**${k} failed:** ${v}\n`);
  return L.join('\n');
}

async function main(): Promise<void> {
  pin(process.pid, LOAD_CPU);
  const only = new Set((process.env.BENCH_ONLY ?? 'proxy,mlflow,artifacts,footprint').split(',').map((s) => s.trim()));
  const three = () => loadavg().map((x) => round(x, 2));
  const results: Results = {
    date: new Date().toISOString(),
    quick: QUICK,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: CORES,
      memGiB: round(totalmem() / 2 ** 30, 1),
      kernel: sh('uname -sr'),
      node: process.versions.node,
      nginx: sh('/usr/sbin/nginx -v 2>&1').replace('nginx version: nginx/', ''),
      wrk: sh('wrk --version 2>&1 | head -1').split(' ')[1] ?? 'unknown',
    },
    loadBefore: three(),
    loadAfter: [],
    targets: [],
    errors: {},
  };
  log(`benchmark suite${QUICK ? ' (quick)' : ''}: ${[...only].join(', ')}`);
  const step = async <K extends 'proxy' | 'mlflow' | 'artifacts' | 'footprint'>(key: K, fn: () => Promise<NonNullable<Results[K]>>) => {
    if (!only.has(key)) return;
    try {
      results[key] = await fn();
    } catch (err) {
      results.errors[key] = (err as Error).message.slice(0, 2000);
      log(`${key} failed: ${(err as Error).stack}`);
    }
  };
  await step('proxy', runProxyBench);
  await step('footprint', runFootprintBench);
  await step('artifacts', runArtifactBench);
  await step('mlflow', runMlflowBench);
  (results as { loadAfter: number[] }).loadAfter = three();
  results.targets = evaluate(results);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const md = markdown(results);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), `# Benchmark results\n\n${md}\n\n![chart](chart.svg)\n`);
  writeFileSync(join(dir, 'chart.svg'), chart(results));
  const doc = join(ROOT, 'docs/performance.md');
  if (process.env.BENCH_UPDATE_DOCS !== '0' && existsSync(doc)) {
    const text = readFileSync(doc, 'utf8');
    const begin = '<!-- bench:begin -->';
    const end = '<!-- bench:end -->';
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a >= 0 && b > a) writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${md}\n${text.slice(b)}`);
  }
  process.stdout.write(`${md}\n`);
  log(`wrote bench/results/latest.{json,md}, bench/results/chart.svg${process.env.BENCH_UPDATE_DOCS !== '0' ? ' and docs/performance.md' : ''}`);
  if (Object.keys(results.errors).length) process.exitCode = 1;
}

await main();
