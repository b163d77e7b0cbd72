/**
 * RFC 7662 introspection of opaque bearer tokens, against a real OpenID provider
 * (oidc-provider issuing opaque access tokens for `urn:mlflow:opaque`, with its introspection
 * and revocation endpoints) through the real gateway and a recording stub upstream: active
 * tokens become principals with the issuer's claim mapping, a hot token costs one introspection
 * call, a revoked one is refused once the cache TTL has passed, an expired one is refused, an
 * introspection outage is a 503 that forwards nothing, and the token never reaches a log.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { oidcBearerProvider, oidcBearerSchema } from '../../src/identity/oidc-bearer.ts';
import { mintToken } from '../../src/identity/token-format.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const PATH = '/api/2.0/mlflow/experiments/get?experiment_id=12';
const OPAQUE = 'urn:mlflow:opaque';
const OTHER = 'urn:other';
const CACHE_TTL_S = 30;
const NEGATIVE_TTL_S = 5;
const RS = { id: 'gatehouse-rs', secret: 'rs-secret-0123456789-abcdef' };
const RS_POST = { id: 'gatehouse-rs-post', secret: 'rs-post-secret-0123456789-abcdef' };

let idp: TestIdp;
let stub: StubUpstream;
let gh: InProcess;
const logLines: string[] = [];
/** Every bearer token the tests used: none may appear in a log line. */
const used: string[] = [];
/** The gateway's clock: real time plus what the tests move it by (cache TTLs, expiry). */
let skewMs = 0;
const now = () => Date.now() + skewMs;

const corp = (introspection: Record<string, unknown> = {}) => ({
  type: 'oidc',
  id: 'corp',
  issuer: idp.issuer,
  audience: [RESOURCE, OPAQUE],
  claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' }, tenants: 'tenant' },
  admin: { roles: ['admin'] },
  introspection: { clientId: RS.id, clientSecret: RS.secret, cacheTtlSeconds: CACHE_TTL_S, negativeCacheTtlSeconds: NEGATIVE_TTL_S, ...introspection },
});

before(async () => {
  [idp, stub] = await Promise.all([
    startIdp({
      opaqueResources: [OPAQUE, OTHER],
      clients: [
        { client_id: RS.id, client_secret: RS.secret, grant_types: [], redirect_uris: [], response_types: [] },
        { client_id: RS_POST.id, client_secret: RS_POST.secret, token_endpoint_auth_method: 'client_secret_post', grant_types: [], redirect_uris: [], response_types: [] },
      ],
    }),
    startStub(),
  ]);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  gh = await startInProcess(
    stub.url,
    { 'auth.providers': [{ type: 'local', scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } }, corp()] },
    { now, log: createLogger('trace', sink) },
  );
});
after(async () => {
  await gh?.close();
  await Promise.all([idp?.close(), stub?.close()]);
});
beforeEach(() => {
  stub.requests.length = 0;
  skewMs = 0;
  idp.introspectionDown = false;
});

async function opaqueToken(scope = 'mlflow:role:admin', resource = OPAQUE): Promise<string> {
  const token = await idp.clientCredentialsToken({ scope, resource });
  assert.ok(!/^[^.]+\.[^.]+\.[^.]*$/.test(token), `an opaque token, not a JWT: ${token.slice(0, 12)}…`);
  used.push(token);
  return token;
}

