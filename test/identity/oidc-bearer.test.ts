/**
 * OAuth2/OIDC bearer JWTs through the real gateway, against a real OpenID provider
 * (oidc-provider, test/harness/oidc-idp.ts) and a recording stub upstream: client-credentials
 * and authorization-code tokens, key rotation, and every way a token must be refused — each a
 * 401 in MLflow's error shape with an audit-ready reason id that never reaches the upstream.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { oidcBearerProvider, oidcBearerSchema } from '../../src/identity/oidc-bearer.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { runPython } from '../harness/python-client.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const PATH = '/api/2.0/mlflow/experiments/get?experiment_id=12';
const REFETCH_S = 30;
let idp: TestIdp;
let foreignIdp: TestIdp;
let stub: StubUpstream;
let gh: InProcess;
/** The gateway's clock: real time plus what the tests move it by (key refetch limits). */
let skewMs = 0;
const now = () => Date.now() + skewMs;
const nowS = () => Math.floor(now() / 1000);

before(async () => {
  [idp, foreignIdp, stub] = await Promise.all([startIdp(), startIdp(), startStub()]);
  gh = await startInProcess(
    stub.url,
    {
      'auth.providers': [
        { type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } },
        {
          type: 'oidc',
          id: 'corp',
          issuer: idp.issuer,
          audience: RESOURCE,
          claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' }, tenants: 'tenant' },
          admin: { groups: ['mlflow-admins'], roles: ['admin'] },
          jwksRefetchMinIntervalSeconds: REFETCH_S,
        },
      ],
    },
    { now },
  );
});
after(async () => {
  await gh?.close();
  await Promise.all([idp?.close(), foreignIdp?.close(), stub?.close()]);
});
beforeEach(() => {
  stub.requests.length = 0;
});

async function call(auth: string) {
  const res = await fetch(`${gh.url}${PATH}`, { headers: { authorization: auth } });
  const text = await res.text();
  const event = gh.events.at(-1)!;
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown>, event, wwwAuthenticate: res.headers.get('www-authenticate') };
}

/** Moves the gateway's clock past the JWKS refetch limit. */
function passRefetchInterval() {
  skewMs += (REFETCH_S + 1) * 1000;
}

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  iss: idp.issuer,
  aud: RESOURCE,
  sub: 'mallory',
  client_id: 'mallory',
  scope: 'mlflow:role:admin',
  iat: nowS(),
  exp: nowS() + 300,
  ...extra,
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function assertRefused(auth: string, reason: string, code = 'GATEHOUSE_AUTHN_INVALID') {
  const r = await call(auth);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error_code, 'UNAUTHENTICATED');
  assert.equal(r.json.gatehouse_code, code);
  assert.equal(r.event.ctx.errorDetail, reason);
  assert.equal(r.event.ctx.principal, undefined);
  assert.match(r.wwwAuthenticate ?? '', /Bearer realm="gatehouse"/);
  assert.deepEqual(stub.requests, [], 'a refused token never reaches MLflow');
  assert.ok(!r.text.includes(auth.slice(7)), 'the token is not echoed');
}

