/**
 * The front-door conformance suite: one list of invariant cases of the control plane, run
 * unchanged through every door that can express them — the admin API (HTTP Basic or a bearer
 * token), the console (the admin API as the console calls it: the login page's session cookie and
 * a same-origin Origin), the CLI (`bin/gatehouse ... -c <file>` on the gateway's store and
 * configuration), the MLflow-compatible auth API (MLflow's own AuthServiceClient, test/services/
 * compat_door.py) and config reload (the configuration file rewritten under the running gateway).
 * The gateway runs in this process in front of a real MLflow 3.18 with --enable-workspaces,
 * configured from a file, auditing to the store and a file sink.
 *
 * The cases (each test is one case through one door; the door's outcome is normalised to a kind):
 *   1. the last enabled platform administrator cannot be demoted, disabled or deleted;
 *   2. disabling a user or service account ends its browser sessions and stops its tokens at once
 *      (its password too: at once in this process, within the users-version poll from the CLI);
 *   3. deleting a user or service account removes its grants, local group and tenant member
 *      entries, tokens and sessions, and a new one of the same name inherits nothing;
 *   4. a declared (configuration file) entry cannot be changed from a door (409 naming the file);
 *   5. a tenant created from a door exists in MLflow at once (also when the workspace already
 *      existed), and one MLflow refuses is not made at all;
 *   6. every case produces exactly the expected admin audit events, and both chains verify;
 *   7. re-enabling a service account makes its tokens work again at once;
 *   8. an administrator lists a user's browser sessions by handle (never a value usable as the
 *      cookie), ends one, then all: each ended session is refused on its next browser request;
 *   9. rotating a token gives a successor of the same scope that works on an MLflow call while the
 *      old one is refused — at once, or after the overlap (the gateway's injected clock moved past
 *      it, no sleep) — in one `token.rotate` event naming both ids; an overlap over a day is refused.
 *      A user rotates their own personal token through `/me/tokens/{id}/rotate` (API and console)
 *      the same way; another's token is not found there.
 *  10. an IdP identity is linked to a local user only for a provider with `link: subject`, to one
 *      user at most, and each link and unlink is one admin event.
 *
 * Cases a door cannot express are not generated (not skipped):
 *
 *   | door    | cases     | why                                                                   |
 *   |---------|-----------|-----------------------------------------------------------------------|
 *   | compat  | 1 disable | MLflow's auth API has no disable (users/update-admin, delete only).     |
 *   |         | 2, 4, 5,  | No disable, no tenants, no service accounts, no sessions, no tokens,   |
 *   |         | 7, 8, 9,  | no linked identities, and its grants are its own per-resource rows; it |
 *   |         | 10        | names no declared one.                                                 |
 *   | config  | 1–4, 7–10 | Config reload is where declared entries change; it manages no users.   |
 *
 * The console runs every case; where the API door acts as `ops` (a service account, which has no
 * browser session), the console acts as the signed-in administrator.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startGatehouse, type Gatehouse } from '../../src/main.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { sessionHandle } from '../../src/store/sessions.ts';
import { verifyFile, verifyStore } from '../../src/audit/verify.ts';
import { ADMIN_PASSWORD, ADMIN_USER, basic, callJson, formSignIn } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { waitFor } from '../harness/ports.ts';
import { childEnv, MLFLOW_VENV, ROOT, requireMlflowVenv } from '../harness/paths.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const PASSWORD = 'door-user-password-1';
const API = '/_gatehouse/api/v1';
const CHAIN = 'front-doors';
const OS_USER = userInfo().username;

let mlflow: MlflowServer;
let gh: Gatehouse;
/** Added to the gateway's clock (its injected `now`): a test moves time instead of sleeping. */
let clockOffset = 0;
let dir: string;
let configFile: string;
let auditFile: string;
let compat: CompatClient;
/** The bearer token of service account `ops`, a platform administrator through a declared grant. */
let opsToken: string;
/** The administrator's console session. */
let adminSession: string;
/** What the gateway logged (JSON lines), to see what became of a configuration reload. */
const logged: { msg?: string }[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line) as { msg?: string });
    done();
  },
});

type Kind = 'ok' | 'last-admin' | 'declared' | 'mlflow-refused' | 'scim-managed' | 'other';
interface Outcome {
  readonly kind: Kind;
  readonly message: string;
}

const DECLARED = {
  tenants: [
    { name: 'default', members: { users: [], groups: [] } },
    { name: 'declared-team', members: { users: ['dee'], groups: [] } },
  ],
  groups: [{ name: 'declared-group', members: ['dee'] }],
  bindings: [
    { role: 'viewer', group: 'declared-group', tenant: 'default' },
    { role: 'admin', serviceAccount: 'ops' },
  ],
};

/** Tenants the config door added to the file so far (each reload keeps them). */
const configTenants: string[] = [];

function configText(extraTenants: readonly string[] = configTenants): string {
  // JSON is YAML: one text, no YAML library needed here.
  return JSON.stringify({
    dataDir: join(dir, 'data'),
    server: { public: { host: '127.0.0.1', port: 0 }, internal: { host: '127.0.0.1', port: 0 } },
    mlflow: { url: mlflow.url },
    // `corp` links by subject; the suite never signs in there (discovery happens only at a sign-in).
    auth: { providers: [{ type: 'token' }, { type: 'local', scrypt: FAST }], browser: { oidc: [{ id: 'corp', label: 'Corp', issuer: 'http://127.0.0.1:9', clientId: 'gatehouse', link: 'subject' }] } },
    audit: { sinks: [{ type: 'store' }, { type: 'file', path: auditFile, fsync: false }], replicaId: CHAIN },
    log: { level: 'info', requests: false },
    scim: { enabled: true },
    ...DECLARED,
    tenants: [...DECLARED.tenants, ...extraTenants.map((name) => ({ name }))],
  });
}

/** As an editor saves: a temporary file renamed over the old one. */
function saveConfig(text: string): void {
  const tmp = join(dir, '.gatehouse.yaml.swp');
  writeFileSync(tmp, text);
  renameSync(tmp, configFile);
}

// ---------------------------------------------------------------------------------------------
// Talking to the gateway

const http = (method: string, path: string, headers: Record<string, string>, body?: unknown) => callJson(`${gh.url}${path}`, method, headers, body);

const asAdmin = { authorization: basic(ADMIN_USER, ADMIN_PASSWORD) };
const admin = (method: string, path: string, body?: unknown) => http(method, `${API}${path}`, asAdmin, body);

/** Signs in through the login form; returns the session cookie value. */
async function signIn(user: string, password: string): Promise<string> {
  const r = await formSignIn(gh.url, user, password);
  assert.equal(r.status, 303, `sign-in of ${user}`);
  return r.session!;
}

const withSession = (session: string) => ({ cookie: `gatehouse_session=${session}`, origin: gh.url });
const meStatus = async (headers: Record<string, string>) => (await http('GET', `${API}/me`, headers)).status;

