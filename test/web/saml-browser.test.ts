/**
 * SAML sign-in end to end: a real Chromium (Debian's, driven by playwright-core) signs in through
 * a real SAML IdP the project did not write (samlify in the IdP role, test/harness/saml-idp.ts)
 * and uses the real MLflow UI (MLflow 3.18, tag-mode tenancy) in the tenant its IdP group gives
 * it; single logout ends the session at both ends. Then, over HTTP, each attack on the assertion
 * consumer service is refused with its reason id and recorded as a `session.signInFailed` admin
 * event; an IdP-initiated logout ends the session. Screenshots go to test-results/browser/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import type { AdminAuditEvent } from '../../src/audit/admin-event.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { ROOT } from '../harness/paths.ts';
import { freePort, waitFor } from '../harness/ports.ts';
import { spKeyPair, startSamlIdp, type SamlIdp, type SamlUser } from '../harness/saml-idp.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results/browser');
const ALICE: SamlUser = { nameId: '7c1e0b52-alice', username: 'alice', email: 'alice@example.com', groups: ['mlflow-team-a', 'staff'] };

let mlflow: MlflowServer;
let idp: SamlIdp;
let gh: InProcess;
let keys: ReturnType<typeof spKeyPair>;
let profile: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  [mlflow, idp] = await Promise.all([startMlflow(), startSamlIdp([ALICE])]);
  keys = spKeyPair();
  const port = await freePort();
  gh = await startInProcess(mlflow.url, {
    'server.public': { host: '127.0.0.1', port },
    'audit.sinks': [{ type: 'store' }],
    'auth.browser': {
      saml: [{ id: 'corp', label: 'Corp SAML', baseUrl: `http://127.0.0.1:${port}`, metadataFile: idp.metadataFile, privateKeyFile: keys.keyFile, certificateFile: keys.certFile }],
    },
    tenancy: { mode: 'tag' },
    // The IdP's group mlflow-team-a makes its members contributors of team-a.
    tenants: [
      { name: 'team-a', members: { groups: ['mlflow-team-a'] } },
      { name: 'team-b', members: { groups: ['mlflow-team-b'] } },
    ],
    bindings: [{ role: 'contributor', group: 'mlflow-team-a', tenant: 'team-a' }],
  });
  // The operator hands the SP metadata (from the gateway's endpoint) to the IdP.
  const metadata = await fetch(`${gh.url}/_gatehouse/saml/metadata/corp`);
  assert.equal(metadata.status, 200);
  assert.match(metadata.headers.get('content-type') ?? '', /samlmetadata\+xml/);
  idp.registerSp(await metadata.text());
  for (const tenant of ['team-a', 'team-b']) {
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', 'x-mlflow-workspace': tenant },
      body: JSON.stringify({ name: `saml-exp-of-${tenant}` }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  profile = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
});

after(async () => {
  await gh?.close();
  await Promise.all([mlflow?.stop(), idp?.close()]);
  keys?.dispose();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function adminEvents(): Promise<AdminAuditEvent[]> {
  const out: AdminAuditEvent[] = [];
  for await (const e of auditRepository(gh.store.db).scan()) if (e.type === 'admin') out.push(e);
  return out;
}

describe('SAML sign-in in a real browser', { timeout: 240_000 }, () => {
  test('signs in through the IdP, uses the MLflow UI in its tenant, single logout ends both sessions', async () => {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await context.newPage();
      await page.goto(`${gh.url}/`);
      await page.waitForURL((u) => u.pathname.startsWith('/_gatehouse/login'));
      await page.getByRole('link', { name: 'Sign in with Corp SAML' }).click();

      await page.waitForURL((u) => u.origin === idp.url && u.pathname === '/sso');
      await page.locator('input[name="user"]').fill('alice');
      await page.screenshot({ path: join(SHOTS, 'saml-1-idp.png'), fullPage: true });
      await page.getByRole('button', { name: 'Sign in' }).click();
      // The IdP's page posts the signed Response to the ACS; the gateway starts the session.
      await page.waitForURL((u) => u.origin === gh.url && u.pathname === '/', { timeout: 30_000 });
      const session = (await context.cookies(gh.url)).find((c) => c.name === 'gatehouse_session');
      assert.ok(session?.httpOnly, 'an HttpOnly session cookie');

      await page.goto(`${gh.url}/#/experiments?workspace=team-a`);
      await page.getByText('saml-exp-of-team-a').first().waitFor({ timeout: 60_000 });
      assert.equal(await page.getByText('saml-exp-of-team-b').count(), 0, "team-b's experiment is not shown");
      await page.screenshot({ path: join(SHOTS, 'saml-2-experiments.png'), fullPage: true });
      // The UI's session can create in its tenant and is refused in the other one.
      const statusIn = (tenant: string) =>
        page.evaluate(
          async ([t, name]) =>
            (await fetch('/ajax-api/2.0/mlflow/experiments/create', { method: 'POST', headers: { 'content-type': 'application/json', 'x-mlflow-workspace': t! }, body: JSON.stringify({ name }) })).status,
          [tenant, `made-by-alice-in-${tenant}`],
        );
      assert.equal(await statusIn('team-a'), 200);
      assert.equal(await statusIn('team-b'), 403);

      const signIn = (await adminEvents()).find((e) => e.action === 'session.signIn' && e.actor.id === 'corp:7c1e0b52-alice');
      assert.ok(signIn, 'the sign-in is an admin event naming the SAML principal');

      await page.goto(`${gh.url}/_gatehouse/logout`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      // To the IdP's SLO endpoint (a signed LogoutRequest), back with its signed LogoutResponse.
      await page.waitForURL((u) => u.origin === gh.url && u.pathname.startsWith('/_gatehouse/login'), { timeout: 30_000 });
      assert.equal(idp.logoutRequests.length, 1, 'the IdP received one LogoutRequest');
      assert.match(idp.logoutRequests[0]!, /7c1e0b52-alice/);
      await page.screenshot({ path: join(SHOTS, 'saml-3-logged-out.png'), fullPage: true });
      await page.goto(`${gh.url}/`);
      await page.waitForURL((u) => u.pathname.startsWith('/_gatehouse/login'));
    } finally {
      await context.close();
    }
  });
});

/** A login started over HTTP as a browser would: the pending-login cookie, the request id and relay state. */
async function startLogin(): Promise<{ cookie: string; requestId: string; relayState: string }> {
  const res = await fetch(`${gh.url}/_gatehouse/saml/start/corp?next=/`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get('location')!);
  const request = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest')!, 'base64')).toString();
  return {
    cookie: /gatehouse_saml=[^;]+/.exec(res.headers.getSetCookie().join('\n'))![0],
    requestId: / ID="([^"]+)"/.exec(request)![1]!,
    relayState: location.searchParams.get('RelayState')!,
  };
}

