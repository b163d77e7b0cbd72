/**
 * The login page and browser sessions over HTTP, against the in-process gateway and the
 * recording stub upstream: login redirects vs 401s, open redirects, password login with a
 * rotated HttpOnly cookie, timeouts on an injected clock, logout, CSRF and session fixation.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, ADMIN_USER, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, jsonOk, type StubUpstream } from '../harness/stub-upstream.ts';
import { safeNext, withFragment } from '../../src/web/next.ts';

const IDLE_S = 600;
const ABSOLUTE_S = 3600;
const API = '/api/2.0/mlflow/experiments/search?max_results=1';

let stub: StubUpstream;
let gh: InProcess;
let clock = Date.parse('2026-01-01T00:00:00Z');

before(async () => {
  stub = await startStub();
  gh = await startInProcess(stub.url, { 'auth.browser': { idleTimeoutSeconds: IDLE_S, absoluteTimeoutSeconds: ABSOLUTE_S } }, { now: () => clock });
});
after(async () => {
  await gh.close();
  await stub.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  stub.handler = jsonOk;
});

const forwarded = () => stub.requests.filter((r) => r.url !== '/health' && r.url !== '/api/3.0/mlflow/server-info');

function get(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
  return fetch(`${gh.url}${path}`, { method, headers, redirect: 'manual', ...(body !== undefined && { body }) });
}

/** name → { value, attributes } of every Set-Cookie on the response. */
function setCookies(res: Response): Map<string, { value: string; attrs: string[] }> {
  const out = new Map<string, { value: string; attrs: string[] }>();
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), attrs });
  }
  return out;
}

interface LoginForm {
  csrf: string;
  loginCookie: string;
  next: string;
  html: string;
}

async function loginForm(next?: string, cookie?: string): Promise<LoginForm> {
  const res = await get(`/_gatehouse/login${next !== undefined ? `?next=${encodeURIComponent(next)}` : ''}`, cookie ? { cookie } : {});
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  const formNext = /name="next" value="([^"]*)"/.exec(html)?.[1];
  const loginCookie = setCookies(res).get('gatehouse_login')?.value;
  assert.ok(csrf && loginCookie && formNext !== undefined, 'login page carries a CSRF token and a pending-login cookie');
  return { csrf, loginCookie, next: formNext.replaceAll('&amp;', '&'), html };
}

function postLogin(f: LoginForm, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return get(
    '/_gatehouse/login',
    { 'content-type': 'application/x-www-form-urlencoded', origin: gh.url, cookie: `gatehouse_login=${f.loginCookie}`, ...headers },
    'POST',
    new URLSearchParams({ csrf: f.csrf, next: f.next, ...fields }).toString(),
  );
}

async function login(next?: string): Promise<{ session: string; res: Response }> {
  const f = await loginForm(next);
  const res = await postLogin(f, { username: ADMIN_USER, password: ADMIN_PASSWORD });
  assert.equal(res.status, 303, await res.clone().text());
  const session = setCookies(res).get('gatehouse_session')?.value;
  assert.ok(session, 'session cookie set');
  return { session, res };
}

const withSession = (session: string, extra: Record<string, string> = {}) => ({ cookie: `gatehouse_session=${session}`, ...extra });

describe('unauthenticated requests', () => {
  test('browser navigation is redirected to the login page with the original path', async () => {
    const res = await get('/?x=1', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!, gh.url);
    assert.equal(location.pathname, '/_gatehouse/login');
    assert.equal(location.searchParams.get('next'), '/?x=1');
    assert.equal(forwarded().length, 0);
  });

  test('API calls keep 401 with a WWW-Authenticate challenge, even when they accept HTML', async () => {
    for (const path of [API, API.replace('/api/', '/ajax-api/')]) {
      const res = await get(path, { accept: 'text/html' });
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /Basic realm=/);
      assert.equal(((await res.json()) as { error_code: string }).error_code, 'UNAUTHENTICATED');
    }
    const plain = await get('/', { accept: 'application/json' });
    assert.equal(plain.status, 401, 'non-HTML GET of the UI is an API-style 401');
    const post = await get('/', { accept: 'text/html' }, 'POST');
    assert.notEqual(post.status, 302, 'only GET navigation is redirected');
    assert.equal(forwarded().length, 0);
  });
});