describe('accepted tokens', () => {
  test('client credentials: a service-account principal, admin through a scope role', async () => {
    const token = await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' });
    const r = await call(`Bearer ${token}`);
    assert.equal(r.status, 200, r.text);
    const p = r.event.ctx.principal!;
    assert.equal(p.id, 'corp:svc');
    assert.equal(p.kind, 'service_account');
    assert.equal(p.method, 'oidc');
    assert.equal(p.email, undefined);
    assert.deepEqual(p.roles, ['admin']);
    assert.deepEqual(p.tenants, ['team-svc']);
    assert.equal(p.admin, true);
    const forwarded = stub.requests.find((q) => q.url === PATH);
    assert.ok(forwarded, 'forwarded to MLflow');
    assert.equal(forwarded.headers.authorization, undefined, 'the bearer token is not forwarded');
  });

  test('client credentials without an admin role: authenticated, then denied 403 (not 401)', async () => {
    const token = await idp.clientCredentialsToken({ scope: 'mlflow:role:viewer' });
    const r = await call(`Bearer ${token}`);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error_code, 'PERMISSION_DENIED');
    assert.equal(r.event.ctx.principal?.id, 'corp:svc');
    assert.deepEqual(r.event.ctx.principal?.roles, ['viewer']);
    assert.equal(stub.requests.find((q) => q.url === PATH), undefined);
  });

  test('authorization code + PKCE: a user principal with email, groups and tenant; admin by group', async () => {
    const token = await idp.authCodeToken('alice');
    const r = await call(`Bearer ${token}`);
    assert.equal(r.status, 200, r.text);
    const p = r.event.ctx.principal!;
    assert.equal(p.id, 'corp:alice');
    assert.equal(p.kind, 'user');
    assert.equal(p.name, 'alice');
    assert.equal(p.email, 'alice@example.test');
    assert.deepEqual(p.groups, ['mlflow-admins', 'team-a']);
    assert.deepEqual(p.tenants, ['team-a']);
    assert.equal(p.admin, true);
  });

  test('a user outside the admin group authenticates and is denied 403', async () => {
    const r = await call(`Bearer ${await idp.authCodeToken('bob')}`);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.event.ctx.principal?.id, 'corp:bob');
    assert.equal(r.event.ctx.principal?.kind, 'user');
    assert.equal(r.event.ctx.principal?.admin, false);
    assert.equal(stub.requests.find((q) => q.url === PATH), undefined);
  });

  test('local Basic users still work next to the bearer provider', async () => {
    assert.equal((await call(ADMIN_AUTH)).status, 200);
  });
});

