/**
 * How fast a changed local user is refused on every replica (issue 18, finding 7): two replicas
 * sharing a real PostgreSQL and a real Redis, and two more sharing the same PostgreSQL without
 * Redis. A user's password is checked (and remembered) on the reader replica; then the user is
 * disabled, deleted or re-passworded through each door — the admin API and the MLflow auth API
 * on the other replica, the CLI against the store — and the reader must refuse the old
 * credentials within the bound docs/admin.md and docs/deployment.md state: at once with Redis
 * (the change bus), within the users-version poll (1 s) without. The deadline the test allows,
 * 5 s, is a safety margin, not the bound: the old behaviour was the 60 s password cache. Each
 * measured delay is reported as a test diagnostic.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../src/store/store.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { ADMIN_AUTH, basic, type Spawned } from '../harness/gatehouse.ts';
import { startCluster, type Cluster } from './replicas.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
/** Every door through which a local user's password, flags or existence change. */
const DOORS = ['api-disable', 'api-delete', 'api-password', 'compat-password', 'compat-delete', 'cli-password'] as const;
type Door = (typeof DOORS)[number];
const YAML = `
log: { level: info, requests: false }
auth:
  providers: [ { type: local, scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } } ]
tenants:
  - { name: default, defaultRole: viewer, members: { users: [${['r', 'n'].flatMap((m) => DOORS.map((d) => `${m}-${d}`)).join(', ')}] } }
`;
const GET = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const PASSWORD = 'old-password-0123';
const NEW_PASSWORD = 'new-password-4567';
const DEADLINE_MS = 5000;


let cluster: Cluster;
let store: Store;
const replicas: Record<'a' | 'b' | 'c' | 'd', Spawned> = {} as never;

before(async () => {
  cluster = await startCluster(YAML);
  [replicas.a, replicas.b, replicas.c, replicas.d] = await Promise.all([
    cluster.replica('replica-a'),
    cluster.replica('replica-b'),
    cluster.replica('replica-c', {}, { redis: false }),
    cluster.replica('replica-d', {}, { redis: false }),
  ]);
  store = await openStore({ driver: 'postgres', url: cluster.storeUrl, migrate: 'never', dataDir: '/nonexistent' } as Parameters<typeof openStore>[0]);
  const passwordHash = await hashPassword(PASSWORD, FAST);
  for (const mode of ['r', 'n']) for (const door of DOORS) await store.createUser({ username: `${mode}-${door}`, passwordHash, admin: false });
});
after(async () => {
  await store?.close();
  await Promise.all(Object.values(replicas).map((r) => r?.stop()));
  await cluster?.close();
});

const status = async (r: Spawned, auth: string) => {
  const res = await fetch(`${r.url}${GET}`, { headers: { authorization: auth } });
  await res.arrayBuffer();
  return res.status;
};

async function send(r: Spawned, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${r.url}${path}`, {
    method,
    headers: { authorization: ADMIN_AUTH, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
}

/** Makes the change through `door`, on `writer` (or the CLI, which talks to the store and Redis only). */
async function change(door: Door, writer: Spawned, user: string): Promise<void> {
  const api = '/_gatehouse/api/v1';
  switch (door) {
    case 'api-disable':
      return send(writer, 'PATCH', `${api}/users/${user}`, { disabled: true });
    case 'api-delete':
      return send(writer, 'DELETE', `${api}/users/${user}`);
    case 'api-password':
      return send(writer, 'POST', `${api}/users/${user}/password`, { password: NEW_PASSWORD });
    case 'compat-password':
      return send(writer, 'PATCH', '/api/2.0/mlflow/users/update-password', { username: user, password: NEW_PASSWORD });
    case 'compat-delete':
      return send(writer, 'DELETE', '/api/2.0/mlflow/users/delete', { username: user });
    case 'cli-password': {
      const r = await cluster.cli(['users', 'set-password', user, '--password-stdin'], `${NEW_PASSWORD}\n`);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
  }
}

/** Milliseconds from `changed` until `reader` refuses the old credentials (polled every 20 ms). */
async function refusedAfter(reader: Spawned, auth: string, changed: number): Promise<number> {
  for (;;) {
    if ((await status(reader, auth)) === 401) return Date.now() - changed;
    if (Date.now() - changed > DEADLINE_MS) assert.fail(`still accepted ${DEADLINE_MS} ms after the change`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const mode of [
  { name: 'with Redis: at once, through the change bus', prefix: 'r', writer: 'a', reader: 'b' },
  { name: 'without Redis: within the users-version poll', prefix: 'n', writer: 'c', reader: 'd' },
] as const) {
  describe(mode.name, () => {
    for (const door of DOORS) {
      test(`${door}: the other replica refuses the old credentials`, async (t: TestContext) => {
        const user = `${mode.prefix}-${door}`;
        const reader = replicas[mode.reader];
        const old = basic(user, PASSWORD);
        // The reader has checked the password and remembers it (the second request is a cache hit).
        assert.equal(await status(reader, old), 200);
        assert.equal(await status(reader, old), 200);
        const called = Date.now();
        await change(door, replicas[mode.writer], user);
        // The change is committed between the call and the answer (the CLI spends ~1 s starting).
        const answered = Date.now();
        const ms = await refusedAfter(reader, old, answered);
        t.diagnostic(`${mode.prefix === 'r' ? 'redis' : 'no-redis'} ${door}: refused on the other replica ${ms} ms after the door answered (${ms + answered - called} ms after it was called)`);
        if (door.endsWith('password')) assert.equal(await status(reader, basic(user, NEW_PASSWORD)), 200, 'the new password works there');
      });
    }
  });
}