function outcomeOfApi(r: { status: number; body: any }): Outcome { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
  if (r.status >= 200 && r.status < 300) return { kind: 'ok', message: '' };
  const code = r.body?.gatehouse_code as string | undefined;
  const message = String(r.body?.message ?? r.body);
  if (code === 'GATEHOUSE_ADMIN_LAST_ADMIN') return { kind: 'last-admin', message };
  if (code === 'GATEHOUSE_ADMIN_DECLARED') return { kind: 'declared', message };
  if (code === 'GATEHOUSE_ADMIN_MLFLOW_REFUSED') return { kind: 'mlflow-refused', message };
  if (code === 'GATEHOUSE_ADMIN_MANAGED_BY_SCIM') return { kind: 'scim-managed', message };
  return { kind: 'other', message: `${r.status} ${JSON.stringify(r.body)}` };
}

// The CLI: the real command on the gateway's configuration file (so the same store and MLflow).
// Run asynchronously: the gateway lives in this process and keeps serving meanwhile.
function cli(args: string[], input?: string): Promise<Outcome & { stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin/gatehouse'), [...args, '-c', configFile], { encoding: 'utf8', env: childEnv() }, (error, stdout, stderr) => {
      const message = `${stderr}${stdout}`;
      if (!error) return resolve({ kind: 'ok', message, stdout });
      const kind: Kind = /no enabled platform administrator/.test(message)
        ? 'last-admin'
        : /declared in the configuration file/.test(message)
          ? 'declared'
          : /MLflow refused/.test(message)
            ? 'mlflow-refused'
            : /is managed by SCIM/.test(message)
              ? 'scim-managed'
              : 'other';
      resolve({ kind, message: `exit ${error.code}: ${message}`, stdout });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** MLflow's AuthServiceClient in one long-lived Python process (test/services/compat_door.py). */
interface CompatClient {
  call(op: string, as: readonly [string, string], args: Record<string, unknown>): Promise<Outcome>;
  close(): void;
}

function startCompat(): CompatClient {
  requireMlflowVenv();
  const child: ChildProcessWithoutNullStreams = spawn(join(MLFLOW_VENV, 'bin/python'), [join(ROOT, 'test/services/compat_door.py')], {
    env: childEnv({ MLFLOW_TRACKING_URI: gh.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', PYTHONUNBUFFERED: '1' }),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: Interface = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  return {
    call(op, as, args) {
      return new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`compat door exited ${code}: ${stderr.slice(-2000)}`)));
        waiting.push((line) => {
          const a = JSON.parse(line) as { ok: boolean; code?: string; message?: string };
          if (a.ok) return resolve({ kind: 'ok', message: '' });
          const message = `${a.code}: ${a.message}`;
          resolve({ kind: /no enabled platform administrator/.test(message) ? 'last-admin' : /is managed by SCIM/.test(message) ? 'scim-managed' : 'other', message });
        });
        child.stdin.write(`${JSON.stringify({ op, as, args })}\n`);
      });
    },
    close: () => child.kill(),
  };
}

// ---------------------------------------------------------------------------------------------
// Admin audit events

interface AdminEvent {
  readonly type: 'admin';
  readonly seq: number;
  readonly door: string;
  readonly action: string;
  readonly actor: { readonly id: string };
  readonly target: { readonly kind: string; readonly id: string };
  readonly changes: Record<string, { before: unknown; after: unknown }>;
  readonly requestId: string | null;
}

/** Every event of this gateway's chain in the store. */
async function chainEvents(): Promise<{ seq: number; type?: string }[]> {
  const out: { seq: number; type?: string }[] = [];
  for await (const e of auditRepository(gh.store.db).scan({ chain: CHAIN })) out.push(e as unknown as { seq: number; type?: string });
  return out;
}