describe('key rotation', () => {
  test('a token signed with a newly published key is accepted after one JWKS refetch', async () => {
    const before = await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' });
    assert.equal((await call(`Bearer ${before}`)).status, 200);
    await idp.rotateKeys();
    const rotated = await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' });
    passRefetchInterval();
    const fetches = idp.fetches.jwks;
    const r = await call(`Bearer ${rotated}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(idp.fetches.jwks, fetches + 1, 'exactly one refetch');
    assert.equal((await call(`Bearer ${rotated}`)).status, 200);
    assert.equal(idp.fetches.jwks, fetches + 1, 'no refetch for a known key');
    // A verified token is remembered until it expires: the retired key costs it nothing.
    await idp.retireOldKeys();
    assert.equal((await call(`Bearer ${before}`)).status, 200);
  });
});

describe('refused tokens', () => {
  test('signed by another key under the IdP key id: bad-signature', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await assertRefused(`Bearer ${await idp.sign(claims(), { key: privateKey })}`, 'corp: bad-signature');
  });

  test('expired (beyond the clock skew): expired', async () => {
    await assertRefused(`Bearer ${await idp.sign(claims({ iat: nowS() - 3600, exp: nowS() - 120 }))}`, 'corp: expired');
  });

  test('not yet valid (nbf beyond the clock skew): not-yet-valid', async () => {
    await assertRefused(`Bearer ${await idp.sign(claims({ nbf: nowS() + 600 }))}`, 'corp: not-yet-valid');
  });

  test('without exp: missing-exp', async () => {
    const { exp: _exp, ...noExp } = claims();
    await assertRefused(`Bearer ${await idp.sign(noExp)}`, 'corp: missing-exp');
  });

  test('from an issuer that is not configured (a second real IdP): wrong-issuer', async () => {
    const token = await foreignIdp.clientCredentialsToken({ scope: 'mlflow:role:admin' });
    await assertRefused(`Bearer ${token}`, 'corp: wrong-issuer', 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED');
  });

  test('for another audience (a real token for urn:other): wrong-audience', async () => {
    await assertRefused(`Bearer ${await idp.clientCredentialsToken({ scope: 'mlflow:role:admin', resource: 'urn:other' })}`, 'corp: wrong-audience');
  });

  test('alg none: alg-none', async () => {
    await assertRefused(`Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, 'corp: alg-none');
  });

  test('HS256 signed with the RSA public key as the secret: alg-not-allowed', async () => {
    const pem = idp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const der = idp.publicKey.export({ type: 'spki', format: 'der' });
    for (const secret of [Buffer.from(pem), der]) {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: idp.kid }).sign(new Uint8Array(secret));
      await assertRefused(`Bearer ${token}`, 'corp: alg-not-allowed');
    }
  });

  test('unknown kid: unknown-kid, and a burst of invented kids makes one JWKS fetch, not one each', async () => {
    passRefetchInterval();
    const fetches = idp.fetches.jwks;
    for (let i = 0; i < 5; i++) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      await assertRefused(`Bearer ${await idp.sign(claims(), { kid: `invented-${i}`, key: privateKey })}`, 'corp: unknown-kid');
    }
    assert.equal(idp.fetches.jwks, fetches + 1, 'one refetch for the whole burst');
    passRefetchInterval();
    await assertRefused(`Bearer ${await idp.sign(claims(), { kid: 'invented-later' })}`, 'corp: unknown-kid');
    assert.equal(idp.fetches.jwks, fetches + 2, 'the next refetch only after the interval');
  });

  test('garbage: a JWT-shaped string that does not decode is malformed; an opaque token nobody introspects is not accepted, and says so', async () => {
    await assertRefused('Bearer aaaa.bbbb.cccc', 'corp: malformed');
    await assertRefused(`Bearer ${b64({ typ: 'JWT' })}.${b64(claims())}.sig`, 'corp: malformed');
    await assertRefused('Bearer not-a-jwt', 'opaque-bearer', 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED');
  });

  /** Refused with one of `reasons` (which one depends on the check that trips first), nothing forwarded. */
  async function assertRefusedAmong(auth: string, reasons: string[]) {
    const r = await call(auth);
    assert.equal(r.status, 401, r.text);
    assert.ok(reasons.includes(String(r.event.ctx.errorDetail)), `reason ${r.event.ctx.errorDetail}`);
    assert.equal(r.event.ctx.principal, undefined);
    assert.deepEqual(stub.requests, [], 'a refused token never reaches MLflow');
  }

  test('kid / jku / x5u / jwk header abuse: keys are only ever the configured JWKS', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const forge = (header: Record<string, unknown>) => new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', ...header } as { alg: string }).sign(privateKey);
    const fetches = idp.fetches.jwks;
    // The attacker's own key, announced every way a JOSE header can announce one, under the IdP's kid.
    await assertRefused(`Bearer ${await forge({ kid: idp.kid, jku: 'http://127.0.0.1:9/attacker-jwks.json' })}`, 'corp: bad-signature');
    await assertRefused(`Bearer ${await forge({ kid: idp.kid, x5u: 'http://127.0.0.1:9/attacker.pem' })}`, 'corp: bad-signature');
    await assertRefused(`Bearer ${await forge({ kid: idp.kid, jwk })}`, 'corp: bad-signature');
    await assertRefused(`Bearer ${await forge({ kid: idp.kid, x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] })}`, 'corp: bad-signature');
    // kid values that would be dangerous if a kid ever became a path, a query or a URL.
    for (const kid of ['../../../../dev/null', "x' OR '1'='1", 'http://127.0.0.1:9/key', '', 'a'.repeat(5000)]) {
      await assertRefusedAmong(`Bearer ${await forge({ kid })}`, ['corp: unknown-kid', 'corp: bad-signature', 'corp: malformed']);
    }
    // Never fetched from the header's URLs; at most the one rate-limited JWKS refetch.
    assert.ok(idp.fetches.jwks <= fetches + 1, `JWKS fetches ${idp.fetches.jwks - fetches}`);
  });

  test('claim type confusion: refused or harmless, never admin', async () => {
    const confused: JWTPayload[] = [
      claims({ aud: 12345 as unknown as string }),
      claims({ aud: [RESOURCE, 7] as unknown as string[] }),
      claims({ exp: String(nowS() + 300) as unknown as number }),
      claims({ nbf: 'yesterday' as unknown as number }),
      claims({ iss: [idp.issuer] as unknown as string }),
      claims({ sub: 42 as unknown as string }),
    ];
    for (const c of confused) {
      const r = await call(`Bearer ${await idp.sign(c)}`);
      assert.equal(r.status, 401, `${JSON.stringify(c)}: ${r.status} ${String(r.event.ctx.errorDetail)}`);
      assert.deepEqual(stub.requests, []);
    }
    // Group and role claims of the wrong shape must not read as the admin group/role.
    // (An array scope is a legitimate shape, Okta's `scp`: the IdP signed it, so it is read as a list.)
    for (const extra of [{ groups: { 0: 'mlflow-admins' } }, { groups: 'mlflow-admins,x' }, { groups: [['mlflow-admins']] }, { scope: { admin: true } }]) {
      const r = await call(`Bearer ${await idp.sign(claims({ ...extra, scope: (extra as { scope?: unknown }).scope ?? 'openid' } as JWTPayload))}`);
      assert.ok(r.status === 401 || r.status === 403, `${JSON.stringify(extra)}: ${r.status}`);
      assert.deepEqual(stub.requests, [], `${JSON.stringify(extra)} reached MLflow`);
      stub.requests.length = 0;
    }
  });

  test('oversized tokens: refused cheaply, never forwarded, the gateway stays up', async () => {
    const bigClaims = await idp.sign(claims({ pad: 'x'.repeat(6_000), scope: 'openid' }));
    const r1 = await call(`Bearer ${bigClaims}`);
    assert.ok(r1.status === 401 || r1.status === 403, `signed 8 KB: ${r1.status}`);
    await assertRefusedAmong(`Bearer ${'a'.repeat(12_000)}.${'b'.repeat(100)}.c`, ['corp: malformed']);
    const huge = await fetch(`${gh.url}${PATH}`, { headers: { authorization: `Bearer ${'a'.repeat(70_000)}.b.c` } });
    assert.equal(huge.status, 431, 'over the header limit: refused by the HTTP parser');
    assert.deepEqual(stub.requests, []);
    const after = await fetch(`${gh.url}/healthz`);
    assert.equal(after.status, 200);
  });

  test('readiness: ready once the keys are loaded, not before', async () => {
    const deps = { log: createLogger('silent'), realm: 'r', now };
    const config = (issuer: string) => oidcBearerSchema.parse({ type: 'oidc', id: 'probe', issuer, audience: RESOURCE, httpTimeoutMs: 2000 });
    const good = oidcBearerProvider(config(idp.issuer), deps);
    const down = oidcBearerProvider(config('http://127.0.0.1:9/none'), deps);
    try {
      assert.deepEqual(await good.ready!(), { ok: true });
      const r = await down.ready!();
      assert.equal(r.ok, false);
      assert.match(r.detail ?? '', /not loaded/);
    } finally {
      await Promise.all([good.close?.(), down.close?.()]);
    }
  });
});

