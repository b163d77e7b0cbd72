/**
 * A bearer token that no enabled provider accepts gets a 401 in MLflow's shape that says why
 * (issue 20), on the MLflow routes and the admin API alike, through the one authenticate loop
 * (src/identity/authenticate.ts): a Gatehouse API token where no `token` provider is configured
 * (the operator's first-day trap), a JWT where no `oidc` provider is configured, a JWT of an
 * issuer no provider trusts (a second real IdP), an opaque token nobody introspects, and a token
 * its provider refuses (expired, revoked). The answer never echoes the token, the audit event
 * carries the reason id, and nothing reaches MLflow. Basic refusals stay generic: which users
 * exist is never told.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWTPayload } from 'jose';
import { mintToken } from '../../src/identity/token-format.ts';
import type { RequestAuditEvent } from '../../src/audit/event.ts';
import { ADMIN_AUTH, basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { waitFor } from '../harness/ports.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const MLFLOW_PATH = '/api/2.0/mlflow/experiments/get?experiment_id=12';
const ADMIN_PATH = '/_gatehouse/api/v1/me';
const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const PASSWORD = 'tess-password-0123';

let idp: TestIdp;
let foreignIdp: TestIdp;
let stub: StubUpstream;
let dir: string;
const nowS = () => Math.floor(Date.now() / 1000);

before(async () => {
  [idp, foreignIdp, stub] = await Promise.all([startIdp(), startIdp(), startStub()]);
  dir = mkdtempSync(join(tmpdir(), 'gh-bearer-'));
});
after(async () => {
  await Promise.all([idp?.close(), foreignIdp?.close(), stub?.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  stub.requests.length = 0;
});

interface Answer {
  status: number;
  text: string;
  json: { error_code?: string; message?: string; gatehouse_code?: string };
  challenge: string | null;
}

async function call(gh: InProcess, path: string, authorization: string): Promise<Answer & { requestId: string }> {
  const res = await fetch(`${gh.url}${path}`, { headers: { authorization } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Answer['json'], challenge: res.headers.get('www-authenticate'), requestId: res.headers.get('x-request-id') ?? '' };
}

async function auditEvent(sink: string, requestId: string): Promise<RequestAuditEvent> {
  const events = () => readFileSync(sink, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RequestAuditEvent);
  await waitFor(`audit event ${requestId}`, async () => events().some((e) => e.requestId === requestId), 5000);
  return events().find((e) => e.requestId === requestId)!;
}

/**
 * The MLflow route and the admin API answer the same 401 with the same message; the MLflow
 * route's audit event says `denied` with `reason`; the token is in neither answer.
 */
async function assertRefused(gh: InProcess, sink: string, authorization: string, expected: { code: string; reason: string; message: RegExp; challenge?: RegExp }) {
  const token = authorization.replace(/^\S+ /, '');
  const mlflow = await call(gh, MLFLOW_PATH, authorization);
  const admin = await call(gh, ADMIN_PATH, authorization);
  for (const [door, r] of [['MLflow route', mlflow], ['admin API', admin]] as const) {
    assert.equal(r.status, 401, `${door}: ${r.text}`);
    assert.equal(r.json.error_code, 'UNAUTHENTICATED', door);
    assert.equal(r.json.gatehouse_code, expected.code, door);
    assert.match(r.json.message ?? '', expected.message, door);
    assert.ok(!r.text.includes(token), `${door}: the token is not echoed`);
    // RFC 9110 §11.6.1: the challenge names the schemes this gateway accepts (only Basic, without a bearer provider).
    assert.match(r.challenge ?? '', expected.challenge ?? /Bearer realm=/, `${door}: the challenge`);
  }
  const event = await auditEvent(sink, mlflow.requestId);
  assert.equal(event.outcome, 'denied');
  assert.deepEqual(event.decision, { effect: 'deny', reasons: [expected.reason] });
  assert.equal(event.error, expected.code);
  assert.deepEqual(stub.requests, [], 'nothing reaches MLflow');
}

const claims = (issuer: string, extra: JWTPayload = {}): JWTPayload => ({ iss: issuer, aud: RESOURCE, sub: 'svc', client_id: 'svc', iat: nowS(), exp: nowS() + 300, ...extra });