/** The CLI's events enter the gateway's chain through the journal; waits until it is empty. */
async function journalDrained(): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await gh.store.db.selectFrom('audit_journal' as never).select('id' as never).execute();
    if (rows.length === 0) return;
    if (Date.now() > deadline) assert.fail(`${rows.length} CLI audit event(s) still in the journal`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Where the chain stands (every case ends with the journal drained, so nothing of the last case is still coming). */
async function mark(): Promise<number> {
  return Math.max(0, ...(await chainEvents()).map((e) => e.seq));
}

async function adminEventsSince(seq: number): Promise<AdminEvent[]> {
  await journalDrained();
  return (await chainEvents()).filter((e) => e.seq > seq && e.type === 'admin') as unknown as AdminEvent[];
}

/** Exactly these admin events since the mark (action, door, target), and both chains intact. */
async function expectEvents(since: number, expected: readonly { action: string; door: string; target: string; actor: string }[]): Promise<AdminEvent[]> {
  const events = await adminEventsSince(since);
  assert.deepEqual(
    events.map((e) => ({ action: e.action, door: e.door, target: `${e.target.kind}:${e.target.id}`, actor: e.actor.id })),
    expected,
  );
  const raw = JSON.stringify(events);
  for (const secret of [PASSWORD, ADMIN_PASSWORD, opsToken, 'scrypt$', 'gth_']) assert.ok(!raw.includes(secret), `no ${secret.slice(0, 8)}… in admin events`);
  const store = await verifyStore(auditRepository(gh.store.db));
  assert.deepEqual(store.problems, [], 'the store chain verifies');
  const file = await verifyFile(auditFile);
  assert.deepEqual(file.problems, [], 'the file chain verifies');
  return events;
}

// ---------------------------------------------------------------------------------------------
// The doors

interface Door {
  readonly name: 'api' | 'console' | 'cli' | 'compat' | 'config';
  /** Who the admin events name as the actor when this door acts as the administrator / as `ops`. */
  readonly actor: { readonly admin: string; readonly ops: string };
  setAdmin?(user: string, value: boolean): Promise<Outcome>;
  disableUser?(user: string): Promise<Outcome>;
  /** As `ops` (a service account administrator) where the door can, else as the administrator. */
  deleteUser?(user: string): Promise<Outcome>;
  disableServiceAccount?(name: string): Promise<Outcome>;
  enableServiceAccount?(name: string): Promise<Outcome>;
  /** A user's browser sessions: their handles, one ended by handle, all ended. */
  sessions?: {
    list(user: string): Promise<Outcome & { readonly handles: readonly string[]; readonly raw: string }>;
    revoke(user: string, handle: string): Promise<Outcome>;
    revokeAll(user: string): Promise<Outcome>;
  };
  deleteServiceAccount?(name: string): Promise<Outcome>;
  /** The successor's id and secret when the rotation succeeded. */
  rotateToken?(id: string, overlapSeconds: number): Promise<Outcome & { readonly successor?: { readonly id: string; readonly token: string; readonly replaces: string } }>;
  /** Attempts on declared entries: every one must be refused. */
  changeDeclared?(): Promise<Outcome>[];
  createTenant?(name: string): Promise<Outcome>;
  deleteTenant?(name: string, force: boolean): Promise<Outcome>;
  /** IdP identities linked to a local user (`link: subject`). */
  identities?: {
    link(user: string, identity: string): Promise<Outcome>;
    unlink(user: string, identity: string): Promise<Outcome>;
  };
}

function apiDoor(name: 'api' | 'console', headers: () => Record<string, string>, opsHeaders: () => Record<string, string>, actor: Door['actor']): Door {
  const call = async (method: string, path: string, body?: unknown, as = headers) => outcomeOfApi(await http(method, `${API}${path}`, as(), body));
  return {
    name,
    actor,
    setAdmin: (u, value) => call('PATCH', `/users/${u}`, { admin: value }),
    disableUser: (u) => call('PATCH', `/users/${u}`, { disabled: true }),
    deleteUser: (u) => call('DELETE', `/users/${u}`, undefined, opsHeaders),
    disableServiceAccount: (s) => call('PATCH', `/service-accounts/${s}`, { disabled: true }),
    enableServiceAccount: (s) => call('PATCH', `/service-accounts/${s}`, { disabled: false }),
    deleteServiceAccount: (s) => call('DELETE', `/service-accounts/${s}`),
    async rotateToken(id, overlapSeconds) {
      const r = await http('POST', `${API}/tokens/${id}/rotate`, headers(), { overlapSeconds });
      return { ...outcomeOfApi(r), ...(r.status === 201 && { successor: r.body }) };
    },
    sessions: {
      async list(u) {
        const r = await http('GET', `${API}/users/${u}/sessions`, headers());
        return { ...outcomeOfApi(r), handles: ((r.body?.sessions ?? []) as { handle: string }[]).map((s) => s.handle), raw: JSON.stringify(r.body) };
      },
      revoke: (u, h) => call('DELETE', `/users/${u}/sessions/${h}`),
      revokeAll: (u) => call('DELETE', `/users/${u}/sessions`),
    },
    changeDeclared: () => [
      call('DELETE', '/grants/config:0'),
      call('DELETE', '/tenants/declared-team'),
      call('POST', '/tenants/declared-team/members', { user: 'eve' }),
      call('POST', '/groups/declared-group/members', { member: 'eve' }),
      call('DELETE', '/groups/declared-group/members/dee'),
    ],
    createTenant: (t) => call('POST', '/tenants', { name: t }),
    deleteTenant: (t, force) => call('DELETE', `/tenants/${t}${force ? '?force=true' : ''}`),
    identities: {
      link: (u, identity) => call('POST', `/users/${u}/identities`, { identity }),
      unlink: (u, identity) => call('DELETE', `/users/${u}/identities/${encodeURIComponent(identity)}`),
    },
  };
}

const cliDoor: Door = {
  name: 'cli',
  actor: { admin: `cli:${OS_USER}`, ops: `cli:${OS_USER}` },
  setAdmin: (u, value) => cli(['users', 'update', u, '--admin', String(value)]),
  disableUser: (u) => cli(['users', 'update', u, '--disabled', 'true']),
  deleteUser: (u) => cli(['users', 'delete', u]),
  disableServiceAccount: (s) => cli(['service-accounts', 'disable', s]),
  enableServiceAccount: (s) => cli(['service-accounts', 'enable', s]),
  deleteServiceAccount: (s) => cli(['service-accounts', 'delete', s]),
  async rotateToken(id, overlapSeconds) {
    const r = await cli(['tokens', 'rotate', id, '--overlap-seconds', String(overlapSeconds), '--json']);
    return { ...r, ...(r.kind === 'ok' && { successor: JSON.parse(r.stdout) }) };
  },
  sessions: {
    async list(u) {
      const r = await cli(['sessions', 'list', u, '--json']);
      const handles = r.kind === 'ok' ? (JSON.parse(r.stdout) as { handle: string }[]).map((s) => s.handle) : [];
      // The plain listing too: it is what an operator reads.
      const plain = await cli(['sessions', 'list', u]);
      return { ...r, handles, raw: `${r.stdout}\n${plain.stdout}` };
    },
    revoke: (u, h) => cli(['sessions', 'revoke', u, h]),
    revokeAll: (u) => cli(['sessions', 'revoke', u, '--all']),
  },
  changeDeclared: () => [
    cli(['grants', 'remove', 'config:0']),
    cli(['tenants', 'remove', 'declared-team']),
    cli(['tenants', 'add-member', 'declared-team', '--user', 'eve']),
    cli(['groups', 'add-member', 'declared-group', 'eve']),
    cli(['groups', 'remove-member', 'declared-group', 'dee']),
  ],
  createTenant: (t) => cli(['tenants', 'add', t]),
  deleteTenant: (t, force) => cli(['tenants', 'remove', t, ...(force ? ['--force'] : [])]),
  identities: {
    link: (u, identity) => cli(['users', 'link', u, identity]),
    unlink: (u, identity) => cli(['users', 'unlink', u, identity]),
  },
};

const compatDoor: Door = {
  name: 'compat',
  actor: { admin: `local:${ADMIN_USER}`, ops: 'token:sa:ops' },
  setAdmin: (u, value) => compat.call('update_admin', [ADMIN_USER, ADMIN_PASSWORD], { username: u, is_admin: value }),
  // The token as the Basic password (any user name): how MLflow's client can present it.
  deleteUser: (u) => compat.call('delete_user', ['ops', opsToken], { username: u }),
};

/** Config reload: the tenant is added to the file; the outcome is what the running gateway made of it. */
const configDoor: Door = {
  name: 'config',
  actor: { admin: 'config', ops: 'config' },
  async createTenant(t) {
    const seen = logged.length;
    saveConfig(configText([...configTenants, t]));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const outcome = logged.slice(seen).find((l) => l.msg === 'declared policy reloaded' || /^configuration reload refused/.test(l.msg ?? ''));
      if (outcome?.msg === 'declared policy reloaded') {
        configTenants.push(t);
        return { kind: 'ok', message: '' };
      }
      if (outcome) {
        // The file is put back as it was, as an operator would after reading the log.
        saveConfig(configText());
        return { kind: /MLflow refused/.test(JSON.stringify(outcome)) ? 'mlflow-refused' : 'other', message: JSON.stringify(outcome) };
      }
      assert.ok(Date.now() < deadline, `no reload outcome logged: ${JSON.stringify(logged.slice(seen))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  },
};

/**
 * The CLI is another process: the gateway learns of its changes through the store's policy
 * version, polled every second (at once over Redis, which this suite does not run). A test does
 * what the poll does, now, rather than sleep. Tokens and sessions need no poll (every request
 * reads them from the store); grants do. Cached password checks follow the store's users version,
 * which the local provider polls every second itself (`passwordStops`). Its admin events enter the
 * chain when the gateway takes them from the journal (at most a second later).
 */
async function caughtUp(door: Door): Promise<void> {
  if (door.name !== 'cli') return;
  await gh.policy.reload();
  // Its admin events too: in the chain before what the test does next.
  await journalDrained();
}

/** A changed user's password is refused: at once through a door of this process, within the users-version poll (1 s) from the CLI. */
async function passwordStops(door: Door, authorization: string): Promise<void> {
  if (door.name !== 'cli') {
    assert.equal(await meStatus({ authorization }), 401, 'the password stopped');
    return;
  }
  await waitFor('the password stopped', async () => (await meStatus({ authorization })) === 401, 2_000);
}

const doors = (): Door[] => [
  apiDoor('api', () => asAdmin, () => ({ authorization: `Bearer ${opsToken}` }), { admin: `local:${ADMIN_USER}`, ops: 'token:sa:ops' }),
  apiDoor('console', () => withSession(adminSession), () => withSession(adminSession), { admin: `local:${ADMIN_USER}`, ops: `local:${ADMIN_USER}` }),
  cliDoor,
  compatDoor,
  configDoor,
];

// ---------------------------------------------------------------------------------------------

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-doors-'));
  configFile = join(dir, 'gatehouse.yaml');
  auditFile = join(dir, 'audit', 'audit.jsonl');
  mlflow = await startMlflow({ workspaces: true });
  writeFileSync(configFile, configText());
  gh = await startGatehouse(loadConfig({ file: configFile, env: {} }), { configFile, env: { GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD }, log: createLogger('info', logSink), now: () => Date.now() + clockOffset });
  const sa = await admin('POST', '/service-accounts', { name: 'ops' });
  assert.equal(sa.status, 201, JSON.stringify(sa.body));
  const token = await admin('POST', '/tokens', { serviceAccount: 'ops' });
  assert.equal(token.status, 201, JSON.stringify(token.body));
  opsToken = token.body.token;
  assert.equal((await http('GET', `${API}/users`, { authorization: `Bearer ${opsToken}` })).status, 200, 'ops is a platform administrator');
  adminSession = await signIn(ADMIN_USER, ADMIN_PASSWORD);
  compat = startCompat();
});

after(async () => {
  compat?.close();
  await gh?.close(1000);
  await mlflow?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function isAdminInStore(user: string): Promise<{ admin: boolean; disabled: boolean } | undefined> {
  const u = await gh.store.findUserByName(user);
  return u && { admin: u.admin, disabled: u.disabled };
}

describe('1. the last enabled platform administrator stays', () => {
  for (const door of doors()) {
    if (door.setAdmin) {
      test(`${door.name}: cannot be demoted`, async () => {
        const since = await mark();
        const r = await door.setAdmin!(ADMIN_USER, false);
        assert.equal(r.kind, 'last-admin', r.message);
        assert.deepEqual(await isAdminInStore(ADMIN_USER), { admin: true, disabled: false });
        await expectEvents(since, []);
      });
    }
    if (door.disableUser) {
      test(`${door.name}: cannot be disabled`, async () => {
        const since = await mark();
        const r = await door.disableUser!(ADMIN_USER);
        assert.equal(r.kind, 'last-admin', r.message);
        assert.deepEqual(await isAdminInStore(ADMIN_USER), { admin: true, disabled: false });
        await expectEvents(since, []);
      });
    }
    if (door.deleteUser) {
      test(`${door.name}: cannot be deleted, not even by another administrator who is no local user`, async () => {
        const since = await mark();
        const r = await door.deleteUser!(ADMIN_USER);
        assert.equal(r.kind, 'last-admin', r.message);
        assert.deepEqual(await isAdminInStore(ADMIN_USER), { admin: true, disabled: false });
        await expectEvents(since, []);
      });
    }
  }
});

/** A local user with a session, a personal token, a password, grants and memberships. */
async function seedUser(name: string): Promise<{ session: string; token: string; basic: string }> {
  assert.equal((await admin('POST', '/users', { username: name, password: PASSWORD })).status, 201);
  assert.equal((await admin('POST', '/grants', { role: 'contributor', user: name, tenant: 'default' })).status, 201);
  assert.equal((await admin('POST', `/groups/group-of-${name}/members`, { member: name })).status, 200);
  assert.equal((await admin('POST', '/tenants/shared-team/members', { user: name })).status, 200);
  const token = await admin('POST', '/tokens', { user: name });
  assert.equal(token.status, 201);
  const session = await signIn(name, PASSWORD);
  return { session, token: `Bearer ${token.body.token}`, basic: basic(name, PASSWORD) };
}

/** A service account with a viewer grant in `default` and a token (narrowed by `narrowing`): the token's id and bearer header. */
async function seedServiceAccountToken(name: string, narrowing: Record<string, unknown> = {}): Promise<{ id: string; bearer: string }> {
  assert.equal((await admin('POST', '/service-accounts', { name })).status, 201);
  assert.equal((await admin('POST', '/grants', { role: 'viewer', serviceAccount: name, tenant: 'default' })).status, 201);
  const token = await admin('POST', '/tokens', { serviceAccount: name, ...narrowing });
  assert.equal(token.status, 201);
  return { id: token.body.id, bearer: `Bearer ${token.body.token}` };
}

const seedServiceAccount = async (name: string): Promise<string> => (await seedServiceAccountToken(name)).bearer;

const experimentsSearch = (headers: Record<string, string>) =>
  http('POST', '/api/2.0/mlflow/experiments/search', { ...headers, 'x-mlflow-workspace': 'default' }, { max_results: 1 });

describe('2. disabling ends sessions and stops tokens at once', () => {
  before(async () => {
    if ((await admin('GET', '/tenants')).body.tenants.some((t: { name: string }) => t.name === 'shared-team')) return;
    assert.equal((await admin('POST', '/tenants', { name: 'shared-team' })).status, 201);
  });
  for (const door of doors()) {
    if (door.disableUser) {
      test(`${door.name}: a user`, async () => {
        const name = `off-${door.name}`;
        const u = await seedUser(name);
        const credentials: Record<string, string>[] = [{ cookie: `gatehouse_session=${u.session}` }, { authorization: u.token }, { authorization: u.basic }];
        for (const creds of credentials) assert.equal(await meStatus(creds), 200);
        const since = await mark();
        const r = await door.disableUser!(name);
        assert.equal(r.kind, 'ok', r.message);
        assert.equal(await meStatus({ cookie: `gatehouse_session=${u.session}` }), 401, 'the session ended');
        assert.equal(await meStatus({ authorization: u.token }), 401, 'the token stopped');
        assert.equal((await experimentsSearch({ authorization: u.token })).status, 401, 'the token stopped for MLflow calls too');
        await caughtUp(door);
        await passwordStops(door, u.basic);
        const [event] = await expectEvents(since, [{ action: 'user.update', door: door.name, target: `user:${name}`, actor: door.actor.admin }]);
        assert.deepEqual(event!.changes.disabled, { before: false, after: true });
      });
    }
    if (door.disableServiceAccount) {
      test(`${door.name}: a service account`, async () => {
        const name = `sa-off-${door.name}`;
        const token = await seedServiceAccount(name);
        assert.equal((await experimentsSearch({ authorization: token })).status, 200);
        const since = await mark();
        const r = await door.disableServiceAccount!(name);
        assert.equal(r.kind, 'ok', r.message);
        assert.equal((await experimentsSearch({ authorization: token })).status, 401, 'its token stopped');
        const [event] = await expectEvents(since, [{ action: 'serviceAccount.update', door: door.name, target: `service_account:${name}`, actor: door.actor.admin }]);
        assert.deepEqual(event!.changes.disabled, { before: false, after: true });
      });
    }
  }
});

describe('3. deleting removes grants, memberships, tokens and sessions; the next of that name inherits nothing', () => {
  before(async () => {
    if ((await admin('GET', '/tenants')).body.tenants.some((t: { name: string }) => t.name === 'shared-team')) return;
    assert.equal((await admin('POST', '/tenants', { name: 'shared-team' })).status, 201);
  });
  for (const door of doors()) {
    if (door.deleteUser) {
      test(`${door.name}: a user`, async () => {
        const name = `gone-${door.name}`;
        const u = await seedUser(name);
        assert.equal((await experimentsSearch({ authorization: u.basic })).status, 200, 'the grant works before');
        const since = await mark();
        const r = await door.deleteUser!(name);
        assert.equal(r.kind, 'ok', r.message);
        assert.deepEqual((await admin('GET', `/grants?user=${name}`)).body.grants, [], 'no grant names the deleted user');
        const groups = (await admin('GET', '/groups')).body.groups as { name: string; members: string[] }[];
        assert.deepEqual(groups.filter((g) => g.members.includes(name)).map((g) => g.name), [], 'no local group has the deleted user');
        const tenants = (await admin('GET', '/tenants')).body.tenants as { name: string; members: { users: string[] } }[];
        assert.deepEqual(tenants.filter((t) => t.members.users.includes(name)).map((t) => t.name), [], 'no tenant lists the deleted user');
        assert.deepEqual((await admin('GET', `/tokens?owner=${name}`)).body.tokens, [], 'its tokens are gone');
        assert.deepEqual((await admin('GET', `/sessions?user=${name}`)).body.sessions, [], 'its sessions are gone');
        assert.equal(await meStatus({ cookie: `gatehouse_session=${u.session}` }), 401);
        assert.equal(await meStatus({ authorization: u.token }), 401);

        // A new user of the same name starts with nothing.
        await caughtUp(door);
        assert.equal((await admin('POST', '/users', { username: name, password: `${PASSWORD}-new` })).status, 201);
        const fresh = basic(name, `${PASSWORD}-new`);
        const me = (await http('GET', `${API}/me`, { authorization: fresh })).body;
        assert.deepEqual(me.roles, [], 'no roles inherited');
        assert.deepEqual(me.principal.groups, [], 'no groups inherited');
        assert.ok(!me.tenants.includes('shared-team'), 'no tenant membership inherited');
        assert.equal((await experimentsSearch({ authorization: fresh })).status, 403, 'no MLflow access inherited');
        assert.equal(await meStatus({ authorization: u.token }), 401, 'the old token does not come back');

        const [event] = await expectEvents(since, [
          { action: 'user.delete', door: door.name, target: `user:${name}`, actor: door.actor.ops },
          { action: 'user.create', door: 'api', target: `user:${name}`, actor: `local:${ADMIN_USER}` },
        ]);
        const removed = event!.changes;
        assert.deepEqual(removed.username, { before: name, after: null });
        assert.equal((removed.grants?.before as unknown[]).length, 1, 'the removed grant is recorded');
        assert.equal((removed.tokens?.before as unknown[]).length, 1, 'the removed token is recorded (by id)');
        assert.deepEqual(removed.groups?.before, [`group-of-${name}`]);
        assert.deepEqual(removed.tenants?.before, ['shared-team']);
        await admin('DELETE', `/users/${name}`);
      });
    }
    if (door.deleteServiceAccount) {
      test(`${door.name}: a service account`, async () => {
        const name = `sa-gone-${door.name}`;
        const token = await seedServiceAccount(name);
        const since = await mark();
        const r = await door.deleteServiceAccount!(name);
        assert.equal(r.kind, 'ok', r.message);
        assert.equal((await experimentsSearch({ authorization: token })).status, 401, 'its token stopped');
        assert.deepEqual((await admin('GET', `/grants?serviceAccount=${name}`)).body.grants, [], 'no grant names it');
        assert.deepEqual((await admin('GET', `/tokens?owner=${name}`)).body.tokens, [], 'its tokens are gone');
        await caughtUp(door);
        assert.equal((await admin('POST', '/service-accounts', { name })).status, 201);
        const fresh = await admin('POST', '/tokens', { serviceAccount: name });
        assert.equal((await experimentsSearch({ authorization: `Bearer ${fresh.body.token}` })).status, 403, 'the new one inherits nothing');
        await expectEvents(since, [
          { action: 'serviceAccount.delete', door: door.name, target: `service_account:${name}`, actor: door.actor.admin },
          { action: 'serviceAccount.create', door: 'api', target: `service_account:${name}`, actor: `local:${ADMIN_USER}` },
          { action: 'token.create', door: 'api', target: `token:${fresh.body.id}`, actor: `local:${ADMIN_USER}` },
        ]);
      });
    }
  }
});

describe('4. declared entries cannot be changed from a door', () => {
  for (const door of doors()) {
    if (!door.changeDeclared) continue;
    test(`${door.name}: every attempt is refused with a 409 naming the configuration file`, async () => {
      const since = await mark();
      const outcomes = await Promise.all(door.changeDeclared!());
      for (const o of outcomes) {
        assert.equal(o.kind, 'declared', o.message);
        assert.ok(o.message.includes(configFile), `names ${configFile}: ${o.message}`);
      }
      const grants = (await admin('GET', '/grants?source=config')).body.grants as unknown[];
      assert.equal(grants.length, DECLARED.bindings.length);
      const team = ((await admin('GET', '/tenants')).body.tenants as { name: string; members: unknown }[]).find((t) => t.name === 'declared-team');
      assert.deepEqual(team?.members, { users: ['dee'], groups: [] });
      assert.deepEqual((await admin('GET', '/groups/declared-group')).body.members, ['dee']);
      await expectEvents(since, []);
    });
  }
});

/** The event a tenant creation produces: its own, or the reload's for the config door (one event per reload). */
const createdEvent = (door: Door, name: string) =>
  door.name === 'config'
    ? { action: 'config.reload', door: 'config', target: `config:${configFile}`, actor: 'config' }
    : { action: 'tenant.create', door: door.name, target: `tenant:${name}`, actor: door.actor.admin };

const inMlflow = async (workspace: string) => {
  const r = await fetch(`${mlflow.url}/api/3.0/mlflow/workspaces`);
  assert.equal(r.status, 200);
  return ((await r.json()) as { workspaces: { name: string }[] }).workspaces.some((w) => w.name === workspace);
};

describe('5. a tenant is whole: it exists in MLflow, or not at all', () => {
  for (const door of doors()) {
    if (!door.createTenant) continue;
    test(`${door.name}: a tenant made here exists in MLflow and is usable at once`, async () => {
      const name = `made-by-${door.name}`;
      const since = await mark();
      const r = await door.createTenant!(name);
      assert.equal(r.kind, 'ok', r.message);
      assert.ok(await inMlflow(name), 'the MLflow workspace exists');
      const exp = await http('POST', '/api/2.0/mlflow/experiments/create', { ...asAdmin, 'x-mlflow-workspace': name }, { name: `first-of-${name}` });
      assert.equal(exp.status, 200, JSON.stringify(exp.body));
      const [event] = await expectEvents(since, [createdEvent(door, name)]);
      if (door.name === 'config') assert.deepEqual(event!.changes.tenants, { before: null, after: { added: [name] } });
    });
    test(`${door.name}: a workspace that already exists in MLflow is adopted`, async () => {
      const name = `premade-${door.name}`;
      const ws = await fetch(`${mlflow.url}/api/3.0/mlflow/workspaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      assert.equal(ws.status, 201);
      const since = await mark();
      const r = await door.createTenant!(name);
      assert.equal(r.kind, 'ok', r.message);
      assert.ok(((await admin('GET', '/tenants')).body.tenants as { name: string }[]).some((t) => t.name === name));
      await expectEvents(since, [createdEvent(door, name)]);
    });
    test(`${door.name}: a tenant MLflow refuses is not made at all`, async () => {
      // MLflow 3.18 reserves these workspace names (WorkspaceNameValidator._RESERVED); Gatehouse's
      // tenant name rule accepts them, so the refusal comes from MLflow itself (docs/mlflow-notes.md).
      const since = await mark();
      const r = await door.createTenant!('api');
      assert.equal(r.kind, 'mlflow-refused', r.message);
      assert.ok(!((await admin('GET', '/tenants')).body.tenants as { name: string }[]).some((t) => t.name === 'api'), 'nothing half-made');
      assert.ok(!(await inMlflow('api')), 'MLflow has no such workspace either');
      await expectEvents(since, []);
    });
  }
});