/** The stock MLflow Python client with MLFLOW_TRACKING_TOKEN, through Gatehouse, against a real MLflow. */
const CLIENT_SCRIPT = `
import json, uuid, mlflow
from mlflow.exceptions import MlflowException
try:
    name = "oidc-" + uuid.uuid4().hex[:8]
    exp_id = mlflow.create_experiment(name)
    with mlflow.start_run(experiment_id=exp_id):
        mlflow.log_metric("m", 1.5)
    names = [e.name for e in mlflow.search_experiments()]
    print(json.dumps({"ok": True, "listed": name in names}))
except MlflowException as e:
    print(json.dumps({"ok": False, "error_code": e.error_code}))
`;

describe('the MLflow Python client with MLFLOW_TRACKING_TOKEN', () => {
  let mlflow: MlflowServer;
  let front: InProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-oidc-client-'));
    writeFileSync(join(dir, 'client.py'), CLIENT_SCRIPT);
    mlflow = await startMlflow();
    front = await startInProcess(mlflow.url, {
      'auth.providers': [
        {
          type: 'oidc',
          id: 'corp',
          issuer: idp.issuer,
          audience: RESOURCE,
          claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' } },
          admin: { roles: ['admin'] },
        },
      ],
    });
  });
  after(async () => {
    await front?.close();
    await mlflow?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (token: string) => {
    const r = await runPython(join(dir, 'client.py'), { MLFLOW_TRACKING_URI: front.url, MLFLOW_TRACKING_TOKEN: token, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  };

  test('a client-credentials JWT works end to end; a bad one is a readable UNAUTHENTICATED', async () => {
    assert.deepEqual(await run(await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' })), { ok: true, listed: true });
    assert.deepEqual(await run(await idp.sign(claims(), { kid: 'invented' })), { ok: false, error_code: 'UNAUTHENTICATED' });
    assert.deepEqual(await run(await idp.clientCredentialsToken({ scope: 'mlflow:role:viewer' })), { ok: false, error_code: 'PERMISSION_DENIED' });
  });
});
