/**
 * The console's Approvals screen (issue 23), driven by Debian's Chromium against the in-process
 * gateway in front of a real MLflow 3.18: a contributor's `set_registered_model_alias(name,
 * "production", v)` with the stock MLflow client is held; a model-approver sees the pending count
 * in the nav, opens the request, reads what will happen (the alias, the model, the version MLflow
 * has now — read from MLflow — and the version it moves to) and approves it: MLflow, read
 * directly, then has the alias. The requester sees their request without Approve or Deny; a deny
 * with an empty comment is refused in the page and nothing is decided. Screenshots go to
 * test-results/console/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { aliasesInMlflow as aliasesOf, APPROVALS_SETUP, runAliasScript } from '../harness/approvals.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results/console');
const PASSWORD = 'approvals-console-password';
const MODEL = 'churn-console-approvals';

let mlflow: MlflowServer;
let gh: InProcess;
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    'auth.providers': [{ type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } }],
    ...APPROVALS_SETUP,
  });
  await createUsers(gh, ['alice', 'mia'], PASSWORD);
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await gh?.close();
  await mlflow?.stop();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

async function browserPage(): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  contexts.push(context);
  return context.newPage();
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function signIn(page: Page, user: string): Promise<void> {
  await page.goto(`${gh.url}/_gatehouse/`);
  await page.waitForURL((u) => u.pathname === '/_gatehouse/login');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/_gatehouse/');
  await page.getByRole('heading', { name: 'My account' }).waitFor();
}

/** The registered model's aliases as MLflow itself has them, read without the gateway. */
const aliasesInMlflow = () => aliasesOf(mlflow.url, MODEL);

/** Alice points `production` at `version` through the gateway; the answer names the held request. */
async function aliceMovesProduction(version: string): Promise<string> {
  const res = await fetch(`${gh.url}/api/2.0/mlflow/registered-models/alias`, {
    method: 'POST',
    headers: { authorization: basic('alice', PASSWORD), 'content-type': 'application/json' },
    body: JSON.stringify({ name: MODEL, alias: 'production', version }),
  });
  const text = await res.text();
  assert.equal(res.status, 403, text);
  const id = /request ([0-9a-f-]{36})/.exec(text)?.[1];
  assert.ok(id, text);
  return id;
}