describe('6. removing a tenant removes its workspace, refused while MLflow holds something there unless forced', () => {
  for (const door of doors()) {
    if (!door.deleteTenant) continue;
    test(`${door.name}: refused with an experiment in it; forced, both are gone`, async () => {
      const name = `full-${door.name}`;
      assert.equal((await admin('POST', '/tenants', { name })).status, 201);
      const exp = await http('POST', '/api/2.0/mlflow/experiments/create', { ...asAdmin, 'x-mlflow-workspace': name }, { name: `kept-in-${name}` });
      assert.equal(exp.status, 200, JSON.stringify(exp.body));
      const since = await mark();
      const refused = await door.deleteTenant!(name, false);
      assert.equal(refused.kind, 'mlflow-refused', refused.message);
      assert.match(refused.message, /still contains|resource/);
      assert.ok(((await admin('GET', '/tenants')).body.tenants as { name: string }[]).some((t) => t.name === name), 'the tenant stays');
      assert.ok(await inMlflow(name), 'the workspace stays');
      const forced = await door.deleteTenant!(name, true);
      assert.equal(forced.kind, 'ok', forced.message);
      assert.ok(!((await admin('GET', '/tenants')).body.tenants as { name: string }[]).some((t) => t.name === name), 'the tenant is gone');
      assert.ok(!(await inMlflow(name)), 'the workspace is gone (MLflow deleted what it held)');
      const [event] = await expectEvents(since, [{ action: 'tenant.delete', door: door.name, target: `tenant:${name}`, actor: door.actor.admin }]);
      assert.deepEqual(event!.changes.workspace, { before: 'existed', after: 'deleted (forced)' });
    });
  }
});

