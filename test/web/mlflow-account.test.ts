/**
 * MLflow 3.18's own Account and Platform Admin pages in a real Chromium (Debian's, driven by
 * playwright-core), through the gateway, in front of a real MLflow 3.18 with workspaces: an
 * administrator sees the users and roles, and creates a role with a permission and an assignment
 * through MLflow's own Create Role form; a member sees its own permissions on its Account page. Every
 * request the pages make to the auth API is recorded: none may fail. Screenshots go to
 * test-results/mlflow-account/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_AUTH, ADMIN_PASSWORD, ADMIN_USER, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ROOT } from '../harness/paths.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results/mlflow-account');
const MEMBER = 'mia';
const MEMBER_PASSWORD = 'mia-password-01234';

let mlflow: MlflowServer;
let gh: InProcess;
let experimentId: string;
const profiles: string[] = [];

async function call(method: string, path: string, body?: unknown, authorization = ADMIN_AUTH): Promise<Record<string, unknown>> {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${path}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

before(async () => {
  // Never skipped: without Chromium the suite fails (scripts/test installs it).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  mlflow = await startMlflow({ workspaces: true });
  gh = await startInProcess(mlflow.url);
  experimentId = (await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'account-page-exp' })).experiment_id as string;
  await call('POST', '/api/2.0/mlflow/users/create', { username: MEMBER, password: MEMBER_PASSWORD });
  const role = (await call('POST', '/api/3.0/mlflow/roles/create', { workspace: 'default', name: 'analysts', description: 'read the experiment' })).role as { id: number };
  await call('POST', '/api/3.0/mlflow/roles/permissions/add', { role_id: role.id, resource_type: 'experiment', resource_pattern: experimentId, permission: 'READ' });
  await call('POST', '/api/3.0/mlflow/roles/assign', { username: MEMBER, role_id: role.id });
  // The member can read the experiment through the role.
  await call('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${experimentId}`, undefined, basic(MEMBER, MEMBER_PASSWORD));
});

after(async () => {
  await gh?.close();
  await mlflow?.stop();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

/** A fresh profile per scenario, signed in through the password form; every failed auth-API call is recorded. */
async function signedIn(user: string, password: string): Promise<{ context: BrowserContext; page: Page; failed: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  const page = await context.newPage();
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && /\/mlflow\/(users|roles)\//.test(r.url())) failed.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  await page.goto(`${gh.url}/`);
  await page.locator('#username:focus').waitFor();
  await page.locator('#username').fill(user);
  await page.locator('#password').fill(password);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/');
  return { context, page, failed };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe("MLflow's Account and Platform Admin pages through the gateway", { timeout: 300_000 }, () => {
  test('an administrator sees users with their roles, a role with its permissions, and creates a role through the form', async () => {
    const { context, page, failed } = await signedIn(ADMIN_USER, ADMIN_PASSWORD);
    try {
      await page.goto(`${gh.url}/#/admin`);
      const mia = page.getByRole('row').filter({ hasText: MEMBER });
      await mia.getByText('analysts').waitFor({ timeout: 60_000 });
      await page.getByRole('row').filter({ has: page.getByRole('link', { name: ADMIN_USER, exact: true }) }).locator('[data-component-id="admin.users.admin_tag"]').first().waitFor();
      await shot(page, 'admin-1-users');

      await page.getByRole('tab', { name: 'Roles' }).click();
      await page.getByText('analysts').first().click();
      const row = page.getByRole('row').filter({ hasText: 'experiment' });
      await row.getByText('READ').waitFor();
      assert.ok((await row.textContent())?.includes(experimentId), 'the permission names the experiment');
      await page.getByText('read the experiment · Workspace: default').waitFor();
      await shot(page, 'admin-2-role');

      await page.goto(`${gh.url}/#/admin`);
      await page.getByRole('tab', { name: 'Roles' }).click();
      await page.locator('[data-component-id="admin.roles.create_button"]').click();
      await page.getByPlaceholder('Enter role name').fill('curators');
      await page.getByPlaceholder('Enter description (optional)').fill('made in the browser');
      // MLflow's form: READ on all experiments (its defaults), assigned to the member.
      await page.getByText('Permissions', { exact: true }).click();
      await page.locator('[data-component-id="admin.role_permissions.add"]').click();
      await page.getByText('Assign users', { exact: true }).click();
      await page.locator('[data-component-id="admin.role_users.users"] [role=combobox]').click();
      await page.getByRole('option', { name: MEMBER }).click();
      await page.keyboard.press('Escape');
      await shot(page, 'admin-3-create-role');
      await page.locator('[data-component-id="admin.create_role_modal.submit"]').click();
      await page.getByText('curators').first().waitFor({ timeout: 30_000 });
      await shot(page, 'admin-4-roles');
      const roles = (await call('GET', '/api/3.0/mlflow/roles/list?workspace=default')).roles as { name: string; description: string }[];
      assert.deepEqual(
        roles.map((r) => [r.name, r.description]),
        [
          ['analysts', 'read the experiment'],
          ['curators', 'made in the browser'],
        ],
      );
      const curators = (await call('GET', '/api/3.0/mlflow/users/roles/list?username=mia')).roles as { name: string; permissions: { resource_type: string; resource_pattern: string; permission: string }[] }[];
      assert.deepEqual(
        curators.map((r) => [r.name, r.permissions.map((p) => [p.resource_type, p.resource_pattern, p.permission])]),
        [
          ['analysts', [['experiment', experimentId, 'READ']]],
          ['curators', [['experiment', '*', 'READ']]],
        ],
        'the form added the permission and the assignment',
      );
      // ... and the engine enforces them: the member now reads every experiment of the workspace.
      const other = (await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'made-after-curators' })).experiment_id as string;
      await call('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${other}`, undefined, basic(MEMBER, MEMBER_PASSWORD));
      assert.deepEqual(failed, [], 'no auth API call of the pages failed');
    } finally {
      await context.close();
    }
  });

  test('a member sees its own roles and permissions on its Account page (the roles given in the test above included)', async () => {
    const { context, page, failed } = await signedIn(MEMBER, MEMBER_PASSWORD);
    try {
      await page.goto(`${gh.url}/#/account`);
      await page.getByText(`Logged in as ${MEMBER}`).waitFor({ timeout: 60_000 });
      await page.getByRole('row').filter({ hasText: 'analysts' }).getByText('default').waitFor();
      await page.getByRole('row').filter({ hasText: 'curators' }).getByText('default').waitFor();
      await shot(page, 'member-1-roles');
      await page.getByRole('tab', { name: 'Permissions' }).click();
      const row = page.getByRole('row').filter({ hasText: `experiment:${experimentId}` });
      await row.getByText('READ').waitFor();
      assert.ok((await row.textContent())?.includes('analysts'), 'the permission names the role it comes from');
      await shot(page, 'member-2-permissions');
      assert.deepEqual(failed, [], 'no auth API call of the page failed');
    } finally {
      await context.close();
    }
  });
});
