/**
 * A 1 GiB artifact goes up and comes back through Gatehouse to a real MLflow, byte-identical,
 * while the gateway's resident memory stays flat (growth under 64 MiB). Memory is measured
 * from /proc, not time: this test asserts behaviour, the benchmark reports speed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ADMIN_AUTH, spawnGatehouse, type Spawned } from '../harness/gatehouse.ts';

const CHUNK = 1024 * 1024;
const CHUNKS = 1024;
const LIMIT_MIB = 64;

let mlflow: MlflowServer;
let gh: Spawned;

before(async () => {
  mlflow = await startMlflow();
  gh = await spawnGatehouse(mlflow.url);
});
after(async () => {
  await gh?.stop();
  await mlflow?.stop();
});

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

/** Samples the gateway's RSS while `work` runs; returns the peak. */
async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakKiB: number }> {
  let peak = rssKiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 25);
  try {
    const result = await work();
    return { result, peakKiB: Math.max(peak, rssKiB(pid)) };
  } finally {
    clearInterval(timer);
  }
}

/** 1 GiB of data: one random MiB, each copy stamped with its index so reordering shows. */
function* gibibyte(seed: Buffer): Generator<Buffer> {
  for (let i = 0; i < CHUNKS; i++) {
    const chunk = Buffer.from(seed);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

async function api<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${gh.url}${path}`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

test('1 GiB artifact upload and download through Gatehouse with flat gateway memory', async () => {
  const { experiment_id } = await api<{ experiment_id: string }>('/api/2.0/mlflow/experiments/create', { name: 'gib' });
  const { run } = await api<{ run: { info: { run_id: string } } }>('/api/2.0/mlflow/runs/create', { experiment_id, start_time: Date.now() });
  const path = `/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${run.info.run_id}/artifacts/big.bin`;
  const u = new URL(gh.url);
  const seed = randomBytes(CHUNK);

  // Warm the gateway's pools and JIT on a small transfer first, then take the baseline.
  await api('/api/2.0/mlflow/experiments/search', { max_results: 1 });
  const baseline = rssKiB(gh.pid);

  const upload = await peakRssDuring(gh.pid, async () => {
    const sent = createHash('sha256');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, method: 'PUT', path, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream', 'content-length': CHUNK * CHUNKS } });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      const source = Readable.from(
        (function* () {
          for (const c of gibibyte(seed)) {
            sent.update(c);
            yield c;
          }
        })(),
      );
      pipeline(source, req).catch(reject);
    });
    return { status, sha: sent.digest('hex') };
  });
  assert.equal(upload.result.status, 200);

  const download = await peakRssDuring(gh.pid, async () => {
    const got = createHash('sha256');
    let bytes = 0;
    const res = await fetch(`${gh.url}${path}`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(res.status, 200);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      got.update(chunk);
      bytes += chunk.length;
    }
    return { bytes, sha: got.digest('hex') };
  });
  assert.equal(download.result.bytes, CHUNK * CHUNKS);
  assert.equal(download.result.sha, upload.result.sha, 'downloaded bytes differ from uploaded bytes');

  const growthMiB = (Math.max(upload.peakKiB, download.peakKiB) - baseline) / 1024;
  console.log(
    `gateway RSS baseline ${(baseline / 1024).toFixed(1)} MiB; peak growth upload ${((upload.peakKiB - baseline) / 1024).toFixed(1)} MiB, download ${((download.peakKiB - baseline) / 1024).toFixed(1)} MiB (limit ${LIMIT_MIB})`,
  );
  assert.ok(growthMiB < LIMIT_MIB, `gateway RSS grew ${growthMiB.toFixed(1)} MiB during 1 GiB transfers`);
});
