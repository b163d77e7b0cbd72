/**
 * Workload 4: memory with many distinct cached entries, and cold start to ready.
 * - N distinct bearer JWTs (each a different subject) fill the verified-token cache
 *   (src/identity/oidc-bearer.ts), and N distinct run ids fill the resolver cache
 *   (src/policy/resolve.ts: run → experiment, through a binding scoped by experiment name).
 *   Tokens are Ed25519-signed by a local JWKS so that minting 100k of them takes seconds.
 * - Cold start: spawn `bin/gatehouse serve` → first 200 from /readyz, median of several.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort } from '../test/harness/ports.ts';
import { ADMIN_PASSWORD, ROOT, startGatehouse, startStubServer } from './lib/procs.ts';
import { fullPipelineConfig } from './proxy.ts';
import { LOAD_CPU, SUT_CPU, load1, log, median, peakRssDuring, pin, round, rssKiB, scrapeMetrics, setting, sleep, stopChild } from './lib/util.ts';

export interface FootprintResult {
  readonly entries: number;
  readonly baselineRssMiB: number;
  readonly rssAfterMiB: number;
  /** Highest RSS while the N entries were being created (each request verifying a new JWT). */
  readonly fillPeakRssMiB: number;
  /** Highest RSS while serving the same N callers again from the caches: the figure of the target. */
  readonly servingPeakRssMiB: number;
  /** Verified-token cache hits during the serving pass (N when every token stayed cached). */
  readonly tokenCacheHits: number;
  /** V8 heap used / committed and memory outside it, at the baseline and after the fill (from /metrics). */
  readonly heap: { readonly baseline: HeapFigures; readonly after: HeapFigures };
  readonly errors: number;
  readonly load: number;
  readonly coldStartMs: number;
  readonly coldStartRunsMs: number[];
  readonly coldStartLoad: number;
}

export interface HeapFigures {
  readonly usedMiB: number;
  readonly totalMiB: number;
  readonly externalMiB: number;
}

/** The gateway's own view of its memory: prom-client's process metrics on the internal listener. */
async function heapFigures(internalUrl: string): Promise<HeapFigures> {
  const metric = await scrapeMetrics(internalUrl);
  const mib = (name: string) => round(metric(name) / 1024 / 1024, 1);
  return { usedMiB: mib('nodejs_heap_size_used_bytes'), totalMiB: mib('nodejs_heap_size_total_bytes'), externalMiB: mib('nodejs_external_memory_bytes') };
}

const tokenCacheHits = async (internalUrl: string) => (await scrapeMetrics(internalUrl))('gatehouse_cache_lookups_total', (l) => l.includes('cache="oidc-token"') && l.includes('result="hit"'));