describe('6b. a tenant an MLflow role lives in is not removed under the role', () => {
  for (const door of doors()) {
    if (!door.deleteTenant) continue;
    test(`${door.name}: refused while the role exists, even forced; removed once the role is deleted`, async () => {
      const name = `roles-${door.name}`;
      assert.equal((await admin('POST', '/tenants', { name })).status, 201);
      const made = await http('POST', '/api/3.0/mlflow/roles/create', asAdmin, { workspace: name, name: 'stays' });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const since = await mark();
      const refused = await door.deleteTenant!(name, true);
      assert.equal(refused.kind, 'other', refused.message);
      assert.match(refused.message, /MLflow roles still name tenant roles-[a-z]+: stays/);
      assert.ok(((await admin('GET', '/tenants')).body.tenants as { name: string }[]).some((t) => t.name === name), 'the tenant stays');
      await expectEvents(since, []);
      const then = await mark();
      assert.equal((await http('DELETE', '/api/3.0/mlflow/roles/delete', asAdmin, { role_id: made.body.role.id })).status, 200);
      const removed = await door.deleteTenant!(name, false);
      assert.equal(removed.kind, 'ok', removed.message);
      await expectEvents(then, [
        { action: 'mlflowRole.delete', door: 'compat', target: `role:mlflow:${made.body.role.id}`, actor: `local:${ADMIN_USER}` },
        { action: 'tenant.delete', door: door.name, target: `tenant:${name}`, actor: door.actor.admin },
      ]);
    });
  }
});