describe('open redirects', () => {
  test('next must be a local path', () => {
    for (const bad of ['//evil.example/', '/\\evil.example', '\\\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/\t/evil.example', ' //evil.example', 'evil', '/_gatehouse/login']) {
      assert.equal(safeNext(bad), '/', JSON.stringify(bad));
    }
    assert.equal(safeNext('/#/experiments/1'), '/#/experiments/1');
    assert.equal(safeNext('/static-files/x?y=1'), '/static-files/x?y=1');
  });

  test('the fragment the login page sends joins next only as a same-origin relative target', () => {
    assert.equal(withFragment('/', '#/experiments/1/runs/abc'), '/#/experiments/1/runs/abc');
    assert.equal(withFragment('/x?y=1#old', '#/new'), '/x?y=1#/new');
    for (const bad of ['#', '', 'javascript:alert(1)', '//evil.example', '#/a\\b', '#/a\tb', '#/a\nb', '#\u0000', `#/${'a'.repeat(2100)}`, 7, undefined]) {
      assert.equal(withFragment('/keep', bad), '/keep', JSON.stringify(bad));
    }
  });

  test('a login started with a foreign next lands on / instead', async () => {
    for (const bad of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const f = await loginForm(bad);
      assert.equal(f.next, '/');
      const res = await postLogin(f, { username: ADMIN_USER, password: ADMIN_PASSWORD, next: bad });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/', `after next=${bad}`);
    }
  });
});

