/**
 * No existence oracle by timing (issue 18, finding 2), against a real MLflow 3.18 in tag mode:
 * another tenant's run or experiment id and an id that exists nowhere must be refused with the
 * same status, the same body and the same latency. The gateway resolves ids through cached MLflow
 * lookups; when only found ids were cached, a foreign id was answered from the cache and a missing
 * one paid an MLflow round trip on every request.
 *
 * Timing is compared as a ratio of medians of interleaved samples (never a wall-clock threshold),
 * and the two distributions must overlap (each one's median lies inside the other's middle half
 * widened by the noise between two runs of the same kind).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { basic, createUsers, startInProcess, TWO_TENANTS_THREE_GROUPS, type InProcess } from '../harness/gatehouse.ts';

const PASSWORD = 'timing-test-password';
const ROUNDS = 120;

let mlflow: MlflowServer;
let gh: InProcess;
let foreignExperiment: string;
let foreignRun: string;

async function call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { authorization: basic(user, PASSWORD), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

before(async () => {
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, { tenancy: { mode: 'tag' }, ...TWO_TENANTS_THREE_GROUPS.policy, 'rateLimits.enabled': false });
  await createUsers(gh, ['alice', 'bob'], PASSWORD);
  // bob's (team-b) experiment and run: real, tagged team-b, and none of alice's business.
  const e = await call('bob', 'POST', '/api/2.0/mlflow/experiments/create', { name: 'b-private' });
  assert.equal(e.status, 200, e.text);
  foreignExperiment = (JSON.parse(e.text) as { experiment_id: string }).experiment_id;
  const r = await call('bob', 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: foreignExperiment });
  assert.equal(r.status, 200, r.text);
  foreignRun = (JSON.parse(r.text) as { run: { info: { run_id: string } } }).run.info.run_id;
});
after(async () => {
  await gh?.close();
  await mlflow?.stop();
});

interface Sample {
  readonly ms: number;
  readonly status: number;
  readonly text: string;
}

async function timed(path: string): Promise<Sample> {
  const start = performance.now();
  const { status, text } = await call('alice', 'GET', path);
  return { ms: performance.now() - start, status, text };
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/**
 * Interleaved samples of two refusals (ABBA order, so neither always runs first), after a warm-up
 * that lets each path reach its steady state (whatever the gateway caches, it has cached).
 */
async function sideBySide(foreign: string, missing: string): Promise<{ foreign: Sample[]; missing: Sample[] }> {
  for (let i = 0; i < 5; i++) {
    await timed(foreign);
    await timed(missing);
  }
  const out = { foreign: [] as Sample[], missing: [] as Sample[] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? (['foreign', 'missing'] as const) : (['missing', 'foreign'] as const);
    for (const which of order) out[which].push(await timed(which === 'foreign' ? foreign : missing));
  }
  return out;
}

function assertIndistinguishable(what: string, s: { foreign: Sample[]; missing: Sample[] }): void {
  const all = [...s.foreign, ...s.missing];
  // Status and body: byte for byte the same refusal.
  assert.deepEqual(new Set(all.map((x) => x.status)), new Set([404]), `${what}: statuses`);
  assert.equal(new Set(all.map((x) => x.text)).size, 1, `${what}: one body for both`);
  const f = s.foreign.map((x) => x.ms);
  const m = s.missing.map((x) => x.ms);
  const [fMed, mMed] = [quantile(f, 0.5), quantile(m, 0.5)];
  const ratio = mMed / fMed;
  const figures = `${what}: median foreign ${fMed.toFixed(2)} ms, missing ${mMed.toFixed(2)} ms, ratio ${ratio.toFixed(2)}; middle halves [${quantile(f, 0.25).toFixed(2)}, ${quantile(f, 0.75).toFixed(2)}] and [${quantile(m, 0.25).toFixed(2)}, ${quantile(m, 0.75).toFixed(2)}]`;
  console.log(figures);
  // The middle halves overlap, and neither median is half again the other.
  assert.ok(quantile(f, 0.25) <= quantile(m, 0.75) && quantile(m, 0.25) <= quantile(f, 0.75), `distributions apart: ${figures}`);
  assert.ok(ratio > 1 / 1.5 && ratio < 1.5, `medians apart: ${figures}`);
}

describe('tag mode: a foreign id and a missing id cannot be told apart', () => {
  test('runs/get: another tenant\'s run and a run that does not exist', async () => {
    const s = await sideBySide(`/api/2.0/mlflow/runs/get?run_id=${foreignRun}`, `/api/2.0/mlflow/runs/get?run_id=${'e'.repeat(32)}`);
    assertIndistinguishable('runs/get', s);
  });

  test('experiments/get: another tenant\'s experiment and an experiment that does not exist', async () => {
    const s = await sideBySide(`/api/2.0/mlflow/experiments/get?experiment_id=${foreignExperiment}`, '/api/2.0/mlflow/experiments/get?experiment_id=987654321');
    assertIndistinguishable('experiments/get', s);
  });
});

describe('tag mode: a remembered "missing" never hides what was created since', () => {
  test('an experiment id probed before it existed is served as soon as the gateway forwarded its creation', async () => {
    // Experiment ids are sequential: the next one can be probed before anyone creates it.
    const next = String(Number(foreignExperiment) + 1);
    for (let i = 0; i < 3; i++) assert.equal((await call('alice', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${next}`)).status, 404);
    const created = await call('alice', 'POST', '/api/2.0/mlflow/experiments/create', { name: 'a-after-probe' });
    assert.equal(created.status, 200, created.text);
    assert.equal((JSON.parse(created.text) as { experiment_id: string }).experiment_id, next);
    const read = await call('alice', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${next}`);
    assert.equal(read.status, 200, read.text);
    // bob (another tenant) still gets "does not exist", as for any foreign id.
    assert.equal((await call('bob', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${next}`)).status, 404);
  });

});

