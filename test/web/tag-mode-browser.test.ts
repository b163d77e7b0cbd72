/**
 * Tag-mode tenancy in a real Chromium (Debian's, driven by playwright-core) on the real MLflow
 * UI: the MLflow behind the gateway has no workspaces, yet the UI's workspace picker lists the
 * caller's tenants (src/tenancy/virtual-workspaces.ts), and picking one shows that
 * tenant's experiments only. Screenshots go to test-results/browser/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { basic, startInProcess, type InProcess, createUsers } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ROOT } from '../harness/paths.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results/browser');
const PASSWORD = 'tag-mode-browser-password';

let mlflow: MlflowServer;
let gh: InProcess;
let profile: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  mlflow = await startMlflow();
  gh = await startInProcess(mlflow.url, {
    tenancy: { mode: 'tag' },
    tenants: [
      { name: 'team-a', members: { users: ['alice', 'bob'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'team-a' },
      { role: 'viewer', user: 'bob', tenant: 'team-a' },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
    ],
  });
  await createUsers(gh, ['alice', 'bob'], PASSWORD);
  for (const [user, tenant, name] of [['alice', 'team-a', 'exp-of-team-a'], ['bob', 'team-b', 'exp-of-team-b']] as const) {
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { authorization: basic(user, PASSWORD), 'content-type': 'application/json', 'x-mlflow-workspace': tenant },
      body: JSON.stringify({ name }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  profile = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
});

after(async () => {
  await gh?.close();
  await mlflow?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('tag mode in the MLflow UI', { timeout: 240_000 }, () => {
  test('the workspace picker lists the caller\'s tenants; each shows only its own experiments', async () => {
    const context: BrowserContext = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await context.newPage();
      const headersSent: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/experiments/search')) headersSent.push(r.headers()['x-mlflow-workspace'] ?? '');
      });
      await page.goto(`${gh.url}/`);
      await page.waitForURL((u) => u.pathname.startsWith('/_gatehouse/login'));
      // Typed keys go to the focused element: wait for the form's autofocus, or the first ones are lost.
      await page.locator('#username:focus').waitFor();
      await page.keyboard.type('bob');
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === '/');

      await page.getByText('Select a workspace to start experiments').waitFor({ timeout: 60_000 });
      await page.getByRole('cell', { name: 'team-b' }).or(page.getByText('team-b', { exact: true })).first().waitFor();
      await page.getByText('team-a', { exact: true }).first().waitFor();
      await page.screenshot({ path: join(SHOTS, 'tag-mode-1-workspaces.png'), fullPage: true });

      await page.getByText('team-b', { exact: true }).first().click();
      await page.getByText('exp-of-team-b').first().waitFor({ timeout: 60_000 });
      assert.equal(await page.getByText('exp-of-team-a').count(), 0, "team-a's experiment is not shown in team-b");
      await page.screenshot({ path: join(SHOTS, 'tag-mode-2-team-b.png'), fullPage: true });

      await page.goto(`${gh.url}/#/experiments?workspace=team-a`);
      await page.getByText('exp-of-team-a').first().waitFor({ timeout: 60_000 });
      assert.equal(await page.getByText('exp-of-team-b').count(), 0, "team-b's experiment is not shown in team-a");
      await page.screenshot({ path: join(SHOTS, 'tag-mode-3-team-a.png'), fullPage: true });
      assert.ok(headersSent.includes('team-b') && headersSent.includes('team-a'), `the UI chose each tenant: ${headersSent}`);
    } finally {
      await context.close();
    }
  });
});
