/**
 * Rate limits: the in-memory token buckets (refill and eviction with an injected clock), the
 * operation classes, and through an in-process gateway with a recording stub: one principal
 * over its budget gets 429 + Retry-After while another is unaffected and the stub sees only
 * the allowed calls; anonymous floods are cut per address; failed Basic attempts lock out the
 * user name and the address, even for the right password, until the window passes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryLimiter } from '../../src/ratelimit/limiter.ts';
import { operationClass } from '../../src/ratelimit/classes.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { METRICS } from '../../src/metrics/definitions.ts';
import { ADMIN_PASSWORD, ADMIN_USER, basic, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };

// The bucket semantics shared with Redis run in test/ratelimit/limiter.test.ts (one conformance suite).
describe('token buckets (in memory)', () => {
  test('idle buckets that have refilled are dropped; past maxKeys the least recently used goes', async () => {
    let t = 0;
    const l = createMemoryLimiter({ rate: 1, burst: 2, maxKeys: 3, now: () => t });
    await l.consume('a', 1);
    await l.consume('b', 2);
    assert.equal(l.size(), 2);
    t = 1000; // a is full again (1 + 1), b is not (0 + 1)
    await l.consume('c', 1);
    assert.equal(l.size(), 2, 'a was dropped (equal to no bucket), b kept');
    t = 1500;
    await l.consume('d', 1);
    await l.consume('e', 1);
    assert.equal(l.size(), 3, 'never more than maxKeys');
    // b (least recently used) was evicted: its key starts afresh with a full bucket.
    assert.equal((await l.consume('b', 2)).allowed, true);
    // e was kept, with its one remaining token.
    assert.equal((await l.consume('e', 1)).allowed, true);
    assert.equal((await l.consume('e', 1)).allowed, false);
    t = 1_000_000;
    await l.consume('z', 1);
    assert.equal(l.size(), 1, 'after a quiet period only the bucket just used is held');
  });
});

test('operation classes come from the route row', () => {
  const cls = (op: string) => operationClass(MLFLOW_ROUTES.find((r) => r.op === op)!);
  assert.equal(cls('experiments.get'), 'reads');
  assert.equal(cls('runs.create'), 'writes');
  assert.equal(cls('runs.logBatch'), 'writes');
  assert.equal(cls('runs.search'), 'searches');
  assert.equal(cls('artifactsProxy.upload'), 'artifacts');
  assert.equal(cls('artifactsProxy.download'), 'artifacts');
  assert.equal(cls('modelVersions.getArtifact'), 'artifacts', 'a file download streams its response');
  assert.equal(cls('loggedModels.getArtifactFile'), 'artifacts');
  assert.equal(cls('registeredModels.search'), 'searches');
});

/** Reads one sample of the internal /metrics listener. */
async function metric(gh: InProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${gh.internalUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}

describe('per-principal and per-address budgets through the gateway', () => {
  let stub: StubUpstream;
  let gh: InProcess;
  let t = Date.now();
  const alice = basic('alice', 'alice-password-1');
  const bob = basic('bob', 'bob-password-12');
  const forwarded = () => stub.requests.filter((r) => r.url.startsWith('/api/2.0/mlflow/experiments/get'));
  const read = (auth?: string) => fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: auth ? { authorization: auth } : {} });

  before(async () => {
    stub = await startStub();
    gh = await startInProcess(
      stub.url,
      {
        'authorization.mode': 'dev-allow-all',
        'rateLimits.principal.reads': { rate: 0.5, burst: 3 },
        'rateLimits.address.reads': { rate: 0.25, burst: 2 },
      },
      { now: () => t },
    );
    for (const [u, p] of [['alice', 'alice-password-1'], ['bob', 'bob-password-12']] as const) {
      await gh.store.createUser({ username: u, passwordHash: await hashPassword(p, FAST), admin: false });
    }
  });
  after(async () => {
    await gh.close();
    await stub.close();
  });

  test('one principal over its budget gets 429 with Retry-After; another is unaffected; MLflow sees only allowed calls', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await read(alice)).status, 200, `alice read ${i + 1}`);
    const refused = await read(alice);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '2', 'one token every 2 s, in whole seconds');
    assert.deepEqual(await refused.json(), {
      error_code: 'REQUEST_LIMIT_EXCEEDED',
      message: 'Too many requests (or too many failed sign-in attempts); slow down and retry after the time in Retry-After.',
      gatehouse_code: 'GATEHOUSE_RATE_LIMITED',
    });
    for (let i = 0; i < 3; i++) assert.equal((await read(bob)).status, 200, `bob read ${i + 1}: his own budget`);
    assert.equal(forwarded().length, 6, 'the refused call never reached MLflow');
    assert.ok(forwarded().every((r) => r.headers.authorization === undefined));
    assert.equal(await metric(gh, METRICS.rateLimited.name, { class: 'reads', key: 'principal' }), 1);

    t += 2000;
    assert.equal((await read(alice)).status, 200, 'a token came back after Retry-After');
    assert.equal((await read(alice)).status, 429);
    assert.equal(forwarded().length, 7);
  });

  test('anonymous calls draw from the address bucket and are cut before authentication; authenticated calls do not draw', async () => {
    t += 60_000;
    const before = forwarded().length;
    assert.equal((await read()).status, 401);
    assert.equal((await read()).status, 401);
    const cut = await read();
    assert.equal(cut.status, 429);
    assert.equal(cut.headers.get('retry-after'), '4');
    assert.equal(await metric(gh, METRICS.rateLimited.name, { class: 'reads', key: 'address' }), 1);
    // Same address, with credentials: refused as well while the address bucket is empty ...
    assert.equal((await read(bob)).status, 429);
    t += 4000;
    // ... and bob's successful calls do not drain it again.
    for (let i = 0; i < 3; i++) assert.equal((await read(bob)).status, 200);
    assert.equal((await read()).status, 401, 'the anonymous token that came back is still there');
    assert.equal(forwarded().length, before + 3);
  });
});