const ISSUER = 'https://bench-issuer.test';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export async function runFootprintBench(): Promise<FootprintResult> {
  const entries = setting('FOOTPRINT_ENTRIES', 100_000, 25_000);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench-ed', alg: 'EdDSA', use: 'sig' }] });
  const jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  const head = b64({ alg: 'EdDSA', kid: 'bench-ed', typ: 'at+jwt' });
  const now = Math.floor(Date.now() / 1000);
  const token = (i: number) => {
    const data = `${head}.${b64({ iss: ISSUER, aud: 'urn:mlflow', sub: `user-${i}`, preferred_username: `user-${i}`, email: `user-${i}@example.test`, groups: ['bench-readers'], iat: now, exp: now + 3600 })}`;
    return `${data}.${sign(null, Buffer.from(data), privateKey).toString('base64url')}`;
  };
  const stub = await startStubServer(LOAD_CPU);
  const config = fullPipelineConfig(stub.url, ISSUER, { discovery: false, jwksUri, algorithms: ['EdDSA'], cacheSize: entries });
  // A binding scoped by experiment name makes every run-level call resolve run → experiment → name.
  config.bindings = [{ role: 'viewer', group: 'bench-readers', tenant: 't01', experiment: { namePattern: 'bench-experiment-*' } }];
  // A gateway that fails to start must not leave the JWKS server and the stub holding the bench open.
  const gh = await startGatehouse(config, { cpu: SUT_CPU }).catch(async (err: unknown) => {
    jwksServer.close();
    await stub.stop();
    throw err;
  });
  let errors = 0;
  let baseline = 0;
  let after = 0;
  let fillPeak = 0;
  let servingPeak = 0;
  let tokenHits = 0;
  let heapBefore: HeapFigures | undefined;
  let heapAfter: HeapFigures | undefined;
  const loadAt = load1();
  try {
    const pool = new Pool(gh.url, { connections: 32 });
    const call = async (i: number, run: number) => {
      const res = await pool.request({ method: 'GET', path: `/api/2.0/mlflow/runs/get?run_id=r${run}`, headers: { authorization: `Bearer ${token(i)}` } });
      await res.body.text();
      if (res.statusCode !== 200) errors++;
    };
    const drive = async (from: number, to: number) => {
      let next = from;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < to) {
            const i = next++;
            await call(i, i);
          }
        }),
      );
    };
    // Warm-up on 1,000 entries (JIT, pools), then the baseline.
    await drive(0, 1000);
    if (errors) throw new Error(`footprint: ${errors} warm-up requests failed`);
    await sleep(500);
    baseline = rssKiB(gh.pid);
    heapBefore = await heapFigures(gh.internalUrl);
    log(`footprint: baseline RSS ${round(baseline / 1024, 1)} MiB; filling ${entries} entries`);
    // Filling: every request verifies a new JWT and resolves a new run (the transient of populating).
    fillPeak = (await peakRssDuring(gh.pid, () => drive(1000, entries))).peakKiB;
    // Serving: the same N callers again, now from the caches; this is the RSS the target is about.
    const hitsBefore = await tokenCacheHits(gh.internalUrl);
    servingPeak = (await peakRssDuring(gh.pid, () => drive(0, entries))).peakKiB;
    tokenHits = (await tokenCacheHits(gh.internalUrl)) - hitsBefore;
    await sleep(2000);
    after = rssKiB(gh.pid);
    heapAfter = await heapFigures(gh.internalUrl);
    await pool.close();
  } finally {
    await gh.stop();
    jwksServer.close();
  }
  const cold = await coldStart(stub.url);
  await stub.stop();
  return {
    entries,
    baselineRssMiB: round(baseline / 1024, 1),
    rssAfterMiB: round(after / 1024, 1),
    fillPeakRssMiB: round(fillPeak / 1024, 1),
    servingPeakRssMiB: round(servingPeak / 1024, 1),
    tokenCacheHits: tokenHits,
    heap: { baseline: heapBefore!, after: heapAfter! },
    errors,
    load: loadAt,
    ...cold,
  };
}

async function coldStart(upstream: string): Promise<{ coldStartMs: number; coldStartRunsMs: number[]; coldStartLoad: number }> {
  const reps = setting('COLDSTART_REPS', 7, 3);
  const runs: number[] = [];
  const loadAt = load1();
  for (let r = 0; r < reps; r++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
    const port = await freePort();
    const file = join(dataDir, 'gatehouse.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        dataDir,
        mlflow: { url: upstream },
        server: { public: { host: '127.0.0.1', port }, internal: { host: '127.0.0.1', port: 0 } },
        auth: { providers: [{ type: 'local' }] },
        audit: { sinks: [{ type: 'file' }] },
        log: { level: 'warn' },
      }),
    );
    // The store is created and migrated by the first start; time the second (an operator's restart)
    // and, for reference, keep the first.
    for (const phase of ['first', 'restart'] as const) {
      const t0 = performance.now();
      const child = spawn(join(ROOT, 'bin/gatehouse'), ['serve'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_CONFIG: file, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: 'ignore' });
      pin(child.pid!, SUT_CPU);
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((res) => res.status === 200, () => false);
        if (ok) break;
        if (child.exitCode !== null) throw new Error(`gatehouse exited ${child.exitCode} during cold start`);
        if (performance.now() - t0 > 60_000) throw new Error('gatehouse not ready in 60 s');
        await sleep(5);
      }
      const ms = performance.now() - t0;
      if (phase === 'restart') runs.push(round(ms, 0));
      await stopChild(child);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { coldStartMs: round(median(runs), 0), coldStartRunsMs: runs, coldStartLoad: loadAt };
}