describe('7. re-enabling a service account makes its tokens work again at once', () => {
  for (const door of doors()) {
    if (!door.disableServiceAccount || !door.enableServiceAccount) continue;
    test(`${door.name}: disabled, refused; enabled, served`, async () => {
      const name = `sa-back-${door.name}`;
      const token = await seedServiceAccount(name);
      const since = await mark();
      assert.equal((await door.disableServiceAccount!(name)).kind, 'ok');
      assert.equal((await experimentsSearch({ authorization: token })).status, 401, 'disabled: its token is refused on the next MLflow call');
      const r = await door.enableServiceAccount!(name);
      assert.equal(r.kind, 'ok', r.message);
      assert.equal((await experimentsSearch({ authorization: token })).status, 200, 'enabled: the same token works on the next MLflow call');
      const events = await expectEvents(since, [
        { action: 'serviceAccount.update', door: door.name, target: `service_account:${name}`, actor: door.actor.admin },
        { action: 'serviceAccount.update', door: door.name, target: `service_account:${name}`, actor: door.actor.admin },
      ]);
      assert.deepEqual(events[1]!.changes.disabled, { before: true, after: false });
    });
  }
});

/** A browser's next page load with this session cookie: `ui` (MLflow's UI served) or `login` (sent to sign in). */
async function browse(session: string): Promise<'ui' | 'login' | string> {
  const r = await fetch(`${gh.url}/`, { redirect: 'manual', headers: { accept: 'text/html', cookie: `gatehouse_session=${session}` } });
  await r.arrayBuffer();
  if (r.status === 200) return 'ui';
  if (r.status >= 300 && r.status < 400 && (r.headers.get('location') ?? '').startsWith('/_gatehouse/login')) return 'login';
  return `${r.status}`;
}

