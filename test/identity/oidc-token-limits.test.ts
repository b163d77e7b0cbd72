/**
 * Tokens refused, never crashed on (issue 18, finding 10), through the real gateway:
 *   - a JWKS with keys Node cannot or must not use (RSA under 2048 bits, an EC key whose point is
 *     not on its curve, an unknown `kty` or `crv`) next to a good one: the bad keys are skipped
 *     at load with a warning and a metric, a token naming one gets 401, the good key still works;
 *   - the real OpenID provider's key signing tokens that live too long (`exp - iat` over
 *     `maxTokenLifetimeSeconds`, `exp: 1e20`, no `iat` and an `exp` too far ahead) or claim to be
 *     issued in the future (`iat` beyond `clockSkewSeconds`): 401, never forwarded;
 *   - the `Authorization` header: a token as large as Entra ID issues (200 group ids, its
 *     overage limit) and larger ones up to `server.maxHeaderBytes` pass; beyond, Node answers 431.
 * The gateway's clock is injected (tokens are made relative to it), never today's date.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomUUID, sign as signWith, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import { startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const PATH = '/api/2.0/mlflow/experiments/get?experiment_id=1';
const CRAFTED = 'https://crafted.example';
const DAY = 86_400;

let idp: TestIdp;
let stub: StubUpstream;
let jwksServer: Server;
let gh: InProcess;
/** The gateway's clock: a fixed offset from real time, so nothing depends on today's date. */
const now = () => Date.now() + 3_600_000;
const nowS = () => Math.floor(now() / 1000);

const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** The JWKS the crafted issuer publishes: one usable key and four Node cannot or must not use. */
function craftedJwks() {
  const ecJwk = ec.publicKey.export({ format: 'jwk' });
  // A point off the curve: y of the real point plus one.
  const y = Buffer.from(ecJwk.y!, 'base64url');
  y[y.length - 1] = (y[y.length - 1]! + 1) & 0xff;
  return {
    keys: [
      { ...good.publicKey.export({ format: 'jwk' }), kid: 'good', alg: 'RS256', use: 'sig' },
      { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak-rsa', alg: 'RS256', use: 'sig' },
      { ...ecJwk, y: y.toString('base64url'), kid: 'bad-point', alg: 'ES256', use: 'sig' },
      { kty: 'XYZ', kid: 'odd-kty', alg: 'RS256', n: 'AQAB', e: 'AQAB' },
      { ...ecJwk, crv: 'P-999', kid: 'odd-crv', alg: 'ES256' },
    ],
  };
}

/** A compact JWS signed with Node directly (jose refuses to sign with keys it would refuse to verify with). */
function rawJws(header: Record<string, unknown>, payload: JWTPayload, key: KeyObject, dsaEncoding?: 'ieee-p1363'): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = signWith('sha256', Buffer.from(input), dsaEncoding ? { key, dsaEncoding } : key);
  return `${input}.${signature.toString('base64url')}`;
}

/** Claims of a viewer in the default tenant. */
const craftedClaims = (extra: JWTPayload = {}): JWTPayload => ({ iss: CRAFTED, aud: RESOURCE, sub: 'someone', roles: ['viewer'], tenant: 'default', iat: nowS(), exp: nowS() + 300, ...extra });
const corpClaims = (extra: JWTPayload = {}): JWTPayload => ({ iss: idp.issuer, aud: RESOURCE, sub: 'mallory', client_id: 'mallory', scope: 'mlflow:role:viewer', tenant: 'default', iat: nowS(), exp: nowS() + 300, ...extra });

before(async () => {
  [idp, stub] = await Promise.all([startIdp(), startStub()]);
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(craftedJwks())));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  gh = await startInProcess(
    stub.url,
    {
      'auth.providers': [
        { type: 'oidc', id: 'corp', issuer: idp.issuer, audience: RESOURCE, claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' }, tenants: 'tenant' } },
        { type: 'oidc', id: 'crafted', issuer: CRAFTED, discovery: false, jwksUri, audience: RESOURCE, algorithms: ['RS256', 'ES256'], claims: { roles: 'roles', tenants: 'tenant' } },
      ],
    },
    { now },
  );
});
after(async () => {
  await gh?.close();
  await new Promise<void>((r) => (jwksServer ? jwksServer.close(() => r()) : r()));
  await Promise.all([idp?.close(), stub?.close()]);
});
beforeEach(() => {
  stub.requests.length = 0;
});