describe('the console approvals queue', { timeout: 300_000 }, () => {
  let version = '';
  let firstId = '';
  let secondId = '';
  let mia: Page;

  test("a contributor's alias move is held; the model-approver approves it in the console and MLflow has the alias", async () => {
    const r = await runAliasScript(gh.url, 'alice', PASSWORD, MODEL, 'approvals-console');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { version: string; error: { text: string } | null };
    version = out.version;
    firstId = /request ([0-9a-f-]{36})/.exec(out.error?.text ?? '')?.[1] ?? '';
    assert.ok(firstId, JSON.stringify(out));
    assert.deepEqual(await aliasesInMlflow(), {}, 'held: MLflow has no production alias');

    mia = await browserPage();
    await signIn(mia, 'mia');
    const link = mia.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: /^Approvals/ });
    await link.filter({ hasText: '1 pending' }).waitFor();
    await link.click();
    await mia.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    await mia.getByRole('cell', { name: `alias production of ${MODEL} → version ${version}` }).waitFor();
    await shot(mia, 'approvals-01-queue');

    await mia.getByRole('link', { name: `Request ${firstId}` }).click();
    await mia.getByRole('heading', { name: 'Approval request', level: 1 }).waitFor();
    const what = mia.getByRole('region', { name: 'What will happen' });
    // MLflow has no production alias yet: the page says so, read from MLflow, not guessed.
    await what.getByText(`Model ${MODEL}: alias production moves from (not set) to version ${version}.`).waitFor();
    await shot(mia, 'approvals-02-detail');
    await mia.getByLabel('Comment').fill('validated on the holdout set');
    await mia.getByRole('button', { name: 'Approve', exact: true }).click();
    await mia.getByText('Status: executed').waitFor();
    await shot(mia, 'approvals-03-executed');
    assert.deepEqual(await aliasesInMlflow(), { production: version }, 'MLflow has the alias once approved');
  });

  test('the requester sees their own request without Approve or Deny', async () => {
    const id = await aliceMovesProduction(version);
    secondId = id;
    const alice = await browserPage();
    await signIn(alice, 'alice');
    await alice.goto(`${gh.url}/_gatehouse/#/approvals/${id}`);
    await alice.getByRole('heading', { name: 'Approval request', level: 1 }).waitFor();
    await alice.getByText('You asked for this: another person decides it.').waitFor();
    // The current alias, as MLflow has it now (the first request's execution).
    await alice.getByRole('region', { name: 'What will happen' }).getByText(`alias production moves from version ${version} to version ${version}.`).waitFor();
    assert.equal(await alice.getByRole('button', { name: 'Approve', exact: true }).count(), 0);
    assert.equal(await alice.getByRole('button', { name: 'Deny', exact: true }).count(), 0);
    await shot(alice, 'approvals-04-own-request');

    // A deny without a comment is refused in the page; nothing is decided.
    await mia.goto(`${gh.url}/_gatehouse/#/approvals/${id}`);
    await mia.getByRole('heading', { name: 'Approval request', level: 1 }).waitFor();
    await mia.getByText('Status: pending').waitFor();
    await mia.getByRole('button', { name: 'Deny', exact: true }).click();
    await mia.getByRole('alert').getByText('A denial needs a comment saying why.').waitFor();
    await shot(mia, 'approvals-05-deny-needs-comment');
    const still = await fetch(`${gh.url}/_gatehouse/api/v1/approvals/${id}`, { headers: { authorization: basic('mia', PASSWORD) } });
    assert.equal(((await still.json()) as { status: string; votes: unknown[] }).status, 'pending');
    await mia.getByLabel('Comment').fill('no: the holdout is stale');
    await mia.getByRole('button', { name: 'Deny', exact: true }).click();
    await mia.getByText('Status: denied').waitFor();
  });

  test('the CLI lists and shows requests, read-only: approve and deny are not CLI commands', async () => {
    const id = await aliceMovesProduction(version);
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-approvals-'));
    profiles.push(dir);
    const config = join(dir, 'gatehouse.yaml');
    // The running gateway's store and MLflow, as an operator's configuration names them.
    writeFileSync(config, [`dataDir: ${gh.dataDir}`, 'mlflow:', `  url: ${mlflow.url}`, 'tenancy: { mode: tag }', 'audit: { sinks: [] }'].join('\n'));
    const cli = (...args: string[]) => {
      const r = spawnSync(join(ROOT, 'bin/gatehouse'), [...args, '-c', config], { encoding: 'utf8', env: childEnv({}) });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const list = cli('approvals', 'list', '--status', 'pending');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split('  ').slice(0, 5)), [[id, 'pending', 'team-a', 'local:alice', `alias production of ${MODEL} -> version ${version}`]]);
    const json = cli('approvals', 'list', '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { id: string; status: string }[]).map((a) => [a.id, a.status]).sort(), [[firstId, 'executed'], [id, 'pending'], [secondId, 'denied']].sort());
    const show = cli('approvals', 'show', id);
    assert.equal(show.code, 0, show.stderr);
    // Read from MLflow now: production points at the version the first request set.
    assert.match(show.stdout, new RegExp(`^  MLflow now: version ${version}$`, 'm'));
    assert.match(show.stdout, /^  rule production-aliases: 0 of 1 approval\(s\)$/m);
    const missing = cli('approvals', 'show', '00000000-0000-0000-0000-000000000000');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such approval request/);
    assert.equal(cli('approvals', 'list', '--status', 'open').code, 2);
    const approve = cli('approvals', 'approve', id);
    assert.equal(approve.code, 2, 'no approve command in the CLI');
    assert.equal(((await (await fetch(`${gh.url}/_gatehouse/api/v1/approvals/${id}`, { headers: { authorization: basic('mia', PASSWORD) } })).json()) as { status: string }).status, 'pending');
  });
});