describe("8. an administrator lists a user's browser sessions and ends them", () => {
  for (const door of doors()) {
    if (!door.sessions) continue;
    test(`${door.name}: listed by handle, one ended, then all; each refused on its next browser request`, async () => {
      const name = `sess-${door.name}`;
      assert.equal((await admin('POST', '/users', { username: name, password: PASSWORD })).status, 201);
      const cookies = [await signIn(name, PASSWORD), await signIn(name, PASSWORD), await signIn(name, PASSWORD)];
      for (const c of cookies) assert.equal(await browse(c), 'ui');
      const since = await mark();

      const listed = await door.sessions!.list(name);
      assert.equal(listed.kind, 'ok', listed.message);
      assert.deepEqual([...listed.handles].sort(), cookies.map(sessionHandle).sort(), 'one handle per session');
      for (const c of cookies) assert.ok(!listed.raw.includes(c), 'no cookie value is shown');
      for (const h of listed.handles) {
        // Hex: a handle never starts with "-", which the CLI's option parser would read as an option.
        assert.match(h, /^[0-9a-f]{64}$/);
        assert.equal(await browse(h), 'login', 'a handle is not a cookie');
      }
      const [first, ...rest] = cookies as [string, ...string[]];

      const one = await door.sessions!.revoke(name, sessionHandle(first));
      assert.equal(one.kind, 'ok', one.message);
      assert.equal(await browse(first), 'login', 'the ended session is refused on its next request');
      for (const c of rest) assert.equal(await browse(c), 'ui', 'the others go on');
      assert.equal((await door.sessions!.revoke(name, sessionHandle(first))).kind, 'other', 'an ended session is not found');
      // The CLI records its events in the store's journal, which the gateway copies into the chain on its own
      // schedule; wait for the copy so the chain's order is the order things happened in.
      await journalDrained();
      const other = await signIn(ADMIN_USER, ADMIN_PASSWORD);
      assert.equal((await door.sessions!.revoke(name, sessionHandle(other))).kind, 'other', "another user's session is not this user's");
      assert.equal(await browse(other), 'ui');

      const all = await door.sessions!.revokeAll(name);
      assert.equal(all.kind, 'ok', all.message);
      for (const c of rest) assert.equal(await browse(c), 'login', 'every session ended');
      assert.deepEqual((await door.sessions!.list(name)).handles, []);
      assert.equal((await door.sessions!.list('no-such-user')).kind, 'other', 'an unknown user is not found');

      const events = await expectEvents(since, [
        { action: 'session.revoke', door: door.name, target: `session:${sessionHandle(first)}`, actor: door.actor.admin },
        { action: 'session.signIn', door: 'login', target: `session:${sessionHandle(other)}`, actor: `local:${ADMIN_USER}` },
        { action: 'session.revoke', door: door.name, target: `user:${name}`, actor: door.actor.admin },
      ]);
      assert.deepEqual(events[2]!.changes.sessions, { before: rest.map(sessionHandle).sort(), after: [] });
      await admin('DELETE', `/users/${name}`);
    });
  }
});

/**
 * The successor works on an MLflow call; the old token is refused — at once, or, with an overlap,
 * once the gateway's clock has moved past it (it works until then) — and the successor still works.
 */
async function assertRotated(oldBearer: string, bearer: string, overlapSeconds: number): Promise<void> {
  assert.equal((await experimentsSearch({ authorization: bearer })).status, 200, 'the successor works on an MLflow call');
  try {
    if (overlapSeconds > 0) {
      assert.equal((await experimentsSearch({ authorization: oldBearer })).status, 200, 'within the overlap the old token still works');
      clockOffset += (overlapSeconds + 1) * 1000;
    }
    assert.equal((await experimentsSearch({ authorization: oldBearer })).status, 401, 'the old token is refused');
    assert.equal((await experimentsSearch({ authorization: bearer })).status, 200, 'the successor still works');
  } finally {
    clockOffset = 0;
  }
}

