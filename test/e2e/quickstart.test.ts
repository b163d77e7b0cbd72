/**
 * ./scripts/quickstart as a person runs it (issue 20): real MLflow, real gateway, its own
 * configuration file in its data directory. Its audit is queryable (the store sink, hash-chained)
 * while the terminal stays quiet; `-v` adds one line per request. It prints, on every start, the
 * CLI invocation that reaches its store, and that invocation works as printed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from '../harness/paths.ts';
import { freePort } from '../harness/ports.ts';
import { startQuickstart, type Quickstart } from '../harness/quickstart.ts';

const data = mkdtempSync(join(tmpdir(), 'gh-quickstart-'));
const PASSWORD = 'quickstart-test-password-1';
const ADMIN = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
let running: Quickstart | undefined;
after(async () => {
  await stop();
  rmSync(data, { recursive: true, force: true });
});

async function start(env: Record<string, string>, args: string[] = []): Promise<Quickstart> {
  running = await startQuickstart({ GATEHOUSE_DATA_DIR: data, GATEHOUSE_ADMIN_PASSWORD: PASSWORD, ...env }, args);
  return running;
}

async function stop(): Promise<number | null> {
  const q = running;
  running = undefined;
  return q ? q.stop() : null;
}

/** A line the quickstart printed for the operator to run, run as printed (`npx gatehouse` is this checkout's bin). */
function runPrinted(line: string, extra: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', `${line} ${extra.join(' ')}`], { cwd: ROOT, encoding: 'utf8', env: childEnv() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the quickstart: its audit is in the store and verifies, the terminal stays quiet, -v logs requests, the printed CLI line reaches its store', { timeout: 600_000 }, async () => {
  // Three distinct ports: freePort lets its port go at once, so two calls can answer the same one.
  const picked: number[] = [];
  while (picked.length < 3) {
    const p = await freePort();
    if (!picked.includes(p)) picked.push(p);
  }
  const ports = { MLFLOW_PORT: String(picked[0]), GATEHOUSE_SERVER__PUBLIC__PORT: String(picked[1]), GATEHOUSE_SERVER__INTERNAL__PORT: String(picked[2]) };
  const url = `http://127.0.0.1:${ports.GATEHOUSE_SERVER__PUBLIC__PORT}`;
  const first = await start(ports);
  const config = readFileSync(join(data, 'gatehouse.yaml'), 'utf8');
  assert.match(config, /- type: store/);
  assert.match(config, /requests: false/);

  const search = await fetch(`${url}/api/2.0/mlflow/experiments/search?max_results=5`, { headers: { authorization: ADMIN } });
  assert.equal(search.status, 200, await search.text());
  const audit = await fetch(`${url}/_gatehouse/api/v1/audit?principal=local:admin`, { headers: { authorization: ADMIN } });
  assert.equal(audit.status, 200);
  const events = JSON.stringify(await audit.json());
  assert.match(events, /experiments\.search/, 'the MLflow call is in the queryable audit trail');
  assert.doesNotMatch(first.stdout(), /"msg":"request"/, 'no request log on the terminal without -v');

  const printed = /^ {4}(GATEHOUSE_DATA_DIR=\S+ npx gatehouse) users list$/m.exec(first.stderr());
  assert.ok(printed, first.stderr());
  const users = runPrinted(printed[1]!, ['users', 'list', '--json']);
  assert.equal(users.code, 0, users.stderr);
  assert.deepEqual((JSON.parse(users.stdout) as { username: string }[]).map((u) => u.username), ['admin']);
  assert.equal(await stop(), 0, 'Ctrl-C is a normal end');
  // The chain the gateway wrote, checked after it stopped (its last events flushed).
  const verify = runPrinted(printed[1]!, ['audit', 'verify', '--store']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);

  // The second start keeps the file, prints the same invocation, and with -v logs each request.
  const second = await start(ports, ['-v']);
  assert.equal(readFileSync(join(data, 'gatehouse.yaml'), 'utf8'), config);
  assert.match(second.stderr(), new RegExp(`^ {4}${printed[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} users list$`, 'm'));
  assert.equal((await fetch(`${url}/api/2.0/mlflow/experiments/search?max_results=5`, { headers: { authorization: ADMIN } })).status, 200);
  for (let i = 0; i < 50 && !second.stdout().includes('"msg":"request"'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(second.stdout(), /"op":"experiments\.search\w*".*"msg":"request"/);
  assert.equal(await stop(), 0);
  assert.ok(existsSync(join(data, 'gatehouse.db')));
});

test('Ctrl-C after the terminal went away still stops MLflow and the gateway', { timeout: 600_000 }, async () => {
  // Three distinct ports: freePort lets its port go at once, so two calls can answer the same one.
  const picked: number[] = [];
  while (picked.length < 3) {
    const p = await freePort();
    if (!picked.includes(p)) picked.push(p);
  }
  const ports = { MLFLOW_PORT: String(picked[0]), GATEHOUSE_SERVER__PUBLIC__PORT: String(picked[1]), GATEHOUSE_SERVER__INTERNAL__PORT: String(picked[2]) };
  const q = await start({ ...ports, GATEHOUSE_DATA_DIR: join(data, 'another') });
  const up = (port: string, path: string) => fetch(`http://127.0.0.1:${port}${path}`).then(() => true, () => false);
  assert.ok(await up(ports.MLFLOW_PORT, '/health'));
  q.closeOutput();
  await stop();
  // Its stop handler writes 'stopping' first: on a closed pipe that must not end it before it stopped both.
  assert.equal(await up(ports.MLFLOW_PORT, '/health'), false, 'MLflow was left running');
  assert.equal(await up(ports.GATEHOUSE_SERVER__PUBLIC__PORT, '/readyz'), false, 'the gateway was left running');
});
