/**
 * Two replicas (`bin/gatehouse serve` twice) sharing a real PostgreSQL and a real Redis in
 * front of the recording stub, with requests alternating between them: a browser session made
 * on one is valid on the other; a token revoked and a grant removed with the CLI stop working
 * on both within a second; a principal's rate limit is one budget across both; audit events
 * of both land in one store, one verifiable chain per replica. Redis down: the rate-limited
 * routes answer 503 GATEHOUSE_RATE_LIMIT_UNAVAILABLE and readiness fails on both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../src/store/store.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { ADMIN_PASSWORD, ADMIN_USER, basic, formSignIn, type Spawned } from '../harness/gatehouse.ts';
import { startCluster, type Cluster } from './replicas.ts';

const YAML = `
log: { level: info, requests: false }
audit: { sinks: [ { type: store } ] }
auth:
  providers: [ { type: local, scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } }, { type: token } ]
tenants:
  - { name: default, members: { users: [bob, carol, dave, admin], groups: [] } }
rateLimits:
  principal:
    searches: { rate: 0.001, burst: 6 }
`;
const GET = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const SEARCH = '/api/2.0/mlflow/experiments/search?max_results=10';
const BOB = basic('bob', 'bob-password-0123');
const CAROL = basic('carol', 'carol-password-0123');
const DAVE = basic('dave', 'dave-password-0123');

let cluster: Cluster;
let a: Spawned;
let b: Spawned;
let store: Store;

before(async () => {
  cluster = await startCluster(YAML);
  [a, b] = await Promise.all([cluster.replica('replica-a'), cluster.replica('replica-b')]);
  store = await openStore({ driver: 'postgres', url: cluster.storeUrl, migrate: 'never', dataDir: '/nonexistent' } as Parameters<typeof openStore>[0]);
  for (const [name, password] of [['bob', 'bob-password-0123'], ['carol', 'carol-password-0123'], ['dave', 'dave-password-0123']] as const) {
    await store.createUser({ username: name, passwordHash: await hashPassword(password, { cost: 1024, blockSize: 8, parallelization: 1 }), admin: false });
  }
  for (const user of ['bob', 'carol', 'dave']) assert.equal((await cluster.cli(['grants', 'add', '--role', 'viewer', '--user', user])).code, 0);
});
after(async () => {
  await store?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await cluster?.close();
});

const call = (replica: Spawned, path: string, headers: Record<string, string> = {}) => fetch(`${replica.url}${path}`, { headers, redirect: 'manual' });
const both = () => [a, b] as const;

/** Polls until `check` holds on both replicas; returns the milliseconds it took (or throws after `withinMs`). */
async function onBothWithin(withinMs: number, check: (r: Spawned) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const ok = await Promise.all(both().map(check));
    if (ok.every(Boolean)) return;
    if (Date.now() > deadline) assert.fail(`not on both replicas within ${withinMs} ms (a: ${ok[0]}, b: ${ok[1]})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('two replicas, one PostgreSQL, one Redis', () => {
  test('both are ready, with the redis check', async () => {
    for (const r of both()) {
      const res = await call(r, '/readyz');
      const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.deepEqual(body.checks.redis, { ok: true });
    }
  });

  test('a session created on one replica (login form) is valid on the other, and a logout on the other ends it on both', async () => {
    const signedIn = await formSignIn(a.url, ADMIN_USER, ADMIN_PASSWORD);
    assert.equal(signedIn.status, 303);
    const session = signedIn.session!;
    for (const r of [b, a, b]) assert.equal((await call(r, GET, { cookie: `gatehouse_session=${session}` })).status, 200, `session valid on ${r === a ? 'a' : 'b'}`);
    assert.equal((await store.db.selectFrom('sessions').select('id_hash').where('kind', '=', 'user').execute()).length, 1, 'the session is in the shared store');
    // Log out on b (the confirmation form's CSRF token, then the POST): the session ends on a too.
    const confirm = await (await call(b, '/_gatehouse/logout', { cookie: `gatehouse_session=${session}` })).text();
    const logoutCsrf = /name="csrf" value="([^"]+)"/.exec(confirm)![1]!;
    const out = await fetch(`${b.url}/_gatehouse/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: b.url, cookie: `gatehouse_session=${session}` },
      body: new URLSearchParams({ csrf: logoutCsrf }).toString(),
    });
    assert.equal(out.status, 303);
    for (const r of both()) assert.equal((await call(r, GET, { cookie: `gatehouse_session=${session}` })).status, 401, 'ended on both');
  });

  test('a token revoked with the CLI stops working on both replicas within a second', async () => {
    const created = await cluster.cli(['tokens', 'create', '--user', 'bob', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const bearer = { authorization: `Bearer ${token}` };
    for (const r of [a, b, a, b]) assert.equal((await call(r, GET, bearer)).status, 200);
    const revoked = await cluster.cli(['tokens', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    await onBothWithin(1000, async (r) => (await call(r, GET, bearer)).status === 401);
  });

  test('a user disabled through one replica stops on both: password, token; the CLI\'s admin event is recorded once', async () => {
    const created = await cluster.cli(['tokens', 'create', '--user', 'dave', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    // Both replicas have checked dave's password (and cached the check) and his token.
    for (const r of [a, b, a, b]) for (const authorization of [DAVE, `Bearer ${token}`]) assert.equal((await call(r, GET, { authorization })).status, 200);
    const res = await fetch(`${a.url}/_gatehouse/api/v1/users/dave`, { method: 'PATCH', headers: { authorization: basic(ADMIN_USER, ADMIN_PASSWORD), 'content-type': 'application/json' }, body: '{"disabled":true}' });
    assert.equal(res.status, 200, await res.text());
    // The token at once (every request reads the store); the cached password as soon as b hears (Redis, else its poll).
    for (const r of both()) assert.equal((await call(r, GET, { authorization: `Bearer ${token}` })).status, 401, 'token refused');
    await onBothWithin(5000, async (r) => (await call(r, GET, { authorization: DAVE })).status === 401);
    // The CLI's token.create went through the journal into exactly one replica's chain.
    const repo = auditRepository(store.db);
    const deadline = Date.now() + 5000;
    while ((await store.db.selectFrom('audit_journal').select('id').execute()).length > 0) {
      assert.ok(Date.now() < deadline, 'a replica took the CLI event from the journal');
      await new Promise((r) => setTimeout(r, 50));
    }
    const events = (await repo.query({ type: 'admin', target: `token:${id}`, limit: 1000 })).events;
    assert.deepEqual(events.map((e) => (e.type === 'admin' ? [e.action, e.door] : [])), [['token.create', 'cli']]);
    const disabled = (await repo.query({ type: 'admin', target: 'user:dave', limit: 1000 })).events;
    assert.deepEqual(disabled.map((e) => (e.type === 'admin' ? [e.action, e.door, e.actor.id, e.changes.disabled] : [])), [['user.update', 'api', `local:${ADMIN_USER}`, { before: false, after: true }]]);
  });

  test('a grant removed with the CLI stops working on both replicas within a second', async () => {
    const added = await cluster.cli(['grants', 'add', '--role', 'contributor', '--user', 'bob', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const grant = (JSON.parse(added.stdout) as { id: string }).id;
    const createRun = (r: Spawned) =>
      fetch(`${r.url}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: { authorization: BOB, 'content-type': 'application/json' }, body: '{"experiment_id":"1"}' });
    await onBothWithin(1000, async (r) => (await createRun(r)).status === 200);
    const removed = await cluster.cli(['grants', 'remove', grant]);
    assert.equal(removed.code, 0, removed.stderr);
    await onBothWithin(1000, async (r) => (await createRun(r)).status === 403);
    for (const r of both()) assert.equal((await call(r, GET, { authorization: BOB })).status, 200, 'the viewer grant still holds');
  });

  test('a rate limit is shared: one budget spent across both replicas', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(i % 2 === 0 ? a : b, SEARCH, { authorization: CAROL })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429], 'burst 6 in all, not 6 per replica');
    assert.equal((await call(a, SEARCH, { authorization: BOB })).status, 200, 'another principal has its own budget');
  });

  test('audit events of both replicas are in one store, one verifiable chain each', async () => {
    const repo = auditRepository(store.db);
    const deadline = Date.now() + 5000;
    let chains: string[] = [];
    while (Date.now() < deadline) {
      chains = await repo.chains();
      if (chains.includes('replica-a') && chains.includes('replica-b')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(chains, ['replica-a', 'replica-b']);
    const report = await verifyStore(repo);
    assert.deepEqual(report.problems, []);
    const fromA = await repo.query({ chain: 'replica-a', limit: 1000 });
    const fromB = await repo.query({ chain: 'replica-b', limit: 1000 });
    assert.ok(fromA.events.length > 0 && fromB.events.length > 0);
    const cli = await cluster.cli(['audit', 'verify', '--store']);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /store chain replica-a, store chain replica-b/);
    assert.match(cli.stdout, /chain intact/);
  });

  test('Redis down: rate-limited routes answer 503 and readiness fails on both; back when Redis is', async () => {
    await cluster.redis.stop();
    for (const r of both()) {
      const res = await call(r, GET, { authorization: BOB });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { gatehouse_code: string }).gatehouse_code, 'GATEHOUSE_RATE_LIMIT_UNAVAILABLE');
      const ready = await call(r, '/readyz');
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      assert.equal(body.checks.redis?.ok, false);
      assert.equal(body.checks.store?.ok, true, 'only Redis is reported down');
    }
    await cluster.redis.start();
    await onBothWithin(10_000, async (r) => (await call(r, '/readyz')).status === 200);
    for (const r of both()) assert.equal((await call(r, GET, { authorization: BOB })).status, 200);
  });
});
