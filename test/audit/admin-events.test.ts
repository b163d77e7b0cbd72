/**
 * Admin audit events, read back from the store and file sinks of an in-process gateway (stub
 * MLflow with workspaces): one event per change through the admin API — with the actor, the door
 * (`api`, or `console` for calls on the login page's session cookie), the target, the change field
 * by field and the request id the caller got — and one per sign-in, sign-out and refused sign-in
 * (door `login`); never a password, a token secret or a hash; in the same hash chains as request
 * events, which still verify; and found by the admin API's audit query by type, actor, target and
 * door.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminAuditEvent } from '../../src/audit/admin-event.ts';
import { verifyFile, verifyStore } from '../../src/audit/verify.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { sessionHandle } from '../../src/store/sessions.ts';
import { ADMIN_AUTH, ADMIN_PASSWORD, ADMIN_USER, callJson, formSignIn, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { waitFor } from '../harness/ports.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';

const API = '/_gatehouse/api/v1';

let stub: StubUpstream;
let gh: InProcess;
let dir: string;
const secrets: string[] = [ADMIN_PASSWORD];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-admin-audit-'));
  stub = await startStub(withWorkspaces);
  gh = await startInProcess(stub.url, {
    'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } }],
    'audit.sinks': [{ type: 'store' }, { type: 'file', path: join(dir, 'audit.jsonl'), fsync: false }],
  });
});
after(async () => {
  await gh.close();
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function api(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const r = await callJson(`${gh.url}${API}${path}`, method, headers, body);
  return { status: r.status, requestId: r.headers.get('x-request-id'), body: r.body };
}
const asAdmin = { authorization: ADMIN_AUTH };

async function adminEvents(): Promise<AdminAuditEvent[]> {
  const out: AdminAuditEvent[] = [];
  for await (const e of auditRepository(gh.store.db).scan()) if (e.type === 'admin') out.push(e);
  return out;
}

/** Runs `act`, then returns the admin events it produced (in order). */
async function eventsOf(act: () => Promise<unknown>): Promise<AdminAuditEvent[]> {
  const before = (await adminEvents()).length;
  await act();
  return (await adminEvents()).slice(before);
}

const signIn = (user: string, password: string) => formSignIn(gh.url, user, password);

