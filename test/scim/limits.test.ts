/**
 * The SCIM door's rate limits and metrics: a SCIM client's changes draw on its own `writes`
 * budget (keyed by the token's name) and over it get 429 in SCIM's error shape with Retry-After;
 * guessed tokens lock the address out like failed passwords; every answer is counted in
 * `gatehouse_scim_requests_total` by route template, never by id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callJson, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { CONFIG_ACTOR } from '../../src/services/context.ts';

let stub: StubUpstream;
let gh: InProcess;
let bearer: string;
const scim = (method: string, path: string, auth: string, body?: unknown) => callJson(`${gh.url}/_gatehouse/scim/v2${path}`, method, { authorization: auth }, body);
const user = (userName: string) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName });

before(async () => {
  stub = await startStub(jsonOk);
  gh = await startInProcess(stub.url, {
    'auth.providers': [{ type: 'token' }, { type: 'local' }],
    scim: { enabled: true },
    rateLimits: { principal: { writes: { rate: 0.001, burst: 2 } }, failedAuth: { address: { rate: 0.001, burst: 3 } } },
  });
  bearer = `Bearer ${(await gh.services.scimTokens.create(CONFIG_ACTOR, 'entra')).token}`;
});
after(async () => {
  await gh.close();
  await stub.close();
});

test("a SCIM client's writes beyond its budget get 429 in SCIM's shape; its reads go on", async () => {
  assert.equal((await scim('POST', '/Users', bearer, user('w1'))).status, 201);
  assert.equal((await scim('POST', '/Users', bearer, user('w2'))).status, 201);
  const over = await scim('POST', '/Users', bearer, user('w3'));
  assert.equal(over.status, 429);
  assert.equal(over.body.status, '429');
  assert.deepEqual(over.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
  assert.match(over.headers.get('retry-after') ?? '', /^\d+$/);
  assert.equal((await scim('GET', '/Users', bearer)).status, 200);
  assert.equal((await scim('GET', '/Users?filter=userName%20eq%20%22w3%22', bearer)).body.totalResults, 0, 'the refused write did nothing');
});

test('guessed SCIM tokens lock the address out, the real token too, like failed passwords', async () => {
  const fake = 'Bearer gth_sct_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  for (let i = 0; i < 3; i++) assert.equal((await scim('GET', '/Users', fake)).status, 401);
  const locked = await scim('GET', '/Users', bearer);
  assert.equal(locked.status, 429);
  assert.match(locked.headers.get('retry-after') ?? '', /^\d+$/);
});

test('every answer is counted by method, route template and status class', async () => {
  const text = await gh.metrics.render();
  const count = (labels: string) => Number(new RegExp(`^gatehouse_scim_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  assert.equal(count('method="POST",resource="Users",status_class="2xx"'), 2);
  assert.equal(count('method="POST",resource="Users",status_class="4xx"'), 1);
  assert.equal(count('method="GET",resource="Users",status_class="4xx"'), 4);
  assert.ok(!/gatehouse_scim_requests_total\{[^}]*[0-9a-f]{8}-/.test(text), 'no ids in labels');
});
