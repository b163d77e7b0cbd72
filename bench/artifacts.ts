/**
 * Workload 3: artifact upload and download (1 GiB by default) through MLflow's proxied artifact
 * routes, direct vs through Gatehouse (`bin/gatehouse serve`, local admin, policy mode, audit
 * to a file): throughput ratio and the gateway's peak RSS growth (/proc/<pid>/status).
 */
import { request } from 'node:http';
import { startMlflow } from '../test/harness/mlflow.ts';
import { ADMIN_AUTH, startGatehouse } from './lib/procs.ts';
import { SUT_CPU, cpuMeter, load1, log, median, peakRssDuring, round, rssKiB, setting } from './lib/util.ts';

export interface ArtifactResult {
  readonly mib: number;
  readonly reps: number;
  readonly upload: { directMiBs: number; gatehouseMiBs: number; ratio: number };
  readonly download: { directMiBs: number; gatehouseMiBs: number; ratio: number };
  readonly baselineRssMiB: number;
  readonly peakGrowthMiB: number;
  readonly load: number[];
  /** The gateway's CPU time per MiB moved (user + system, /proc), median over the repetitions. */
  readonly gatewayCpuMsPerMiB: { upload: number; download: number };
}

const CHUNK = 1024 * 1024;

function upload(origin: string, path: string, mib: number, auth?: string): Promise<number> {
  const u = new URL(origin);
  const seed = Buffer.alloc(CHUNK, 7);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: u.hostname, port: u.port, method: 'PUT', path, headers: { ...(auth && { authorization: auth }), 'content-type': 'application/octet-stream', 'content-length': CHUNK * mib } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`upload ${res.statusCode}`))));
    });
    req.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < mib) {
        sent++;
        if (!req.write(seed)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

/** Reads the artifact with node:http (cheaper per byte than fetch's web streams, for both targets alike). */
function download(origin: string, path: string, mib: number, auth?: string): Promise<number> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: u.hostname, port: u.port, method: 'GET', path, headers: auth ? { authorization: auth } : {} });
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 && bytes === mib * CHUNK ? resolve((performance.now() - t0) / 1000) : reject(new Error(`download ${res.statusCode}, ${bytes} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function runArtifactBench(): Promise<ArtifactResult> {
  const mib = setting('ARTIFACT_MIB', 1024, 256);
  const reps = setting('ARTIFACT_REPS', 3, 1);
  const mlflow = await startMlflow();
  const gh = await startGatehouse({ mlflow: { url: mlflow.url }, auth: { providers: [{ type: 'local' }] }, audit: { sinks: [{ type: 'file' }] } }, { cpu: SUT_CPU });
  try {
    const api = async (path: string, body: unknown) => {
      const res = await fetch(gh.url + path, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, any>;
    };
    const { experiment_id } = await api('/api/2.0/mlflow/experiments/create', { name: 'bench-artifacts' });
    const { run } = await api('/api/2.0/mlflow/runs/create', { experiment_id, start_time: Date.now() });
    const base = `/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${run.info.run_id}/artifacts`;
    await api('/api/2.0/mlflow/experiments/search', { max_results: 1 });
    const small = `${base}/warm.bin`;
    await upload(gh.url, small, 4, ADMIN_AUTH);
    await download(gh.url, small, 4, ADMIN_AUTH);
    const baseline = rssKiB(gh.pid);
    let peak = baseline;
    const t = { du: [] as number[], gu: [] as number[], dd: [] as number[], gd: [] as number[], cu: [] as number[], cd: [] as number[] };
    const load: number[] = [];
    for (let r = 0; r < reps; r++) {
      load.push(load1());
      t.du.push(await upload(mlflow.url, `${base}/direct-${r}.bin`, mib));
      let spent = cpuMeter([gh.pid]);
      const up = await peakRssDuring(gh.pid, () => upload(gh.url, `${base}/gh-${r}.bin`, mib, ADMIN_AUTH));
      t.cu.push(spent() / mib);
      t.gu.push(up.result);
      t.dd.push(await download(mlflow.url, `${base}/direct-${r}.bin`, mib));
      spent = cpuMeter([gh.pid]);
      const down = await peakRssDuring(gh.pid, () => download(gh.url, `${base}/gh-${r}.bin`, mib, ADMIN_AUTH));
      t.cd.push(spent() / mib);
      t.gd.push(down.result);
      peak = Math.max(peak, up.peakKiB, down.peakKiB);
      log(`artifacts rep ${r + 1}/${reps}: upload direct ${round(t.du[r]!)} s, gatehouse ${round(t.gu[r]!)} s; download direct ${round(t.dd[r]!)} s, gatehouse ${round(t.gd[r]!)} s; gateway CPU ${round(t.cu[r]!, 2)} / ${round(t.cd[r]!, 2)} ms per MiB`);
    }
    const rate = (secs: number[]) => round(mib / median(secs), 1);
    const up = { directMiBs: rate(t.du), gatehouseMiBs: rate(t.gu), ratio: 0 };
    const down = { directMiBs: rate(t.dd), gatehouseMiBs: rate(t.gd), ratio: 0 };
    return {
      mib,
      reps,
      upload: { ...up, ratio: round(up.gatehouseMiBs / up.directMiBs, 3) },
      download: { ...down, ratio: round(down.gatehouseMiBs / down.directMiBs, 3) },
      baselineRssMiB: round(baseline / 1024, 1),
      peakGrowthMiB: round((peak - baseline) / 1024, 1),
      load,
      gatewayCpuMsPerMiB: { upload: round(median(t.cu), 2), download: round(median(t.cd), 2) },
    };
  } finally {
    await gh.stop();
    await mlflow.stop();
  }
}
