/**
 * The soak behind `scripts/soak`: a steady mix of allowed, denied, unauthenticated and
 * malformed requests against the real gateway process, sampling its RSS (/proc/<pid>/status)
 * and open file descriptors (/proc/<pid>/fd) every 30 s. After a warm-up (the first sixth of
 * the run, at least one sample), RSS may not grow more than 25% + 16 MiB and fds not more than
 * 16; otherwise the exit code is 1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { ADMIN_AUTH, spawnGatehouse } from '../test/harness/gatehouse.ts';
import { startStub } from '../test/harness/stub-upstream.ts';

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const rps = Number(process.env.SOAK_RPS ?? 200);
const SAMPLE_MS = Math.min(30_000, (seconds * 1000) / 4);

const stub = await startStub();
const gh = await spawnGatehouse(stub.url, { GATEHOUSE_RATE_LIMITS__ENABLED: 'false' });
const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });

const MIX: { path: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }[] = [
  { method: 'GET', path: '/api/2.0/mlflow/experiments/get?experiment_id=1', headers: { authorization: ADMIN_AUTH } },
  { method: 'POST', path: '/api/2.0/mlflow/runs/search', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: '{"experiment_ids":["1"]}' },
  { method: 'GET', path: '/api/2.0/mlflow/experiments/get?experiment_id=1', headers: {} },
  { method: 'GET', path: '/api/2.0/mlflow/experiments/get?experiment_id=05', headers: { authorization: ADMIN_AUTH } },
  { method: 'GET', path: '/api/2.0/mlflow/experiments%2Fget?experiment_id=1', headers: { authorization: ADMIN_AUTH } }, // (a %2e%2e would be normalised away by the client's URL parser)
  { method: 'POST', path: '/api/2.0/mlflow/runs/create', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: '{"a":1,"a":2}' },
];

const memory = () => {
  const status = readFileSync(`/proc/${gh.pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(rssKiB / 102.4) / 10, fds: readdirSync(`/proc/${gh.pid}/fd`).length };
};

let sent = 0;
let failed = 0;
const statuses = new Map<number, number>();
const samples: { t: number; rssMiB: number; fds: number }[] = [];
const start = Date.now();
const tickMs = 50;
const perTick = Math.max(1, Math.round((rps * tickMs) / 1000));

const ticker = setInterval(() => {
  for (let i = 0; i < perTick; i++) {
    const m = MIX[sent++ % MIX.length]!;
    request(`${gh.url}${m.path}`, { method: m.method, headers: m.headers, body: m.body, dispatcher: agent })
      .then(async (r) => {
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        await r.body.dump();
      })
      .catch(() => failed++);
  }
}, tickMs);

const sampler = setInterval(() => {
  const s = { t: Math.round((Date.now() - start) / 1000), ...memory() };
  samples.push(s);
  console.log(JSON.stringify({ ...s, sent, failed, statuses: Object.fromEntries(statuses) }));
}, SAMPLE_MS);

await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(ticker);
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 1000));
samples.push({ t: Math.round((Date.now() - start) / 1000), ...memory() });

const warm = samples[Math.max(0, Math.floor(samples.length / 6))]!;
const last = samples.at(-1)!;
const rssOk = last.rssMiB <= warm.rssMiB * 1.25 + 16;
const fdsOk = last.fds <= warm.fds + 16;
console.log(JSON.stringify({ summary: { seconds, rps, sent, failed, warm, last, rssFlat: rssOk, fdsFlat: fdsOk, statuses: Object.fromEntries(statuses) } }));
await agent.close();
await gh.stop();
await stub.close();
process.exit(rssOk && fdsOk && failed === 0 ? 0 : 1);