describe("the gateway's own outage is not charged to the client's address", () => {
  test('password checks that cannot run (store down: 503) do not drain the address bucket; other clients there are not refused', async () => {
    const stub = await startStub();
    const t = Date.now();
    const gh = await startInProcess(stub.url, { 'authorization.mode': 'dev-allow-all', 'rateLimits.address.reads': { rate: 0.001, burst: 2 } }, { now: () => t });
    try {
      const read = (auth?: string) => fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: auth ? { authorization: auth } : {} });
      await gh.store.close();
      for (let i = 0; i < 4; i++) {
        const res = await read(basic(ADMIN_USER, ADMIN_PASSWORD));
        const body = await res.text();
        assert.equal(res.status, 503, `attempt ${i + 1} during the outage: ${body}`);
        assert.equal((JSON.parse(body) as { gatehouse_code?: string }).gatehouse_code, 'GATEHOUSE_STORE_UNAVAILABLE');
      }
      // The address still has both of its tokens: an anonymous call is told to authenticate, twice, not refused.
      assert.equal((await read()).status, 401);
      assert.equal((await read()).status, 401);
      assert.equal((await read()).status, 429, 'control: the bucket does drain for the client\'s own failures');
    } finally {
      await gh.close().catch(() => undefined);
      await stub.close();
    }
  });
});