async function call(token: string) {
  const res = await fetch(`${gh.url}${PATH}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, text, detail: gh.events.at(-1)?.ctx.errorDetail };
}

/** Refused with 401 by `provider` for `reason` (the audit event's detail), and not forwarded. */
async function assertRefused(token: string, reason: string, provider = 'corp'): Promise<void> {
  const r = await call(token);
  assert.equal(r.status, 401, r.text);
  assert.equal((JSON.parse(r.text) as { error_code: string }).error_code, 'UNAUTHENTICATED');
  assert.equal(r.detail, `${provider}: ${reason}`);
  assert.deepEqual(stub.requests, [], 'a refused token never reaches MLflow');
}

async function metric(name: string): Promise<string[]> {
  const text = await (await fetch(`${gh.internalUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

describe('a JWKS with keys that cannot be used', () => {
  test('the usable key still verifies tokens', async () => {
    const token = await new SignJWT(craftedClaims()).setProtectedHeader({ alg: 'RS256', kid: 'good' }).sign(good.privateKey);
    const r = await call(token);
    assert.equal(r.status, 200, r.text);
  });

  test('a token naming a key that was skipped is refused with 401, never a 500', async () => {
    await assertRefused(rawJws({ alg: 'RS256', kid: 'weak-rsa', typ: 'JWT' }, craftedClaims(), weak.privateKey), 'unknown-kid', 'crafted');
    await assertRefused(rawJws({ alg: 'ES256', kid: 'bad-point', typ: 'JWT' }, craftedClaims(), ec.privateKey, 'ieee-p1363'), 'unknown-kid', 'crafted');
    await assertRefused(rawJws({ alg: 'RS256', kid: 'odd-kty', typ: 'JWT' }, craftedClaims(), good.privateKey), 'unknown-kid', 'crafted');
    await assertRefused(rawJws({ alg: 'ES256', kid: 'odd-crv', typ: 'JWT' }, craftedClaims(), ec.privateKey, 'ieee-p1363'), 'unknown-kid', 'crafted');
  });

  test('each skipped key is counted by reason, and the usable one is not', async () => {
    const lines = await metric('gatehouse_jwks_keys_skipped_total{');
    const count = (reason: string) => lines.filter((l) => l.includes('provider="crafted"') && l.includes(`reason="${reason}"`)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    assert.ok(count('weak-key') >= 1, lines.join('\n'));
    assert.ok(count('unusable-key') >= 2, lines.join('\n')); // the bad point and the unknown crv
    assert.ok(count('unsupported-kty') >= 1, lines.join('\n'));
    assert.equal(lines.filter((l) => l.includes('provider="corp"')).length, 0, 'the real IdP publishes only usable keys');
  });
});

describe('token lifetime and issue time', () => {
  test('a token within the limits is accepted', async () => {
    assert.equal((await call(await idp.sign(corpClaims({ iat: nowS() - 60, exp: nowS() + DAY - 120 })))).status, 200);
    assert.equal((await call(await idp.sign(corpClaims({ iat: nowS() + 20 })))).status, 200, 'iat a little ahead, within clockSkewSeconds');
  });

  test('exp - iat over maxTokenLifetimeSeconds (default one day) is refused', async () => {
    await assertRefused(await idp.sign(corpClaims({ iat: nowS() - 60, exp: nowS() + DAY })), 'lifetime-too-long');
  });

  test('exp absurdly far ahead is refused, with or without iat', async () => {
    await assertRefused(await idp.sign(corpClaims({ exp: 1e20 })), 'lifetime-too-long');
    const { iat: _iat, ...noIat } = corpClaims({ exp: nowS() + 2 * DAY });
    await assertRefused(await idp.sign(noIat), 'lifetime-too-long');
  });

  test('an iat ten years ahead (or any beyond clockSkewSeconds) is refused', async () => {
    await assertRefused(await idp.sign(corpClaims({ iat: nowS() + 10 * 365 * DAY, exp: nowS() + 10 * 365 * DAY + 300 })), 'issued-in-future');
    await assertRefused(await idp.sign(corpClaims({ iat: nowS() + 120 })), 'issued-in-future');
  });

  test('a non-numeric iat is malformed', async () => {
    await assertRefused(await idp.sign(corpClaims({ iat: 'yesterday' as unknown as number })), 'malformed');
  });
});

describe('the size of the Authorization header', () => {
  /** A token shaped like an Entra ID access token carrying `groups` object ids. */
  const entraLike = (groups: number) =>
    idp.sign(corpClaims({ groups: Array.from({ length: groups }, () => randomUUID()), name: 'Alice Example', oid: randomUUID(), tid: randomUUID(), ver: '2.0', scp: 'user_impersonation' }));

  test("Entra ID's largest groups claim (200 ids, its JWT overage limit) and twice that pass", async () => {
    for (const groups of [200, 400]) {
      const token = await entraLike(groups);
      assert.ok(token.length > 16_384 || groups === 200, `${groups} groups: ${token.length} bytes`);
      const r = await call(token);
      assert.equal(r.status, 200, `${groups} groups (${token.length} bytes): ${r.text.slice(0, 200)}`);
    }
  });

  test("a header beyond server.maxHeaderBytes (default 32 KiB) gets 431 in MLflow's error shape, before anything else runs", async () => {
    const before = gh.events.length;
    const token = await entraLike(1000);
    assert.ok(token.length > 32_768, `${token.length} bytes`);
    const res = await fetch(`${gh.url}${PATH}`, { headers: { authorization: `Bearer ${token}` } }).catch((e: Error) => e);
    assert.ok(!(res instanceof Error), String(res));
    assert.equal(res.status, 431);
    assert.deepEqual(await res.json(), {
      error_code: 'RESOURCE_EXHAUSTED',
      message: 'The request headers are larger than the gateway accepts (server.maxHeaderBytes); a bearer token carrying many groups is the usual cause.',
      gatehouse_code: 'GATEHOUSE_REQUEST_HEADERS_TOO_LARGE',
    });
    assert.equal(gh.events.length, before, 'no request reached the pipeline');
    assert.deepEqual(stub.requests, []);
  });
});

describe('both limits are configurable', () => {
  let wide: InProcess;
  before(async () => {
    wide = await startInProcess(
      stub.url,
      {
        'server.maxHeaderBytes': 64 * 1024,
        'auth.providers': [{ type: 'oidc', id: 'corp', issuer: idp.issuer, audience: RESOURCE, maxTokenLifetimeSeconds: 3 * DAY, claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' }, tenants: 'tenant' } }],
      },
      { now },
    );
  });
  after(async () => {
    await wide?.close();
  });
  const status = async (token: string) => (await fetch(`${wide.url}${PATH}`, { headers: { authorization: `Bearer ${token}` } })).status;

  test('maxTokenLifetimeSeconds: three days accepts a two-day token, not a four-day one', async () => {
    assert.equal(await status(await idp.sign(corpClaims({ iat: nowS(), exp: nowS() + 2 * DAY }))), 200);
    assert.equal(await status(await idp.sign(corpClaims({ iat: nowS(), exp: nowS() + 4 * DAY }))), 401);
  });

  test('server.maxHeaderBytes: 64 KiB accepts a token of 1000 group ids', async () => {
    const token = await idp.sign(corpClaims({ groups: Array.from({ length: 1000 }, () => randomUUID()) }));
    assert.ok(token.length > 32_768 && token.length < 60_000, `${token.length} bytes`);
    assert.equal(await status(token), 200);
  });
});

test('the crafted EC key really is off its curve: Node refuses to import it', () => {
  const jwk = craftedJwks().keys.find((k) => k.kid === 'bad-point')!;
  assert.throws(() => createPublicKey({ key: jwk as never, format: 'jwk' }));
});