describe('one admin event per change, with who, where from, what and the request id', () => {
  test('a user: created (generated password), re-passworded, disabled, deleted', async () => {
    let created!: Awaited<ReturnType<typeof api>>;
    const [create] = await eventsOf(async () => (created = await api('POST', '/users', asAdmin, { username: 'ulla' })));
    assert.equal(created.status, 201);
    secrets.push(created.body.password);
    assert.equal(create!.action, 'user.create');
    assert.equal(create!.door, 'api');
    assert.deepEqual(create!.actor, { id: `local:${ADMIN_USER}`, kind: 'user', provider: 'local', method: 'basic' });
    assert.deepEqual(create!.target, { kind: 'user', id: 'ulla' });
    assert.equal(create!.requestId, created.requestId, 'the request id the caller got');
    assert.equal(create!.client?.address, '127.0.0.1');
    assert.deepEqual(create!.changes, {
      username: { before: null, after: 'ulla' },
      admin: { before: null, after: false },
      disabled: { before: null, after: false },
      password: { before: null, after: '[set]' },
    });

    let reset!: Awaited<ReturnType<typeof api>>;
    const [password] = await eventsOf(async () => (reset = await api('POST', '/users/ulla/password', asAdmin, {})));
    secrets.push(reset.body.password);
    assert.equal(password!.action, 'user.password');
    assert.deepEqual(password!.changes, { password: { before: '[set]', after: '[changed]' } });

    const [disable] = await eventsOf(() => api('PATCH', '/users/ulla', asAdmin, { disabled: true, admin: false }));
    assert.deepEqual(disable!.changes, { disabled: { before: false, after: true } }, 'only what changed');
    assert.deepEqual(await eventsOf(() => api('PATCH', '/users/ulla', asAdmin, { disabled: true })), [], 'no change, no event');

    const [gone] = await eventsOf(() => api('DELETE', '/users/ulla', asAdmin));
    assert.equal(gone!.action, 'user.delete');
    assert.deepEqual(gone!.changes.username, { before: 'ulla', after: null });
  });

  test('tokens, service accounts, tenants, members, groups, roles, grants: one event each', async () => {
    await api('POST', '/users', asAdmin, { username: 'tom', password: 'tom-password-123' });
    secrets.push('tom-password-123');
    const steps: [string, string, unknown?][] = [
      ['POST', '/service-accounts', { name: 'ci' }],
      ['POST', '/tokens', { serviceAccount: 'ci', description: 'pipeline' }],
      ['POST', '/tenants', { name: 'team-q' }],
      ['POST', '/tenants/team-q/members', { user: 'tom' }],
      ['DELETE', '/tenants/team-q/members/user/tom'],
      ['POST', '/groups/qa/members', { member: 'tom' }],
      ['DELETE', '/groups/qa/members/tom'],
      ['POST', '/roles', { name: 'tagger', levels: { experiment: 'READ' }, operations: ['runs.setTag'] }],
      ['POST', '/grants', { role: 'tagger', user: 'tom', tenant: 'team-q' }],
    ];
    const answers: Awaited<ReturnType<typeof api>>[] = [];
    const events = await eventsOf(async () => {
      for (const [method, path, body] of steps) {
        const r = await api(method, path, asAdmin, body);
        assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
        answers.push(r);
      }
    });
    const token = answers[1]!.body;
    secrets.push(token.token);
    const grant = answers[8]!.body;
    assert.deepEqual(
      events.map((e) => [e.action, `${e.target.kind}:${e.target.id}`, e.tenant]),
      [
        ['serviceAccount.create', 'service_account:ci', null],
        ['token.create', `token:${token.id}`, null],
        ['tenant.create', 'tenant:team-q', 'team-q'],
        ['tenant.member.add', 'tenant:team-q', 'team-q'],
        ['tenant.member.remove', 'tenant:team-q', 'team-q'],
        ['group.member.add', 'group:qa', null],
        ['group.member.remove', 'group:qa', null],
        ['role.create', 'role:tagger', null],
        ['grant.create', `grant:${grant.id}`, 'team-q'],
      ],
    );
    assert.deepEqual(events.map((e) => e.requestId), answers.map((a) => a.requestId), 'each event carries its call\'s request id');
    assert.deepEqual(events[3]!.changes, { members: { before: { users: [], groups: [] }, after: { users: ['tom'], groups: [] } } });
    assert.deepEqual(events[8]!.changes.subject, { before: null, after: 'user:tom' });
    assert.deepEqual(events[2]!.changes.workspace, { before: null, after: 'created' }, 'the MLflow workspace was made with it');

    const removal = await eventsOf(async () => {
      assert.equal((await api('DELETE', `/grants/${grant.id}`, asAdmin)).status, 204);
      assert.equal((await api('DELETE', '/roles/tagger', asAdmin)).status, 204);
      assert.equal((await api('DELETE', `/tokens/${token.id}`, asAdmin)).status, 204);
      assert.equal((await api('DELETE', '/tenants/team-q', asAdmin)).status, 204);
    });
    assert.deepEqual(removal.map((e) => e.action), ['grant.delete', 'role.delete', 'token.revoke', 'tenant.delete']);
    assert.ok(stub.requests.some((r) => r.method === 'DELETE' && r.url === '/api/3.0/mlflow/workspaces/team-q?mode=RESTRICT'), 'the workspace went with the tenant, refused by MLflow if it held anything');
  });

  test('a refused change is no event', async () => {
    const events = await eventsOf(async () => {
      assert.equal((await api('PATCH', `/users/${ADMIN_USER}`, asAdmin, { admin: false })).status, 409);
      assert.equal((await api('POST', '/grants', asAdmin, { role: 'nope', user: 'x' })).status, 400);
    });
    assert.deepEqual(events, []);
  });
});

