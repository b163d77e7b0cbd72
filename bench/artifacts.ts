/**
 * Workload 3: artifact upload and download (1 GiB by default) through MLflow's proxied artifact
 * routes, direct vs through Gatehouse (`bin/gatehouse serve`, local admin, policy mode, audit
 * to a file): throughput ratio and the gateway's peak RSS growth (/proc/<pid>/status). The same
 * transfers through nginx (a streaming reverse proxy on the gateway's core) show what putting
 * any proxy in the path costs on this machine.
 */
import { request } from 'node:http';
import { startMlflow } from '../test/harness/mlflow.ts';
import { ADMIN_AUTH, startGatehouse, startNginx } from './lib/procs.ts';
import { SUT_CPU, cpuMeter, load1, log, median, peakRssDuring, round, rssKiB, setting } from './lib/util.ts';

export interface Transfer {
  /** MiB/s, median over the repetitions. */
  readonly MiBs: number;
  /** × direct. */
  readonly ratio: number;
  /** The proxy's own CPU time (user + system, /proc) per MiB moved, median; absent for direct. */
  readonly cpuMsPerMiB?: number;
}

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
  /** The same transfers through nginx (a plain streaming reverse proxy on the gateway's core): what any proxy costs here. */
  readonly nginx?: { upload: Transfer; download: Transfer };
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

type Target = 'direct' | 'gatehouse' | 'nginx';

export async function runArtifactBench(): Promise<ArtifactResult> {
  const mib = setting('ARTIFACT_MIB', 1024, 256);
  const reps = setting('ARTIFACT_REPS', 3, 1);
  const mlflow = await startMlflow();
  const gh = await startGatehouse({ mlflow: { url: mlflow.url }, auth: { providers: [{ type: 'local' }] }, audit: { sinks: [{ type: 'file' }] } }, { cpu: SUT_CPU });
  const nginx = await startNginx(mlflow.url, SUT_CPU, { streaming: true });
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
    await download(nginx.url, small, 4);
    const via: Record<Target, { origin: string; auth?: string; pid?: number }> = {
      direct: { origin: mlflow.url },
      gatehouse: { origin: gh.url, auth: ADMIN_AUTH, pid: gh.pid },
      nginx: { origin: nginx.url, pid: nginx.pid },
    };
    const baseline = rssKiB(gh.pid);
    let peak = baseline;
    const secs = { upload: { direct: [], gatehouse: [], nginx: [] }, download: { direct: [], gatehouse: [], nginx: [] } } as Record<'upload' | 'download', Record<Target, number[]>>;
    const cpu = { upload: { direct: [], gatehouse: [], nginx: [] }, download: { direct: [], gatehouse: [], nginx: [] } } as Record<'upload' | 'download', Record<Target, number[]>>;
    const load: number[] = [];
    const order: Target[] = ['direct', 'gatehouse', 'nginx'];
    for (let r = 0; r < reps; r++) {
      load.push(load1());
      // Each repetition starts with a different target: whoever goes first meets a different page cache and scheduler state.
      const turn = [...order.slice(r % 3), ...order.slice(0, r % 3)];
      for (const direction of ['upload', 'download'] as const) {
        for (const target of turn) {
          const { origin, auth, pid } = via[target];
          const path = `${base}/${target}-${r}.bin`;
          const spent = pid === undefined ? () => 0 : cpuMeter([pid]);
          const work = () => (direction === 'upload' ? upload(origin, path, mib, auth) : download(origin, path, mib, auth));
          if (target === 'gatehouse') {
            const t = await peakRssDuring(gh.pid, work);
            peak = Math.max(peak, t.peakKiB);
            secs[direction][target].push(t.result);
          } else {
            secs[direction][target].push(await work());
          }
          cpu[direction][target].push(spent() / mib);
        }
      }
      const s = (d: 'upload' | 'download', t: Target) => round(secs[d][t][r]!);
      log(`artifacts rep ${r + 1}/${reps}: upload direct ${s('upload', 'direct')} s, gatehouse ${s('upload', 'gatehouse')} s, nginx ${s('upload', 'nginx')} s; download direct ${s('download', 'direct')} s, gatehouse ${s('download', 'gatehouse')} s, nginx ${s('download', 'nginx')} s`);
    }
    const rate = (xs: number[]) => round(mib / median(xs), 1);
    const transfer = (d: 'upload' | 'download', t: Target): Transfer => ({ MiBs: rate(secs[d][t]), ratio: round(rate(secs[d][t]) / rate(secs[d].direct), 3), cpuMsPerMiB: round(median(cpu[d][t]), 2) });
    const up = transfer('upload', 'gatehouse');
    const down = transfer('download', 'gatehouse');
    return {
      mib,
      reps,
      upload: { directMiBs: rate(secs.upload.direct), gatehouseMiBs: up.MiBs, ratio: up.ratio },
      download: { directMiBs: rate(secs.download.direct), gatehouseMiBs: down.MiBs, ratio: down.ratio },
      baselineRssMiB: round(baseline / 1024, 1),
      peakGrowthMiB: round((peak - baseline) / 1024, 1),
      load,
      gatewayCpuMsPerMiB: { upload: up.cpuMsPerMiB!, download: down.cpuMsPerMiB! },
      nginx: { upload: transfer('upload', 'nginx'), download: transfer('download', 'nginx') },
    };
  } finally {
    await nginx.stop();
    await gh.stop();
    await mlflow.stop();
  }
}