describe('password login', () => {
  test('sets a fresh HttpOnly SameSite=Lax session cookie and authenticates the next request', async () => {
    const f = await loginForm('/?from=test');
    const res = await postLogin(f, { username: ADMIN_USER, password: ADMIN_PASSWORD });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/?from=test');
    const cookies = setCookies(res);
    const session = cookies.get('gatehouse_session')!;
    assert.match(session.value, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
    assert.notEqual(session.value, f.loginCookie, 'the pre-login id is not promoted');
    assert.ok(session.attrs.includes('HttpOnly'));
    assert.ok(session.attrs.includes('SameSite=Lax'));
    assert.ok(session.attrs.includes('Path=/'));
    assert.ok(!session.attrs.includes('Secure'), 'plain-http request, secureCookies off');
    assert.equal(cookies.get('gatehouse_login')?.attrs.includes('Max-Age=0'), true, 'pending login cleared');

    const api = await get(API, withSession(session.value));
    assert.equal(api.status, 200);
    const [seen] = forwarded();
    assert.ok(seen, 'forwarded to MLflow');
    assert.equal(seen.headers.cookie, undefined, 'the session cookie never reaches MLflow');
    assert.equal(seen.headers.authorization, undefined);

    const ui = await get('/', withSession(session.value, { accept: 'text/html' }));
    assert.equal(ui.status, 200, 'browser navigation with a session is forwarded, not redirected');
  });

  test('the pending-login id is not a session', async () => {
    const f = await loginForm();
    const res = await get(API, withSession(f.loginCookie));
    assert.equal(res.status, 401);
  });

  test('a wrong password shows the form again with an error and sets no session', async () => {
    const f = await loginForm();
    const res = await postLogin(f, { username: ADMIN_USER, password: 'not-the-password' });
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.match(html, /role="alert"[^>]*>Invalid username or password\./);
    assert.match(html, /<form method="post" action="\/_gatehouse\/login"/);
    assert.equal(setCookies(res).has('gatehouse_session'), false);
    assert.ok(!html.includes('not-the-password'), 'the password is not echoed');

    const unknown = await postLogin(await loginForm(), { username: 'nobody', password: 'whatever-123' });
    assert.equal(unknown.status, 401);
    assert.equal(setCookies(unknown).has('gatehouse_session'), false);
  });

  test('the form needs its CSRF token, its pending login and a same-origin post', async () => {
    const f = await loginForm();
    const creds = { username: ADMIN_USER, password: ADMIN_PASSWORD };
    const cases = [
      await postLogin(f, { ...creds, csrf: 'x'.repeat(43) }),
      await postLogin({ ...f, loginCookie: 'y'.repeat(43) }, creds),
      await postLogin(f, creds, { origin: 'http://evil.example' }),
    ];
    for (const res of cases) {
      assert.equal(res.status, 403);
      assert.equal(setCookies(res).has('gatehouse_session'), false);
    }
  });

  test('session fixation: a session cookie planted before login is not kept', async () => {
    const planted = 'A'.repeat(43);
    const f = await loginForm(undefined, `gatehouse_session=${planted}`);
    const res = await postLogin(f, { username: ADMIN_USER, password: ADMIN_PASSWORD }, { cookie: `gatehouse_login=${f.loginCookie}; gatehouse_session=${planted}` });
    assert.equal(res.status, 303);
    const session = setCookies(res).get('gatehouse_session')!.value;
    assert.notEqual(session, planted);
    assert.equal((await get(API, withSession(planted))).status, 401, 'the planted id authenticates nothing');
    assert.equal((await get(API, withSession(session))).status, 200);
  });
});

describe('timeouts', () => {
  test('a session ends after the idle timeout', async () => {
    const { session } = await login();
    clock += (IDLE_S - 60) * 1000;
    assert.equal((await get(API, withSession(session))).status, 200, 'still alive before the idle timeout');
    clock += IDLE_S * 1000;
    assert.equal((await get(API, withSession(session))).status, 401);
    const nav = await get('/', withSession(session, { accept: 'text/html' }));
    assert.equal(nav.status, 302, 'an expired session sends the browser back to login');
  });

  test('a session ends at the absolute timeout however active', async () => {
    const { session } = await login();
    const loggedIn = clock;
    while (clock + (IDLE_S / 2) * 1000 < loggedIn + ABSOLUTE_S * 1000) {
      clock += (IDLE_S / 2) * 1000;
      assert.equal((await get(API, withSession(session))).status, 200);
    }
    clock = loggedIn + ABSOLUTE_S * 1000;
    assert.equal((await get(API, withSession(session))).status, 401);
  });
});

describe('logout', () => {
  test('ends the session; without its CSRF token it does not', async () => {
    const { session } = await login();
    const page = await get('/_gatehouse/logout', withSession(session));
    assert.equal(page.status, 200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    assert.ok(csrf);
    const form = (token: string) => new URLSearchParams({ csrf: token }).toString();
    const type = { 'content-type': 'application/x-www-form-urlencoded' };

    const forged = await get('/_gatehouse/logout', withSession(session, { ...type, origin: gh.url }), 'POST', form('z'.repeat(43)));
    assert.equal(forged.status, 403);
    assert.equal((await get(API, withSession(session))).status, 200, 'still logged in');

    const res = await get('/_gatehouse/logout', withSession(session, { ...type, origin: gh.url }), 'POST', form(csrf));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/_gatehouse/login');
    assert.ok(setCookies(res).get('gatehouse_session')?.attrs.includes('Max-Age=0'), 'cookie cleared');
    assert.equal((await get(API, withSession(session))).status, 401, 'the old cookie is dead server-side');
    assert.equal((await get('/_gatehouse/logout', withSession(session))).status, 303, 'logout page without a session goes to login');
  });
});

describe('CSRF on cookie-authenticated requests', () => {
  const body = JSON.stringify({ name: 'csrf-test' });
  const json = { 'content-type': 'application/json' };

  test('a POST from a foreign origin with a valid cookie is refused and not forwarded', async () => {
    const { session } = await login();
    const res = await get('/api/2.0/mlflow/experiments/create', withSession(session, { ...json, origin: 'http://evil.example' }), 'POST', body);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_REQUEST_FOREIGN_ORIGIN');
    const noOrigin = await get('/api/2.0/mlflow/experiments/create', withSession(session, json), 'POST', body);
    assert.equal(noOrigin.status, 401, 'a cookie-authenticated POST without Origin or Referer is refused');
    const foreignReferer = await get('/api/2.0/mlflow/experiments/create', withSession(session, { ...json, referer: 'http://evil.example/page' }), 'POST', body);
    assert.equal(foreignReferer.status, 401);
    assert.equal(forwarded().length, 0);
  });

  test('the same POST from the gateway origin (as the MLflow UI sends it) is forwarded', async () => {
    const { session } = await login();
    const res = await get('/api/2.0/mlflow/experiments/create', withSession(session, { ...json, origin: gh.url }), 'POST', body);
    assert.equal(res.status, 200);
    const viaReferer = await get('/ajax-api/2.0/mlflow/experiments/create', withSession(session, { ...json, referer: `${gh.url}/` }), 'POST', body);
    assert.equal(viaReferer.status, 200);
    assert.equal(forwarded().length, 2);
    assert.ok(forwarded().every((r) => r.headers.cookie === undefined && r.headers.origin === undefined));
  });
});

describe('cookie flags', () => {
  test('secureCookies marks the session cookie Secure (for TLS terminated in front)', async () => {
    const secure = await startInProcess(stub.url, { 'auth.browser': { secureCookies: true } });
    try {
      const page = await fetch(`${secure.url}/_gatehouse/login`);
      const html = await page.text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      const pending = setCookies(page).get('gatehouse_login')!;
      assert.ok(pending.attrs.includes('Secure') && pending.attrs.includes('Path=/_gatehouse/'));
      const res = await fetch(`${secure.url}/_gatehouse/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: secure.url, cookie: `gatehouse_login=${pending.value}` },
        body: new URLSearchParams({ csrf, username: ADMIN_USER, password: ADMIN_PASSWORD }).toString(),
      });
      assert.equal(res.status, 303);
      const session = setCookies(res).get('gatehouse_session')!;
      assert.ok(session.attrs.includes('Secure') && session.attrs.includes('HttpOnly') && session.attrs.includes('SameSite=Lax'));
    } finally {
      await secure.close();
    }
  });
});