describe('auth.providers: [local] only (the starter configuration without the token provider)', () => {
  let gh: InProcess;
  const sink = () => join(dir, 'local.jsonl');
  before(async () => {
    gh = await startInProcess(stub.url, { 'auth.providers': [{ type: 'local', scrypt: FAST }], 'audit.sinks': [{ type: 'file', path: sink(), fsync: false }] });
    await createUsers(gh, ['tess'], PASSWORD);
  });
  after(() => gh?.close());

  test('a gth_ token: "no enabled provider accepts gth_ tokens", naming the missing token provider', async () => {
    await assertRefused(gh, sink(), `Bearer ${mintToken('service').token}`, {
      code: 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED',
      reason: 'no-token-provider',
      challenge: /^Basic realm=/,
      message: /^Bearer token not accepted: no enabled provider accepts Gatehouse API tokens \(gth_\.\.\.\); auth\.providers has no "token" provider\./,
    });
  });

  test('a JWT: "no enabled provider accepts JWTs"', async () => {
    await assertRefused(gh, sink(), `Bearer ${await idp.sign(claims(idp.issuer))}`, {
      code: 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED',
      reason: 'no-jwt-provider',
      challenge: /^Basic realm=/,
      message: /^Bearer token not accepted: no enabled provider accepts JWTs; auth\.providers has no "oidc" provider\./,
    });
  });

  test('Basic refusals stay generic: an unknown user and a wrong password read the same', async () => {
    const unknown = await call(gh, MLFLOW_PATH, basic('nobody', PASSWORD));
    const wrong = await call(gh, MLFLOW_PATH, basic('tess', 'wrong-password-0123'));
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.json.message, wrong.json.message);
    assert.equal(unknown.json.gatehouse_code, 'GATEHOUSE_AUTHN_INVALID');
  });
});

describe('auth.providers: [token, local, oidc of one issuer]', () => {
  let gh: InProcess;
  const sink = () => join(dir, 'mixed.jsonl');
  before(async () => {
    gh = await startInProcess(stub.url, {
      'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: FAST }, { type: 'oidc', id: 'corp', issuer: idp.issuer, audience: RESOURCE }],
      'audit.sinks': [{ type: 'file', path: sink(), fsync: false }],
    });
  });
  after(() => gh?.close());

  test('a JWT of an issuer no provider trusts (a second real IdP): "no enabled provider trusts its issuer"', async () => {
    await assertRefused(gh, sink(), `Bearer ${await foreignIdp.clientCredentialsToken()}`, {
      code: 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED',
      reason: 'untrusted-issuer',
      message: /^Bearer token not accepted: no enabled provider trusts its issuer\./,
    });
  });

  test('an opaque token (neither gth_ nor a JWT) that no provider introspects', async () => {
    await assertRefused(gh, sink(), 'Bearer opaque-0123456789abcdef', {
      code: 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED',
      reason: 'opaque-bearer',
      message: /^Bearer token not accepted: it is neither a Gatehouse API token nor a JWT, and no enabled provider introspects opaque tokens\./,
    });
  });

  test('an expired JWT of the trusted issuer: the provider\'s reason, not a generic "not valid"', async () => {
    await assertRefused(gh, sink(), `Bearer ${await idp.sign(claims(idp.issuer, { iat: nowS() - 3600, exp: nowS() - 120 }))}`, {
      code: 'GATEHOUSE_AUTHN_INVALID',
      reason: 'invalid-credentials',
      message: /^Bearer token not accepted \(corp: expired\)\./,
    });
  });

  test('a revoked API token: "token: revoked"', async () => {
    const created = await fetch(`${gh.url}/_gatehouse/api/v1/service-accounts`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'robot' }) });
    assert.equal(created.status, 201, await created.text());
    const minted = await fetch(`${gh.url}/_gatehouse/api/v1/tokens`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ serviceAccount: 'robot' }) });
    const { token, id } = (await minted.json()) as { token: string; id: string };
    assert.equal(minted.status, 201);
    const revoked = await fetch(`${gh.url}/_gatehouse/api/v1/tokens/${id}`, { method: 'DELETE', headers: { authorization: ADMIN_AUTH } });
    assert.ok(revoked.status < 300, `revoke: ${revoked.status}`);
    await assertRefused(gh, sink(), `Bearer ${token}`, { code: 'GATEHOUSE_AUTHN_INVALID', reason: 'invalid-credentials', message: /^Bearer token not accepted \(token: revoked\)\./ });
  });
});