describe('sign-in, sign-out and refused sign-ins (door login), and the console door', () => {
  test('a refused sign-in names who was tried and why, never the password', async () => {
    const [failed] = await eventsOf(async () => assert.equal((await signIn(ADMIN_USER, 'not-the-password-99')).status, 401));
    assert.equal(failed!.action, 'session.signInFailed');
    assert.equal(failed!.door, 'login');
    assert.equal(failed!.outcome, 'denied');
    assert.equal(failed!.reason, 'local: bad-password');
    assert.deepEqual(failed!.target, { kind: 'user', id: ADMIN_USER });
    assert.equal(failed!.actor.id, 'anonymous');
    secrets.push('not-the-password-99');
  });

  test('sign-in, a change through the console, sign-out', async () => {
    let session: string | undefined;
    const [signedIn] = await eventsOf(async () => ({ session } = await signIn(ADMIN_USER, ADMIN_PASSWORD)));
    assert.ok(session);
    assert.equal(signedIn!.action, 'session.signIn');
    assert.deepEqual(signedIn!.target, { kind: 'session', id: sessionHandle(session!) }, 'the session by its handle, never its cookie');
    assert.equal(signedIn!.actor.id, `local:${ADMIN_USER}`);

    const cookie = { cookie: `gatehouse_session=${session}`, origin: gh.url };
    const [viaConsole] = await eventsOf(() => api('POST', '/groups/console-made/members', cookie, { member: 'tom' }));
    assert.equal(viaConsole!.door, 'console', 'a call on the session cookie is the console');
    assert.equal(viaConsole!.actor.method, 'session');

    const confirm = await (await fetch(`${gh.url}/_gatehouse/logout`, { headers: { cookie: `gatehouse_session=${session}` } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)![1]!;
    const [signedOut] = await eventsOf(() =>
      fetch(`${gh.url}/_gatehouse/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gh.url, cookie: `gatehouse_session=${session}` },
        body: new URLSearchParams({ csrf }).toString(),
      }),
    );
    assert.equal(signedOut!.action, 'session.signOut');
    assert.deepEqual(signedOut!.target, signedIn!.target);
  });
});

describe('the same chains and sinks as request events', () => {
  test('no secret in any admin event, in the store or the file', async () => {
    const stored = JSON.stringify(await adminEvents());
    const file = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    for (const text of [stored, file]) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `no ${secret.slice(0, 6)}… recorded`);
      assert.doesNotMatch(text, /scrypt\$|gth_(pat|sat)_/);
    }
  });

  test('both chains verify with request and admin events interleaved', async () => {
    const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers: asAdmin });
    assert.equal(res.status, 200);
    const id = res.headers.get('x-request-id')!;
    // Request events are written after the response: wait until both sinks hold this one.
    await waitFor('the request event in both sinks', async () => readFileSync(join(dir, 'audit.jsonl'), 'utf8').includes(id) && (await auditRepository(gh.store.db).query({ limit: 1000 })).events.some((e) => e.requestId === id), 5000);
    const events = (await auditRepository(gh.store.db).query({ limit: 1000 })).events;
    assert.ok(events.some((e) => e.type === undefined) && events.some((e) => e.type === 'admin'), 'request events (no type) and admin events');
    assert.deepEqual((await verifyStore(auditRepository(gh.store.db))).problems, []);
    const file = await verifyFile(join(dir, 'audit.jsonl'));
    assert.deepEqual(file.problems, []);
    assert.equal(file.events, events.length, 'the file sink holds the same events');
  });

  test('the audit query finds admin events by type, actor, target (or its kind) and door', async () => {
    const q = async (query: string) => ((await api('GET', `/audit?${query}&limit=1000`, asAdmin)).body.events as { type?: string; action?: string; target?: { kind: string; id: string }; door?: string }[]);
    const admins = await q('type=admin');
    assert.ok(admins.length >= 20 && admins.every((e) => e.type === 'admin'));
    const requests = await q('type=request');
    assert.ok(requests.length > 0 && requests.every((e) => e.type === undefined), 'request events keep their fields: no type');
    assert.deepEqual((await q('target=user:ulla')).map((e) => e.action), ['user.create', 'user.password', 'user.update', 'user.delete']);
    assert.ok((await q('target=tenant')).every((e) => e.target?.kind === 'tenant'));
    assert.deepEqual([...new Set((await q('door=login')).map((e) => e.action))].sort(), ['session.signIn', 'session.signInFailed', 'session.signOut']);
    assert.ok((await q(`type=admin&principal=local:${ADMIN_USER}&door=console`)).every((e) => e.door === 'console'));
    assert.equal((await api('GET', '/audit?target=user%25', asAdmin)).status, 400, 'no wildcard for a kind');
  });
});
