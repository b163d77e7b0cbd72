/**
 * A real Chromium (Debian's, driven by playwright-core; never a downloaded browser) logs into
 * the real MLflow UI behind the gateway — once through the password form, once through the
 * OIDC button against a real oidc-provider — sees an experiment created beforehand, logs out
 * and is sent back to the login page. Screenshots go to test-results/browser/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_AUTH, ADMIN_PASSWORD, ADMIN_USER, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { CLIENTS, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { ROOT } from '../harness/paths.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results/browser');
const EXPERIMENT = `browser-visible-${Date.now()}`;

let mlflow: MlflowServer;
let idp: TestIdp;
let gh: InProcess;
let experimentId: string;
const profiles: string[] = [];

before(async () => {
  // Never skipped: without Chromium the suite fails (scripts/test installs it).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  [mlflow, idp] = await Promise.all([startMlflow(), startIdp()]);
  gh = await startInProcess(mlflow.url, {
    'auth.browser': {
      oidc: [{ id: 'sso', label: 'Test IdP', issuer: idp.issuer, clientId: CLIENTS.browser.id, clientSecret: CLIENTS.browser.secret }],
    },
    // The IdP's user alice gets the admin role by binding her identity, `<provider id>:<sub>`.
    bindings: [{ role: 'admin', user: 'sso:alice' }],
  });
  await idp.allowBrowserClient(`${gh.url}/_gatehouse/oidc/callback/sso`, `${gh.url}/_gatehouse/login`);
  const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ name: EXPERIMENT }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  experimentId = (JSON.parse(text) as { experiment_id: string }).experiment_id;
});

after(async () => {
  await gh?.close();
  await Promise.all([mlflow?.stop(), idp?.close()]);
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

/** A fresh profile for each scenario: no cookies carried between them. */
async function browserContext(): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
  profiles.push(dir);
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS });
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const loginUrl = () => new RegExp(`^${gh.url.replace(/[.:/]/g, '\\$&')}/_gatehouse/login`);

async function seesExperimentThenLogsOut(page: Page, name: string): Promise<void> {
  await page.goto(`${gh.url}/#/experiments`);
  await page.getByText(EXPERIMENT).first().waitFor({ timeout: 60_000 });
  await shot(page, `${name}-2-experiments`);

  await page.goto(`${gh.url}/_gatehouse/logout`);
  await page.getByRole('button', { name: 'Sign out' }).click();
}

async function backAtLogin(page: Page, name: string): Promise<void> {
  await page.waitForURL(loginUrl(), { timeout: 30_000 });
  await page.getByRole('heading', { name: 'Sign in to MLflow' }).waitFor();
  await shot(page, `${name}-4-logged-out`);
  // The session is gone server-side: the UI sends the browser to login again.
  await page.goto(`${gh.url}/`);
  await page.waitForURL(loginUrl());
}

describe('a real browser logs into the MLflow UI', { timeout: 240_000 }, () => {
  test('through the password form', async () => {
    const context = await browserContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gh.url}/`);
      await page.waitForURL(loginUrl());
      await shot(page, 'password-1-login');
      // Keyboard only: the username field has focus, Tab to the password, Enter submits. (Typing
      // before the autofocus lands loses keys: wait for it.)
      await page.locator('#username:focus').waitFor();
      await page.keyboard.type(ADMIN_USER);
      await page.keyboard.press('Tab');
      await page.keyboard.type(ADMIN_PASSWORD);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.pathname === '/');
      const cookies = await context.cookies(gh.url);
      const session = cookies.find((c) => c.name === 'gatehouse_session');
      assert.ok(session?.httpOnly, 'an HttpOnly session cookie');
      assert.equal(String(await page.evaluate('document.cookie')).includes('gatehouse_session'), false, 'invisible to scripts');

      await seesExperimentThenLogsOut(page, 'password');
      await backAtLogin(page, 'password');
    } finally {
      await context.close();
    }
  });

  test('through the OIDC button', async () => {
    const context = await browserContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gh.url}/`);
      await page.waitForURL(loginUrl());
      await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();

      // oidc-provider's development login and consent pages.
      await page.waitForURL((u) => u.origin === idp.issuer);
      await page.locator('input[name="login"]').fill('alice');
      await page.locator('input[name="password"]').fill('any');
      await shot(page, 'oidc-1-idp-login');
      await page.locator('button[type="submit"]').click();
      const consent = page.getByRole('button', { name: /continue/i });
      await Promise.race([consent.waitFor({ timeout: 15_000 }).then(() => consent.click()), page.waitForURL((u) => u.origin === gh.url, { timeout: 15_000 })]);

      await page.waitForURL((u) => u.origin === gh.url && u.pathname === '/', { timeout: 30_000 });
      await seesExperimentThenLogsOut(page, 'oidc');

      // The IdP's end-session page asks for confirmation, then returns to the login page.
      await page.waitForURL((u) => u.origin === idp.issuer, { timeout: 15_000 });
      await shot(page, 'oidc-3-idp-logout');
      await page.getByRole('button', { name: /yes, sign me out/i }).click();
      await backAtLogin(page, 'oidc');
    } finally {
      await context.close();
    }
  });
});

// Deep links: MLflow's UI lives after `#`, which the browser never sends; the login page carries it
// through the password form and the OIDC code flow to the same MLflow page.
/** Opens the deep link signed out and waits for the login page. */
async function openSignedOut(page: Page): Promise<string> {
  const link = `#/experiments/${experimentId}`;
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && errors.push(m.text()));
  await page.goto(`${gh.url}/${link}`);
  await page.waitForURL((u) => u.pathname === '/_gatehouse/login');
  await page.getByRole('heading', { name: 'Sign in to MLflow' }).waitFor();
  assert.deepEqual(errors, [], 'the login page breaks no CSP rule');
  return link;
}

/** Landed on the MLflow page of the deep link, showing the experiment. */
async function landsOn(page: Page, link: string, name: string): Promise<void> {
  await page.waitForURL((u) => u.origin === gh.url && u.pathname === '/', { timeout: 30_000 });
  assert.equal(new URL(page.url()).hash, link);
  await page.getByText(EXPERIMENT).first().waitFor({ timeout: 60_000 });
  await shot(page, `deep-link-${name}`);
}

describe('a deep link opened signed out lands on the same MLflow page after sign-in', { timeout: 240_000 }, () => {
  test('through the password form', async () => {
    const context = await browserContext();
    try {
      const page = await context.newPage();
      const link = await openSignedOut(page);
      await page.locator('#username').fill(ADMIN_USER);
      await page.locator('#password').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await landsOn(page, link, 'password');
    } finally {
      await context.close();
    }
  });

  test('through the OIDC code flow', async () => {
    const context = await browserContext();
    try {
      const page = await context.newPage();
      const link = await openSignedOut(page);
      await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
      await page.waitForURL((u) => u.origin === idp.issuer);
      await page.locator('input[name="login"]').fill('alice');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
      const consent = page.getByRole('button', { name: /continue/i });
      await Promise.race([consent.waitFor({ timeout: 15_000 }).then(() => consent.click()), page.waitForURL((u) => u.origin === gh.url, { timeout: 15_000 })]);
      await landsOn(page, link, 'oidc');
    } finally {
      await context.close();
    }
  });
});