async function call(token: string) {
  const res = await fetch(`${gh.url}${PATH}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown>, event: gh.events.at(-1)! };
}

async function assertRefused(token: string, reason: string, status = 401, code = 'GATEHOUSE_AUTHN_INVALID') {
  const r = await call(token);
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.gatehouse_code, code);
  assert.equal(r.event.ctx.errorDetail, reason);
  assert.equal(r.event.ctx.principal, undefined);
  assert.deepEqual(stub.requests, [], 'a refused token never reaches MLflow');
  assert.ok(!r.text.includes(token), 'the token is not echoed');
}

const forwarded = () => stub.requests.filter((q) => q.url === PATH);

describe('active opaque tokens', () => {
  test('accepted with the issuer’s claim mapping and forwarded without the token; a hot token costs one introspection', async () => {
    const token = await opaqueToken();
    const calls = idp.fetches.introspections;
    const r = await call(token);
    assert.equal(r.status, 200, r.text);
    const p = r.event.ctx.principal!;
    assert.equal(p.id, 'corp:svc', 'a client-credentials token without `sub`: the client is the subject');
    assert.equal(p.kind, 'service_account');
    assert.equal(p.method, 'oidc');
    assert.equal(p.provider, 'corp');
    assert.deepEqual(p.roles, ['admin']);
    assert.deepEqual(p.tenants, ['team-svc']);
    assert.equal(p.admin, true);
    assert.equal(forwarded().length, 1);
    assert.equal(forwarded()[0]!.headers.authorization, undefined, 'the bearer token is not forwarded');
    for (let i = 0; i < 3; i++) assert.equal((await call(token)).status, 200);
    assert.equal(idp.fetches.introspections, calls + 1, 'one introspection for four requests');
  });

  test('concurrent first requests with one token share one introspection call', async () => {
    const token = await opaqueToken();
    const calls = idp.fetches.introspections;
    const results = await Promise.all(Array.from({ length: 5 }, () => call(token)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(idp.fetches.introspections, calls + 1);
  });

  test('a viewer token authenticates and is denied 403 by policy, not forwarded', async () => {
    const r = await call(await opaqueToken('mlflow:role:viewer'));
    assert.equal(r.status, 403, r.text);
    assert.deepEqual(r.event.ctx.principal?.roles, ['viewer']);
    assert.deepEqual(forwarded(), []);
  });

  test('JWT access tokens are still verified locally, never introspected', async () => {
    const jwt = await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' });
    used.push(jwt);
    const calls = idp.fetches.introspections;
    assert.equal((await call(jwt)).status, 200);
    assert.equal(idp.fetches.introspections, calls);
  });
});

describe('refused opaque tokens', () => {
  test('revoked: still accepted from the cache until its TTL, then refused as inactive (and that answer cached briefly)', async () => {
    const token = await opaqueToken();
    assert.equal((await call(token)).status, 200);
    await idp.revoke(token);
    const calls = idp.fetches.introspections;
    assert.equal((await call(token)).status, 200, 'within the cache TTL the cached answer stands');
    assert.equal(idp.fetches.introspections, calls);
    stub.requests.length = 0;
    skewMs += (CACHE_TTL_S + 1) * 1000;
    await assertRefused(token, 'corp: inactive-token');
    assert.equal(idp.fetches.introspections, calls + 1);
    await assertRefused(token, 'corp: inactive-token');
    assert.equal(idp.fetches.introspections, calls + 1, 'the inactive answer is cached');
    skewMs += (NEGATIVE_TTL_S + 1) * 1000;
    await assertRefused(token, 'corp: inactive-token');
    assert.equal(idp.fetches.introspections, calls + 2, 'but only for the short negative TTL');
  });

  test('expired: refused once the gateway’s clock passes `exp` (plus skew), even though cached as active', async () => {
    const token = await opaqueToken();
    assert.equal((await call(token)).status, 200);
    stub.requests.length = 0;
    skewMs += (600 + 30 + 5) * 1000;
    await assertRefused(token, 'corp: expired');
  });

  test('an unknown opaque token is inactive; a token for another audience is wrong-audience', async () => {
    used.push('not-a-token-the-idp-issued');
    await assertRefused('not-a-token-the-idp-issued', 'corp: inactive-token');
    await assertRefused(await opaqueToken('mlflow:role:admin', OTHER), 'corp: wrong-audience');
  });

  test('a Gatehouse API token is not the provider’s: never introspected', async () => {
    const { token } = mintToken('personal');
    used.push(token);
    const calls = idp.fetches.introspections;
    await assertRefused(token, 'no-token-provider', 401, 'GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED');
    assert.equal(idp.fetches.introspections, calls);
  });

  test('introspection endpoint down: 503 GATEHOUSE_AUTHN_UNAVAILABLE, nothing forwarded, not cached', async () => {
    const token = await opaqueToken();
    idp.introspectionDown = true;
    await assertRefused(token, 'corp: introspection-unavailable', 503, 'GATEHOUSE_AUTHN_UNAVAILABLE');
    await assertRefused(token, 'corp: introspection-unavailable', 503, 'GATEHOUSE_AUTHN_UNAVAILABLE');
    idp.introspectionDown = false;
    assert.equal((await call(token)).status, 200, 'the outage was not remembered as an answer');
    assert.ok(logLines.some((l) => l.includes('token introspection failed')), 'the outage is logged');
  });
});

describe('the provider on its own', () => {
  const deps = () => ({ log: createLogger('silent'), realm: 'r', now });
  const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, socket: {} }) as unknown as IncomingMessage;

  test('client_secret_post with a secret file and an explicit endpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-introspect-'));
    try {
      writeFileSync(join(dir, 'secret'), `${RS_POST.secret}\n`);
      const config = oidcBearerSchema.parse({
        ...corp(),
        introspection: { endpoint: `${idp.issuer}/token/introspection`, clientAuthMethod: 'client_secret_post', clientId: RS_POST.id, clientSecretFile: join(dir, 'secret') },
      });
      const provider = oidcBearerProvider(config, deps());
      try {
        const r = await provider.authenticate(req(await opaqueToken()));
        assert.equal(r.kind, 'principal');
        assert.equal(r.kind === 'principal' && r.principal.id, 'corp:svc');
      } finally {
        await provider.close?.();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('client credentials the endpoint refuses: unavailable, never a principal', async () => {
    const provider = oidcBearerProvider(oidcBearerSchema.parse(corp({ clientSecret: 'wrong-secret' })), deps());
    try {
      assert.deepEqual(await provider.authenticate(req(await opaqueToken())), { kind: 'unavailable', reason: 'introspection-unavailable' });
    } finally {
      await provider.close?.();
    }
  });

  test('an active answer is cached for at most cacheTtlSeconds and never beyond the token’s exp', async () => {
    let clock = Date.now();
    const provider = oidcBearerProvider(oidcBearerSchema.parse(corp({ cacheTtlSeconds: 86_400 })), { ...deps(), now: () => clock });
    try {
      const token = await opaqueToken();
      const calls = idp.fetches.introspections;
      assert.equal((await provider.authenticate(req(token))).kind, 'principal');
      clock += 500_000;
      assert.equal((await provider.authenticate(req(token))).kind, 'principal');
      assert.equal(idp.fetches.introspections, calls + 1, 'cached before exp');
      clock += 110_000; // past exp (600 s), within the 30 s clock skew
      assert.equal((await provider.authenticate(req(token))).kind, 'principal');
      assert.equal(idp.fetches.introspections, calls + 2, 'asked again after exp although the TTL is a day');
    } finally {
      await provider.close?.();
    }
  });

  test('tokens: all sends verified JWTs too; an endpoint that cannot introspect them is unavailable, not an allow', async () => {
    const provider = oidcBearerProvider(oidcBearerSchema.parse(corp({ tokens: 'all' })), deps());
    try {
      const jwt = await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' });
      used.push(jwt);
      const calls = idp.fetches.introspections;
      // oidc-provider refuses to introspect JWTs (400 unsupported_token_type).
      assert.deepEqual(await provider.authenticate(req(jwt)), { kind: 'unavailable', reason: 'introspection-unavailable' });
      assert.equal(idp.fetches.introspections, calls + 1);
    } finally {
      await provider.close?.();
    }
  });

  test('configuration: exactly one of clientSecret and clientSecretFile', () => {
    assert.throws(() => oidcBearerSchema.parse(corp({ clientSecret: undefined })), /clientSecret/);
    assert.throws(() => oidcBearerSchema.parse(corp({ clientSecretFile: '/x' })), /clientSecret/);
    assert.throws(
      () => oidcBearerSchema.parse({ ...corp(), issuer: 'kubernetes/sa', jwksUri: 'https://k/jwks' }),
      /introspection\.endpoint/,
    );
  });
});

describe('logs', () => {
  test('no token and no client secret in any log line', () => {
    assert.ok(logLines.length > 0, 'the gateway logged at trace level');
    assert.ok(used.length >= 10);
    for (const line of logLines) {
      for (const token of used) assert.ok(!line.includes(token), `a token in the log: ${line.slice(0, 200)}`);
      assert.ok(!line.includes(RS.secret), 'the client secret in the log');
    }
  });
});