describe('brute-force lockouts on HTTP Basic', () => {
  let stub: StubUpstream;
  let gh: InProcess;
  let t = Date.now();
  const read = (auth: string) => fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: auth } });

  before(async () => {
    stub = await startStub();
    gh = await startInProcess(
      stub.url,
      {
        'authorization.mode': 'dev-allow-all',
        'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: FAST }],
        'rateLimits.failedAuth.address': { rate: 0.01, burst: 3 },
        'rateLimits.failedAuth.username': { rate: 0.01, burst: 2 },
      },
      { now: () => t },
    );
    for (const [u, p] of [['dave', 'dave-password-1'], ['erin', 'erin-password-1']] as const) {
      await gh.store.createUser({ username: u, passwordHash: await hashPassword(p, FAST), admin: false });
    }
  });
  after(async () => {
    await gh.close();
    await stub.close();
  });

  test('bad tokens are not password attempts: they never lock anyone out', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await read('Bearer gth_pat_000000000000_not-a-real-token');
      assert.equal(res.status, 401);
      assert.equal(gh.events.at(-1)?.ctx.errorCode, 'GATEHOUSE_AUTHN_INVALID', 'refused as a bad token');
    }
    assert.equal((await read(basic('erin', 'erin-password-1'))).status, 200, 'five failures, but the address bucket holds three');
  });

  test('failed attempts lock out the user name, even with the right password, while other users go on', async () => {
    assert.equal((await read(basic('dave', 'wrong-1'))).status, 401);
    assert.equal((await read(basic('DAVE', 'wrong-2'))).status, 401, 'the name counts however it is spelled');
    const locked = await read(basic('dave', 'dave-password-1'));
    assert.equal(locked.status, 429, 'the right password waits too');
    assert.equal(locked.headers.get('retry-after'), '100');
    assert.equal(((await locked.json()) as { error_code: string }).error_code, 'REQUEST_LIMIT_EXCEEDED');
    assert.equal((await read(basic('erin', 'erin-password-1'))).status, 200, 'another user from the same address');
    assert.equal(await metric(gh, METRICS.rateLimited.name, { class: 'failed-auth', key: 'username' }), 1);
  });

  test('N failed attempts from one address lock the address out until the window passes', async () => {
    assert.equal((await read(basic('erin', 'wrong-3'))).status, 401, 'third failure from this address');
    const locked = await read(basic('erin', 'erin-password-1'));
    assert.equal(locked.status, 429, 'the address is locked: no password is checked');
    assert.equal(locked.headers.get('retry-after'), '100');
    assert.equal((await read(basic('nobody', 'whatever'))).status, 429, 'whoever asks from there');
    assert.equal(await metric(gh, METRICS.rateLimited.name, { class: 'failed-auth', key: 'address' }), 2);
    const authenticated = gh.events.filter((e) => e.ctx.principal !== undefined).length;
    t += 99_000;
    assert.equal((await read(basic('erin', 'erin-password-1'))).status, 429, 'not before the window passes');
    t += 1000;
    assert.equal((await read(basic('erin', 'erin-password-1'))).status, 200);
    assert.equal((await read(basic('dave', 'dave-password-1'))).status, 200, 'dave\'s name got a token back too');
    assert.equal(gh.events.filter((e) => e.ctx.principal !== undefined).length, authenticated + 2);
    const upstream = stub.requests.filter((r) => r.url.startsWith('/api/2.0/mlflow/experiments/get'));
    assert.equal(upstream.length, 4, 'only the four authenticated calls reached MLflow');
  });
});

describe('brute-force lockout on the login form', () => {
  let stub: StubUpstream;
  let gh: InProcess;
  let t = Date.now();

  before(async () => {
    stub = await startStub();
    gh = await startInProcess(stub.url, { 'rateLimits.failedAuth.username': { rate: 0.01, burst: 2 } }, { now: () => t });
  });
  after(async () => {
    await gh.close();
    await stub.close();
  });

  /** Fetches a fresh form (CSRF token + pending-login cookie) and posts it. */
  async function login(username: string, password: string): Promise<Response> {
    const page = await fetch(`${gh.url}/_gatehouse/login`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    const cookie = page.headers.getSetCookie().find((c) => c.startsWith('gatehouse_login='))?.split(';')[0];
    assert.ok(csrf && cookie);
    return fetch(`${gh.url}/_gatehouse/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gh.url, cookie },
      body: new URLSearchParams({ csrf, next: '/', username, password }).toString(),
    });
  }
  const hasSession = (res: Response) => res.headers.getSetCookie().some((c) => /^gatehouse_session=[^;]/.test(c));

  test('wrong passwords on the form lock the name out, for the form and for Basic alike', async () => {
    assert.equal((await login(ADMIN_USER, 'wrong-1')).status, 401);
    assert.equal((await login(ADMIN_USER, 'wrong-2')).status, 401);
    const locked = await login(ADMIN_USER, ADMIN_PASSWORD);
    assert.equal(locked.status, 429, 'the right password waits');
    assert.equal(locked.headers.get('retry-after'), '100');
    assert.match(await locked.text(), /Too many failed sign-in attempts/);
    assert.ok(!hasSession(locked), 'no session');
    const api = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: { authorization: basic(ADMIN_USER, ADMIN_PASSWORD) } });
    assert.equal(api.status, 429, 'the same lockout applies to HTTP Basic');
    assert.equal(stub.requests.filter((r) => r.url.startsWith('/api/2.0/mlflow/experiments')).length, 0);
    t += 100_000;
    const ok = await login(ADMIN_USER, ADMIN_PASSWORD);
    assert.equal(ok.status, 303);
    assert.ok(hasSession(ok));
  });
});