async function post(login: { cookie: string; relayState: string }, samlResponse: string, relayState = login.relayState): Promise<Response> {
  return fetch(`${gh.url}/_gatehouse/saml/acs/corp`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: login.cookie },
    body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: relayState }).toString(),
  });
}

const decode = (r: string) => Buffer.from(r, 'base64').toString('utf8');
const encode = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

describe('the assertion consumer service refuses attacks, each audited with its reason', { timeout: 120_000 }, () => {
  const cases: [string, (login: { requestId: string }) => Promise<{ response: string; relayState?: string }>][] = [
    ['bad-signature', async (l) => ({ response: encode(decode(await idp.respond(ALICE, { inResponseTo: l.requestId })).replace('>staff<', '>admins<')) })],
    ['unsigned', async (l) => ({ response: encode(decode(await idp.respond(ALICE, { inResponseTo: l.requestId })).replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')) })],
    [
      'not-one-assertion',
      async (l) => {
        const xml = decode(await idp.respond(ALICE, { inResponseTo: l.requestId }));
        const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
        const forged = assertion.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace(ALICE.nameId, 'admin').replace(/ID="[^"]+"/, 'ID="_evil"');
        return { response: encode(xml.replace(assertion, forged + assertion)) };
      },
    ],
    ['expired', async (l) => ({ response: await idp.respond(ALICE, { inResponseTo: l.requestId, issuedAt: new Date(Date.now() - 3_600_000) }) })],
    ['wrong-audience', async (l) => ({ response: await idp.respond(ALICE, { inResponseTo: l.requestId, audience: 'https://other-sp.example/' }) })],
    ['weak-algorithm', async (l) => ({ response: await idp.respond(ALICE, { inResponseTo: l.requestId, sha1: true }) })],
    ['xml-comment', async (l) => ({ response: encode(decode(await idp.respond(ALICE, { inResponseTo: l.requestId })).replace(`>${ALICE.nameId}<`, `>${ALICE.nameId}<!---->.evil<`)) })],
    ['unsolicited', async () => ({ response: await idp.respond(ALICE, {}) })],
    ['relay-state-mismatch', async (l) => ({ response: await idp.respond(ALICE, { inResponseTo: l.requestId }), relayState: 'from-another-browser' })],
    ['in-response-to-mismatch', async () => ({ response: await idp.respond(ALICE, { inResponseTo: '_a-request-of-another-browser' }) })],
  ];
  for (const [reason, make] of cases) {
    test(reason, async () => {
      const login = await startLogin();
      const { response, relayState } = await make(login);
      const before = (await adminEvents()).length;
      const res = await post(login, response, relayState);
      assert.equal(res.status, 401);
      assert.equal(res.headers.getSetCookie().some((c) => c.startsWith('gatehouse_session=') && !c.startsWith('gatehouse_session=;')), false, 'no session');
      assert.match(await res.text(), /Sign-in with Corp SAML failed/);
      let failed: AdminAuditEvent | undefined;
      await waitFor('the admin event', async () => Boolean((failed = (await adminEvents()).slice(before).find((e) => e.action === 'session.signInFailed'))), 10_000);
      assert.equal(failed!.reason, `corp: ${reason}`);
      assert.equal(failed!.outcome, 'denied');
    });
  }

  test('a genuine response is accepted once: posted again it is refused, with the same browser or a fresh login', async () => {
    const login = await startLogin();
    const response = await idp.respond(ALICE, { inResponseTo: login.requestId });
    assert.equal((await post(login, response)).status, 303);
    const lastReason = async () => (await adminEvents()).filter((e) => e.action === 'session.signInFailed').at(-1)?.reason;
    // The pending login ended when it was used...
    assert.equal((await post(login, response)).status, 401);
    await waitFor('the refusal', async () => (await lastReason()) === 'corp: no-pending-login', 10_000);
    // ...and a fresh login is bound to another request (the assertion id is in the replay cache too,
    // test/identity/saml.test.ts and the store conformance suite).
    const fresh = await startLogin();
    assert.equal((await post(fresh, response)).status, 401);
    await waitFor('the refusal', async () => (await lastReason()) === 'corp: in-response-to-mismatch', 10_000);
  });

  test('an IdP-initiated logout ends every session of that principal', async () => {
    const login = await startLogin();
    const ok = await post(login, await idp.respond(ALICE, { inResponseTo: login.requestId }));
    assert.equal(ok.status, 303);
    const session = /gatehouse_session=[^;]+/.exec(ok.headers.getSetCookie().join('\n'))![0];
    const ui = () => fetch(`${gh.url}/ajax-api/2.0/mlflow/experiments/search?max_results=1`, { headers: { cookie: session, 'x-mlflow-workspace': 'team-a' }, redirect: 'manual' });
    assert.equal((await ui()).status, 200);
    const res = await fetch(idp.logoutRequestUrl(ALICE), { redirect: 'manual' });
    assert.equal(res.status, 302, await res.clone().text());
    const back = new URL(res.headers.get('location')!);
    assert.equal(back.origin + back.pathname, `${idp.url}/slo`);
    assert.ok(back.searchParams.get('SAMLResponse') && back.searchParams.get('Signature'), 'a signed LogoutResponse to the IdP');
    assert.equal((await ui()).status, 401, 'the session is gone');
    const signOut = (await adminEvents()).filter((e) => e.action === 'session.signOut').at(-1);
    assert.equal(signOut?.actor.id, 'corp', 'recorded with the IdP as actor');
    assert.deepEqual(signOut?.target, { kind: 'user', id: `corp:${ALICE.nameId}` });
  });
});
