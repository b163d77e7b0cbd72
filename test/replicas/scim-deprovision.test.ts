/**
 * SCIM deprovisioning across replicas (issue 22, "Done when"): two replicas (`bin/gatehouse
 * serve`) sharing a real PostgreSQL and a real Redis. A SCIM user signs in on replica B (browser
 * session) and holds a personal token; the identity provider sends `active: false` to replica A;
 * B must refuse both within a second. The test polls B at most 20 times, 50 ms apart (the second),
 * and reports how many polls it took. Replica C shares the PostgreSQL but not Redis: tokens and
 * sessions are read from the store on every request, so the same bound holds there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, callJson, formSignIn, type Spawned } from '../harness/gatehouse.ts';
import { startCluster, type Cluster } from './replicas.ts';

const YAML = `
log: { level: info, requests: false }
audit: { sinks: [ { type: store } ] }
scim: { enabled: true }
auth:
  providers: [ { type: local, scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } }, { type: token } ]
tenants:
  - { name: default, defaultRole: viewer, members: { users: [sam] } }
`;
const GET = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const POLLS = 20;
const POLL_GAP_MS = 50;

let cluster: Cluster;
let a: Spawned;
let b: Spawned;
let c: Spawned;

before(async () => {
  cluster = await startCluster(YAML);
  [a, b, c] = await Promise.all([cluster.replica('replica-a'), cluster.replica('replica-b'), cluster.replica('replica-c', {}, { redis: false })]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  await cluster?.close();
});

/** How many polls of `check` it took to hold (1 = at once), or undefined when it never did within POLLS. */
async function pollsUntil(check: () => Promise<boolean>): Promise<number | undefined> {
  for (let i = 1; i <= POLLS; i++) {
    if (await check()) return i;
    await new Promise((r) => setTimeout(r, POLL_GAP_MS));
  }
  return undefined;
}

test('a SCIM active:false on replica A stops the user\'s token and browser session on replica B within a second', async (t) => {
  const minted = await cluster.cli(['scim-tokens', 'create', 'entra', '--json']);
  assert.equal(minted.code, 0, minted.stderr);
  const scim = { authorization: `Bearer ${(JSON.parse(minted.stdout) as { token: string }).token}` };
  const created = await callJson(`${a.url}/_gatehouse/scim/v2/Users`, 'POST', scim, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sam', active: true });
  assert.equal(created.status, 201, created.text);
  assert.equal((await callJson(`${a.url}/_gatehouse/api/v1/users/sam/password`, 'POST', { authorization: ADMIN_AUTH }, { password: 'sam-password-0123' })).status, 200);
  const token = await cluster.cli(['tokens', 'create', '--user', 'sam', '--json']);
  assert.equal(token.code, 0, token.stderr);
  const bearer = { authorization: `Bearer ${(JSON.parse(token.stdout) as { token: string }).token}` };
  const signedIn = await formSignIn(b.url, 'sam', 'sam-password-0123');
  assert.equal(signedIn.status, 303);
  const cookie = { cookie: `gatehouse_session=${signedIn.session}` };
  const status = async (headers: Record<string, string>, on: Spawned = b) => (await fetch(`${on.url}${GET}`, { headers, redirect: 'manual' })).status;
  assert.equal(await status(bearer), 200, 'token works on B');
  assert.equal(await status(cookie), 200, 'session works on B');
  assert.equal(await status(bearer, c), 200, 'token works on C (no Redis)');
  assert.equal(await status(cookie, c), 200, 'session works on C (no Redis)');

  const off = await callJson(`${a.url}/_gatehouse/scim/v2/Users/${created.body.id}`, 'PATCH', scim, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
  });
  assert.equal(off.status, 200, off.text);
  const tokenPolls = await pollsUntil(async () => (await status(bearer)) === 401);
  const sessionPolls = await pollsUntil(async () => (await status(cookie)) === 401);
  t.diagnostic(`replica B refused the token after ${tokenPolls} poll(s), the session after ${sessionPolls} (at most ${POLLS}, ${POLL_GAP_MS} ms apart)`);
  assert.ok(tokenPolls !== undefined, 'the token is refused on B within a second');
  assert.ok(sessionPolls !== undefined, 'the session is refused on B within a second');
  const noRedis = [await pollsUntil(async () => (await status(bearer, c)) === 401), await pollsUntil(async () => (await status(cookie, c)) === 401)];
  t.diagnostic(`replica C (no Redis) refused the token after ${noRedis[0]} poll(s), the session after ${noRedis[1]}`);
  assert.ok(noRedis.every((n) => n !== undefined), 'refused on C within a second too');
  // And on A, where the change was made.
  assert.equal((await fetch(`${a.url}${GET}`, { headers: bearer })).status, 401);
});
