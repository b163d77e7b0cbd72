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

/** A browser's cookies, per origin (enough for the gateway and two IdPs on loopback ports). */
class Browser {
  private readonly jar = new Map<string, Map<string, string>>();
  cookie(origin: string): string {
    return [...(this.jar.get(origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(origin: string, res: Response): void {
    const jar = this.jar.get(origin) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
    this.jar.set(origin, jar);
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.cookie(origin) } });
    this.keep(origin, res);
    return res;
  }

  /**
   * Presses the login button of provider `id` and signs in at its IdP as `login` (its
   * development login and consent forms); returns the IdP's redirect back to the gateway's
   * callback, not followed.
   */
  async authorizationResponse(id: string, login = 'alice'): Promise<URL> {
    let res = await this.fetch(`${gh.url}/_gatehouse/oidc/start/${id}?next=/`);
    for (let step = 0; step < 20; step++) {
      if (res.status >= 300 && res.status < 400) {
        const to = new URL(res.headers.get('location')!, res.url);
        if (to.origin === gh.url) return to;
        await res.arrayBuffer();
        res = await this.fetch(to.href);
        continue;
      }
      const html = await res.text();
      const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
      assert.ok(form, `an IdP page with a form (step ${step}, ${res.status}): ${html.slice(0, 300)}`);
      const fields = new URLSearchParams();
      for (const [input] of form[2]!.matchAll(/<input[^>]*>/gi)) {
        const name = /name="([^"]+)"/.exec(input)?.[1];
        if (name !== undefined) fields.set(name, /value="([^"]*)"/.exec(input)?.[1] ?? '');
      }
      if (fields.has('login')) fields.set('login', login);
      if (fields.has('password')) fields.set('password', 'any');
      const action = new URL(form[1]!.replaceAll('&amp;', '&'), res.url);
      res = await this.fetch(action.href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() });
    }
    assert.fail('the IdP never redirected back');
  }
  /** Brings an authorization response to the gateway's callback of provider `id`; the status and the session cookie, if one was set. */
  async callback(id: string, response: URL): Promise<{ status: number; session: string | undefined; page: string }> {
    const res = await this.fetch(`${gh.url}/_gatehouse/oidc/callback/${id}${response.search}`);
    const page = await res.text();
    return { status: res.status, session: /gatehouse_session=([^;]+)/.exec(res.headers.getSetCookie().join('\n'))?.[1], page };
  }
}

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
  const browser = new Browser();
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
  const victim = new Browser();
  const started = await victim.fetch(`${gh.url}/_gatehouse/oidc/start/a?next=/`);
  const stateA = new URL(started.headers.get('location')!).searchParams.get('state')!;
  const fromB = await new Browser().authorizationResponse('b');
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
  const browser = new Browser();
  const fromA = await browser.authorizationResponse('a');
  const before = (await failures()).length;
  const r = await browser.callback('b', fromA);
  assert.equal(r.session, undefined, 'nobody is signed in');
  assert.equal(r.status, 400);
  assert.deepEqual((await failures()).slice(before), ['b: provider-mismatch']);
});