describe('9. rotating a token: the successor works, the old one is refused (after the overlap), one event', () => {
  const SCOPE = { tenant: 'default', maxRole: 'viewer', description: 'nightly export', expiresInDays: 30 };
  for (const door of doors()) {
    if (!door.rotateToken) continue;
    for (const overlapSeconds of [0, 60]) {
      test(`${door.name}: overlap ${overlapSeconds} s`, async () => {
        const name = `sa-rot${overlapSeconds}-${door.name}`;
        const old = await seedServiceAccountToken(name, SCOPE);
        const since = await mark();
        const r = await door.rotateToken!(old.id, overlapSeconds);
        assert.equal(r.kind, 'ok', r.message);
        const successor = r.successor!;
        assert.equal(successor.replaces, old.id);
        assert.notEqual(successor.id, old.id);
        await assertRotated(old.bearer, `Bearer ${successor.token}`, overlapSeconds);
        const listed = (await admin('GET', `/tokens?owner=${name}`)).body.tokens as { id: string; tenant: string; maxRole: string; description: string; createdAt: string; expiresAt: string }[];
        const next = listed.find((t) => t.id === successor.id)!;
        const before = listed.find((t) => t.id === old.id)!;
        assert.deepEqual([next.tenant, next.maxRole, next.description], [SCOPE.tenant, SCOPE.maxRole, SCOPE.description], 'the same scope');
        assert.equal(Date.parse(next.expiresAt) - Date.parse(next.createdAt), Date.parse(before.expiresAt) - Date.parse(before.createdAt), 'the same lifetime');
        const [event] = await expectEvents(since, [{ action: 'token.rotate', door: door.name, target: `token:${old.id}`, actor: door.actor.admin }]);
        assert.deepEqual(event!.changes.successor, { before: null, after: successor.id });
        assert.equal((await door.rotateToken!(old.id, 0)).kind, 'other', 'a rotated token is not rotated again');
        await expectEvents(since, [{ action: 'token.rotate', door: door.name, target: `token:${old.id}`, actor: door.actor.admin }]);
      });
    }
    test(`${door.name}: an overlap over a day is refused, nothing changes`, async () => {
      const name = `sa-rotlong-${door.name}`;
      const old = await seedServiceAccountToken(name);
      const since = await mark();
      const r = await door.rotateToken!(old.id, 86_401);
      assert.equal(r.kind, 'other');
      assert.match(r.message, /overlapSeconds/);
      assert.equal((await experimentsSearch({ authorization: old.bearer })).status, 200, 'the old token still works');
      assert.equal((await admin('GET', `/tokens?owner=${name}`)).body.tokens.length, 1, 'no successor');
      await expectEvents(since, []);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The SCIM door (src/scim/): its own credential, so it is not one of doors(); its users are
// SCIM-managed, so every other door is refused what SCIM manages.

const SCIM = '/_gatehouse/scim/v2';
let scimBearer: string | undefined;
async function scimCall(method: string, path: string, body?: unknown) {
  if (scimBearer === undefined) {
    const t = await admin('POST', '/scim/tokens', { name: 'idp' });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    scimBearer = `Bearer ${t.body.token}`;
  }
  return http(method, `${SCIM}${path}`, { authorization: scimBearer }, body);
}

/** A SCIM-provisioned user with a password (set by the admin), a grant, a personal token and a session. */
async function seedScimUser(name: string): Promise<{ id: string; session: string; token: string; basic: string }> {
  const created = await scimCall('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: name, active: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await admin('POST', `/users/${name}/password`, { password: PASSWORD })).status, 200);
  assert.equal((await admin('POST', '/grants', { role: 'contributor', user: name, tenant: 'default' })).status, 201);
  const token = await admin('POST', '/tokens', { user: name });
  assert.equal(token.status, 201);
  return { id: created.body.id, session: await signIn(name, PASSWORD), token: `Bearer ${token.body.token}`, basic: basic(name, PASSWORD) };
}

describe('10. SCIM: its deprovisioning ends sessions and stops tokens at once; what it manages, no other door changes', () => {
  test('scim: active false ends the sessions and stops the token and password; one user.update event, actor the token\'s name', async () => {
    const u = await seedScimUser('scim-off');
    const since = await mark();
    const r = await scimCall('PATCH', `/Users/${u.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await meStatus({ cookie: `gatehouse_session=${u.session}` }), 401, 'the session ended');
    assert.equal(await meStatus({ authorization: u.token }), 401, 'the token stopped');
    assert.equal(await meStatus({ authorization: u.basic }), 401, 'the password stopped');
    const [event] = await expectEvents(since, [{ action: 'user.update', door: 'scim', target: 'user:scim-off', actor: 'idp' }]);
    assert.deepEqual(event!.changes.disabled, { before: false, after: true });
  });

  test('scim: DELETE removes grants, tokens and sessions', async () => {
    const u = await seedScimUser('scim-gone');
    const since = await mark();
    assert.equal((await scimCall('DELETE', `/Users/${u.id}`)).status, 204);
    assert.deepEqual((await admin('GET', '/grants?user=scim-gone')).body.grants, []);
    assert.deepEqual((await admin('GET', '/tokens?owner=scim-gone')).body.tokens, []);
    assert.deepEqual((await admin('GET', '/sessions?user=scim-gone')).body.sessions, []);
    assert.equal(await meStatus({ authorization: u.token }), 401);
    const [event] = await expectEvents(since, [{ action: 'user.delete', door: 'scim', target: 'user:scim-gone', actor: 'idp' }]);
    assert.equal((event!.changes.grants?.before as unknown[]).length, 1, 'the removed grant is recorded');
  });

  for (const door of doors()) {
    if (door.disableUser || door.deleteUser) {
      test(`${door.name}: a SCIM user is neither disabled nor deleted (409 naming SCIM), and nothing is recorded`, async () => {
        const name = `scim-kept-${door.name}`;
        const u = await seedScimUser(name);
        const since = await mark();
        for (const attempt of [door.disableUser, door.deleteUser]) {
          if (!attempt) continue;
          const r = await attempt(name);
          assert.equal(r.kind, 'scim-managed', r.message);
          assert.match(r.message, /SCIM/);
        }
        await caughtUp(door);
        assert.deepEqual(await isAdminInStore(name), { admin: false, disabled: false });
        assert.equal(await meStatus({ authorization: u.token }), 200, 'its token still works');
        await expectEvents(since, []);
      });
    }
  }
});

describe('9b. rotating my own personal token (/me/tokens/{id}/rotate): the same service operation, the owner\'s tokens only', () => {
  /** A user with a viewer grant in `default`, signed in through `via`, and a personal token they made themselves. */
  async function seedOwner(name: string, via: 'api' | 'console') {
    assert.equal((await admin('POST', '/users', { username: name, password: PASSWORD })).status, 201);
    assert.equal((await admin('POST', '/grants', { role: 'viewer', user: name, tenant: 'default' })).status, 201);
    const as = via === 'api' ? { authorization: basic(name, PASSWORD) } : withSession(await signIn(name, PASSWORD));
    const token = await http('POST', `${API}/me/tokens`, as, { description: 'laptop', tenant: 'default', expiresInDays: 30 });
    assert.equal(token.status, 201, JSON.stringify(token.body));
    return { as, id: token.body.id as string, bearer: `Bearer ${token.body.token}` };
  }

  for (const via of ['api', 'console'] as const) {
    for (const overlapSeconds of [0, 60]) {
      test(`${via}: overlap ${overlapSeconds} s`, async () => {
        const name = `me-rot${overlapSeconds}-${via}`;
        const old = await seedOwner(name, via);
        const since = await mark();
        const r = await http('POST', `${API}/me/tokens/${old.id}/rotate`, old.as, { overlapSeconds });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        assert.equal(r.body.replaces, old.id);
        assert.equal(r.body.owner, name);
        assert.equal(r.body.tenant, 'default', 'the same scope');
        await assertRotated(old.bearer, `Bearer ${r.body.token}`, overlapSeconds);
        const [event] = await expectEvents(since, [{ action: 'token.rotate', door: via, target: `token:${old.id}`, actor: `local:${name}` }]);
        assert.deepEqual(event!.changes.successor, { before: null, after: r.body.id });
      });
    }
  }

  test('another user\'s token, or a service account\'s, is not found through /me; nothing changes', async () => {
    const owner = await seedOwner('me-rot-owner', 'api');
    const other = await seedOwner('me-rot-other', 'api');
    const sa = await seedServiceAccountToken('sa-me-rot');
    const since = await mark();
    for (const id of [owner.id, sa.id]) {
      const r = await http('POST', `${API}/me/tokens/${id}/rotate`, other.as, {});
      assert.equal(r.status, 404, JSON.stringify(r.body));
    }
    assert.equal((await experimentsSearch({ authorization: owner.bearer })).status, 200, "the owner's token still works");
    assert.equal((await experimentsSearch({ authorization: sa.bearer })).status, 200, "the service account's token still works");
    await expectEvents(since, []);
  });
});

describe('11. linking an IdP identity to a user: one user per identity, only a linking provider\'s, one event per change', () => {
  for (const door of doors()) {
    if (!door.identities) continue;
    test(door.name, async () => {
      const [user, other] = [`link-${door.name}`, `link2-${door.name}`];
      for (const u of [user, other]) assert.equal((await admin('POST', '/users', { username: u, password: PASSWORD })).status, 201);
      const identity = `corp:s-${door.name}`;
      const since = await mark();
      assert.equal((await door.identities!.link(user, identity)).kind, 'ok');
      const notLinking = await door.identities!.link(user, `elsewhere:s-${door.name}`);
      assert.equal(notLinking.kind, 'other');
      assert.match(notLinking.message, /does not link by subject/);
      assert.equal((await door.identities!.link(other, identity)).kind, 'other', 'an identity is one user\'s');
      assert.deepEqual((await admin('GET', `/users/${user}/identities`)).body.identities, [identity]);
      assert.equal((await door.identities!.unlink(user, identity)).kind, 'ok');
      assert.deepEqual((await admin('GET', `/users/${user}/identities`)).body.identities, []);
      await expectEvents(since, [
        { action: 'user.identity.link', door: door.name, target: `user:${user}`, actor: door.actor.admin },
        { action: 'user.identity.unlink', door: door.name, target: `user:${user}`, actor: door.actor.admin },
      ]);
    });
  }
});

test('audit verify (the CLI) passes on the store after every case', async () => {
  const r = await cli(['audit', 'verify', '--store']);
  assert.equal(r.kind, 'ok', r.message);
  assert.match(r.stdout, /chain intact/);
});
