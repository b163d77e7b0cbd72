/**
 * Token rotation is one operation: concurrent rotations of one token leave exactly one successor
 * and one `token.rotate` event; the others are refused (409) with nothing minted. The admin API
 * against the in-process gateway and its store (the front-door suite runs the doors themselves),
 * and the service itself with a revocation slipped in between its check and its transaction:
 * the successor's insert rolls back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdminAuditEvent } from '../../src/audit/admin-event.ts';
import { tokensService } from '../../src/services/tokens.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { revokeToken } from '../../src/store/tokens.ts';
import { ADMIN_AUTH, callJson, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

let stub: StubUpstream;
let gh: InProcess;
const API = '/_gatehouse/api/v1';
const admin = (method: string, path: string, body?: unknown) => callJson(`${gh.url}${API}${path}`, method, { authorization: ADMIN_AUTH }, body);

before(async () => {
  stub = await startStub();
  gh = await startInProcess(stub.url, { 'audit.sinks': [{ type: 'store' }], 'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } }] });
});
after(async () => {
  await gh.close();
  await stub.close();
});

test('concurrent rotations of one token: one successor, one event, the rest refused', async () => {
  assert.equal((await admin('POST', '/service-accounts', { name: 'racer' })).status, 201);
  const old = await admin('POST', '/tokens', { serviceAccount: 'racer' });
  assert.equal(old.status, 201);
  const answers = await Promise.all(Array.from({ length: 6 }, () => admin('POST', `/tokens/${old.body.id}/rotate`, { overlapSeconds: 30 })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409], JSON.stringify(answers.map((a) => a.body)));
  for (const a of answers.filter((x) => x.status === 409)) assert.equal(a.body.gatehouse_code, 'GATEHOUSE_ADMIN_CONFLICT');
  const winner = answers.find((a) => a.status === 201)!.body;
  const tokens = (await admin('GET', '/tokens?owner=racer')).body.tokens as { id: string }[];
  assert.deepEqual(tokens.map((t) => t.id).sort(), [old.body.id, winner.id].sort(), 'the old token and exactly one successor');
  const events: { type?: string; action?: string }[] = [];
  for await (const e of auditRepository(gh.store.db).scan({})) events.push(e as unknown as { type?: string; action?: string });
  assert.equal(events.filter((e) => e.type === 'admin' && e.action === 'token.rotate').length, 1);
});

test('a revocation between the check and the transaction: the successor rolls back, no event', async () => {
  assert.equal((await admin('POST', '/service-accounts', { name: 'slipped' })).status, 201);
  const old = await admin('POST', '/tokens', { serviceAccount: 'slipped' });
  assert.equal(old.status, 201);
  const recorded: AdminAuditEvent[] = [];
  // The gateway's store, except that another door revokes the token just before the rotation's transaction.
  const store = { ...gh.store, transaction: async <T>(fn: Parameters<typeof gh.store.transaction<T>>[0]) => {
    await revokeToken(gh.store.db, old.body.id, new Date());
    return gh.store.transaction(fn);
  } };
  const tokens = tokensService({
    store, record: async (e) => void recorded.push(e), declared: gh.policy.declared, configFile: undefined,
    policyChanged: async () => {}, principalChanged: async () => {}, providers: { local: ['local'], token: ['token'], scrypt: undefined }, workspaces: undefined, now: Date.now,
  });
  await assert.rejects(tokens.rotate({ id: 'test', door: 'cli' }, old.body.id), (e: { code?: string }) => e.code === 'GATEHOUSE_ADMIN_CONFLICT');
  const listed = (await admin('GET', '/tokens?owner=slipped')).body.tokens as { id: string; status: string }[];
  assert.deepEqual(listed.map((t) => [t.id, t.status]), [[old.body.id, 'revoked']], 'no successor');
  assert.deepEqual(recorded, []);
});
