/**
 * The OIDC mix-up defence of the login page (issue 22; RFC 9207, and the IdP mix-up attack of
 * draft-ietf-oauth-security-topics §4.4), with two real OpenID providers (test/harness/oidc-idp.ts,
 * started twice) behind two login buttons that share a client id — the setting where the attack
 * works. A browser is played over HTTP (cookies per origin, oidc-provider's development login and
 * consent forms). Refused: an authorization response of provider B brought to provider A's
 * callback, whole (B's `iss`) or with its `iss` stripped (A's token endpoint refuses B's code); a
 * sign-in started at A completed at B's callback (the pending login is bound to A); and A's own
 * response without the `iss` A advertises (`authorization_response_iss_parameter_supported`).
 * Each refusal is a `session.signInFailed` admin event with a reason id, and nobody is signed in.
 * The untouched flow signs in as `a:alice`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { CLIENTS, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { OidcBrowser } from '../harness/oidc-browser.ts';

let idpA: TestIdp;
let idpB: TestIdp;
let stub: StubUpstream;
let gh: InProcess;

const button = (id: string, idp: TestIdp) => ({ id, label: `IdP ${id}`, issuer: idp.issuer, clientId: CLIENTS.browser.id, clientSecret: CLIENTS.browser.secret });

before(async () => {
  [idpA, idpB, stub] = await Promise.all([startIdp(), startIdp(), startStub()]);
  gh = await startInProcess(stub.url, { 'auth.browser': { oidc: [button('a', idpA), button('b', idpB)] }, 'audit.sinks': [{ type: 'store' }] });
  await idpA.allowBrowserClient(`${gh.url}/_gatehouse/oidc/callback/a`, `${gh.url}/_gatehouse/login`);
  await idpB.allowBrowserClient(`${gh.url}/_gatehouse/oidc/callback/b`, `${gh.url}/_gatehouse/login`);
});
after(async () => {
  await gh?.close();
  await Promise.all([idpA?.close(), idpB?.close(), stub?.close()]);
});

/** The reasons of the `session.signInFailed` admin events (`<provider>: <reason id>`), oldest first. */
async function failures(): Promise<string[]> {
  const res = await fetch(`${gh.url}/_gatehouse/api/v1/audit?type=admin&operation=session.signInFailed`, { headers: { authorization: ADMIN_AUTH } });
  const events = ((await res.json()) as { events: { time: string; reason?: string }[] }).events;
  return events.sort((x, y) => x.time.localeCompare(y.time)).map((e) => e.reason ?? '');
}

const withoutIss = (u: URL): URL => {
  const v = new URL(u);
  v.searchParams.delete('iss');
  return v;
};

test('the honest flow: both IdPs advertise RFC 9207 `iss`, and A\'s response at A\'s callback signs in as a:alice', async () => {
  for (const idp of [idpA, idpB]) {
    const meta = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(meta.authorization_response_iss_parameter_supported, true, `${idp.issuer} advertises iss`);
  }
  const browser = new OidcBrowser(gh.url);
  const response = await browser.authorizationResponse('a');
  assert.equal(response.searchParams.get('iss'), idpA.issuer);
  const r = await browser.callback('a', response);
  assert.ok(r.session, `signed in: ${r.status} ${r.page.slice(0, 200)}`);
  const me = (await (await fetch(`${gh.url}/_gatehouse/api/v1/me`, { headers: { cookie: `gatehouse_session=${r.session}` } })).json()) as { principal: { id: string } };
  assert.equal(me.principal.id, 'a:alice');
});

/**
 * The mix-up: the victim starts a sign-in at A; the attacker's own sign-in at B gives a code of B
 * (for the same client id), which lands at A's callback with the victim's state (and B's `iss`, or
 * none when `stripIss`). Refused, nobody signed in, one admin event with `expected`.
 */
async function assertMixUpRefused(stripIss: boolean, expected: string): Promise<void> {
  const victim = new OidcBrowser(gh.url);
  const started = await victim.fetch(`${gh.url}/_gatehouse/oidc/start/a?next=/`);
  const stateA = new URL(started.headers.get('location')!).searchParams.get('state')!;
  const fromB = await new OidcBrowser(gh.url).authorizationResponse('b');
  const forged = stripIss ? withoutIss(fromB) : new URL(fromB);
  forged.searchParams.set('state', stateA);
  const before = (await failures()).length;
  const r = await victim.callback('a', forged);
  assert.equal(r.session, undefined, 'nobody is signed in');
  assert.equal(r.status, 401);
  assert.deepEqual((await failures()).slice(before), [expected]);
}

test("mix-up: B's authorization response (code and iss) brought to A's callback, with A's state, is refused (wrong-issuer)", () => assertMixUpRefused(false, 'a: wrong-issuer'));

test("mix-up without iss: B's code with A's state and no iss is refused at A (A advertises iss: missing-iss)", () => assertMixUpRefused(true, 'a: missing-iss'));

test('a sign-in started at A and completed at B\'s callback is refused: the pending login is bound to A (provider-mismatch)', async () => {
  const browser = new OidcBrowser(gh.url);
  const fromA = await browser.authorizationResponse('a');
  const before = (await failures()).length;
  const r = await browser.callback('b', fromA);
  assert.equal(r.session, undefined, 'nobody is signed in');
  assert.equal(r.status, 400);
  assert.deepEqual((await failures()).slice(before), ['b: provider-mismatch']);
});
