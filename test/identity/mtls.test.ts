/**
 * mTLS workload identity over real TLS: a PKI generated with openssl (test/harness/pki.ts),
 * the gateway in this process serving HTTPS with client certificates requested or required,
 * a recording stub upstream, and a real OpenID provider signing certificate-bound tokens
 * (RFC 8705 `cnf.x5t#S256`). Then the stock MLflow Python client with
 * `MLFLOW_TRACKING_CLIENT_CERT_PATH` against a real MLflow through the TLS gateway.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../../src/config/load.ts';
import { mtlsSchema } from '../../src/identity/mtls.ts';
import { ADMIN_AUTH, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { createPki, SPIFFE_ID, type Issued, type Pki } from '../harness/pki.ts';
import { runPython } from '../harness/python-client.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

const PATH = '/api/2.0/mlflow/experiments/get?experiment_id=12';
const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const SA_NAME = 'team-a-trainer';

/** SPIFFE IDs of team namespaces become service accounts; any other CN becomes a user. */
const MAPPINGS = [
  { spiffeIdPattern: 'spiffe://example.org/ns/{ns}/sa/{sa}', name: '{ns}-{sa}', tenant: '{ns}', groups: ['workloads'] },
  { subjectCN: '{cn}', kind: 'user' },
];
/** mTLS principals are named by identity, `<provider id>:<name>` (the provider's id is `mtls`). */
const POLICY = {
  tenants: [{ name: 'default', members: { users: [`mtls:${SA_NAME}`, 'mtls:alice'] } }],
  bindings: [
    { role: 'contributor', serviceAccount: `mtls:${SA_NAME}`, tenant: 'default' },
    { role: 'viewer', user: 'mtls:alice', tenant: 'default' },
  ],
};

let pki: Pki;
let stub: StubUpstream;
let idp: TestIdp;
let requested: InProcess;
let required: InProcess;

const tls = (mode: 'request' | 'require') => ({
  certFile: pki.server.certFile,
  keyFile: pki.server.keyFile,
  caFile: pki.ca.certFile,
  clientCertificates: mode,
});

before(async () => {
  pki = createPki();
  [stub, idp] = await Promise.all([startStub(), startIdp()]);
  requested = await startInProcess(stub.url, {
    'server.tls': tls('request'),
    'auth.providers': [
      { type: 'local', scrypt: FAST },
      { type: 'oidc', id: 'corp', issuer: idp.issuer, audience: RESOURCE, claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' }, tenants: 'tenant' } },
      { type: 'mtls', mappings: MAPPINGS },
    ],
    ...POLICY,
  });
  required = await startInProcess(stub.url, {
    'server.tls': tls('require'),
    'auth.providers': [{ type: 'mtls', mappings: MAPPINGS }],
    ...POLICY,
  });
});
after(async () => {
  await requested?.close();
  await required?.close();
  await Promise.all([stub?.close(), idp?.close()]);
  pki?.close();
});
beforeEach(() => (stub.requests.length = 0));

/** What reached the stub, apart from the gateway's own probes. */
const forwarded = () => stub.requests.filter((r) => r.url !== '/health' && r.url !== '/api/3.0/mlflow/server-info');

async function call(gh: InProcess, client: Issued | undefined, headers: Record<string, string> = {}) {
  const dispatcher = new Agent({ connect: { ca: pki.ca.cert, ...(client && { cert: client.cert, key: client.key }) } });
  try {
    const res = await request(`${gh.url}${PATH}`, { dispatcher, headers });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: JSON.parse(text) as Record<string, unknown>, event: gh.events.at(-1)! };
  } finally {
    await dispatcher.close();
  }
}

async function assertRefused(gh: InProcess, client: Issued | undefined, headers: Record<string, string>, reason: string) {
  const r = await call(gh, client, headers);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error_code, 'UNAUTHENTICATED');
  assert.equal(r.json.gatehouse_code, 'GATEHOUSE_AUTHN_INVALID');
  assert.equal(r.event.ctx.errorDetail, reason);
  assert.equal(r.event.ctx.principal, undefined);
  assert.deepEqual(forwarded(), [], 'a refused call never reaches MLflow');
}

/** The server refuses the TLS connection (for `reason`, when it gives one); the request fails; nothing is forwarded. */
async function assertHandshakeRefused(gh: InProcess, client: Issued | undefined, reason?: RegExp) {
  const errors: Error[] = [];
  const onError = (err: Error) => errors.push(err);
  gh.server.server.on('tlsClientError', onError);
  try {
    await assert.rejects(call(gh, client), (err: Error & { code?: string }) => err.code === 'UND_ERR_SOCKET' || err.code === 'ECONNRESET');
  } finally {
    gh.server.server.off('tlsClientError', onError);
  }
  assert.equal(errors.length, 1);
  if (reason) assert.match(`${(errors[0] as Error & { code?: string }).code} ${errors[0]!.message}`, reason);
  assert.deepEqual(forwarded(), []);
}

describe('the public listener serves TLS', () => {
  test('the gateway URL is https and a plain-HTTP request is not served', async () => {
    assert.match(requested.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await call(requested, undefined, { authorization: ADMIN_AUTH });
    assert.equal(r.status, 200, r.text);
    await assert.rejects(fetch(`${requested.url.replace('https:', 'http:')}${PATH}`));
    assert.equal(forwarded().length, 1);
  });
});

describe('mtls provider (clientCertificates: request)', () => {
  test('a SPIFFE ID maps to a service account with a tenant, and its binding lets it through', async () => {
    const r = await call(requested, pki.spiffe);
    assert.equal(r.status, 200, r.text);
    const p = r.event.ctx.principal!;
    assert.equal(p.id, `mtls:${SA_NAME}`);
    assert.equal(p.kind, 'service_account');
    assert.equal(p.name, SA_NAME);
    assert.equal(p.method, 'mtls');
    assert.deepEqual(p.tenants, ['team-a']);
    assert.deepEqual(p.groups, ['workloads']);
    assert.equal(p.admin, false);
    assert.equal(forwarded().length, 1);
  });

  test('a plain CN maps to a user by the CN rule', async () => {
    const r = await call(requested, pki.cn);
    assert.equal(r.status, 200, r.text);
    const p = r.event.ctx.principal!;
    assert.equal(p.id, 'mtls:alice');
    assert.equal(p.kind, 'user');
    assert.equal(p.name, 'alice');
    assert.deepEqual(p.tenants, []);
  });

  test('a mapped principal without a binding is authenticated, then denied 403', async () => {
    const r = await call(requested, pki.other);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.event.ctx.principal?.id, 'mtls:bob');
    assert.deepEqual(forwarded(), []);
  });

  test('a certificate from a foreign CA is refused with 401 untrusted-certificate', async () => {
    await assertRefused(requested, pki.foreign, {}, 'mtls: untrusted-certificate');
  });

  test('without a client certificate, Basic credentials work as before', async () => {
    const r = await call(requested, undefined, { authorization: ADMIN_AUTH });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.event.ctx.principal?.id, 'local:admin');
  });

  test('without a client certificate or credentials: 401 credentials required', async () => {
    const r = await call(requested, undefined);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.gatehouse_code, 'GATEHOUSE_AUTHN_REQUIRED');
    assert.deepEqual(forwarded(), []);
  });
});

describe('mtls provider (clientCertificates: require)', () => {
  test('a SPIFFE service account gets through', async () => {
    const r = await call(required, pki.spiffe);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.event.ctx.principal?.id, `mtls:${SA_NAME}`);
  });

  test('a connection without a client certificate fails the handshake', async () => {
    await assertHandshakeRefused(required, undefined, /PEER_DID_NOT_RETURN_A_CERTIFICATE/);
  });

  test('a certificate from a foreign CA fails the handshake', async () => {
    // Node ends the connection right after a handshake whose chain check failed, without a
    // reason of its own; that it is the chain is shown by the same certificate reaching the
    // `request` listener as untrusted (above) and a test-CA certificate passing here.
    await assertHandshakeRefused(required, pki.foreign);
  });

  test('a certificate matching no mapping rule is refused (401 unmapped-certificate)', async () => {
    const gh = await startInProcess(stub.url, {
      'server.tls': tls('require'),
      'auth.providers': [{ type: 'mtls', mappings: [{ spiffeIdPattern: 'spiffe://other.org/**', name: 'x' }] }],
    });
    try {
      await assertRefused(gh, pki.spiffe, {}, 'mtls: unmapped-certificate');
    } finally {
      await gh.close();
    }
  });
});

describe('certificate-bound tokens (RFC 8705)', () => {
  const nowS = () => Math.floor(Date.now() / 1000);
  const boundToken = (cnf?: Record<string, unknown>, sub = 'svc-bound') =>
    idp.sign({
      iss: idp.issuer,
      aud: RESOURCE,
      sub,
      client_id: sub,
      scope: 'mlflow:role:viewer',
      tenant: 'default',
      iat: nowS(),
      exp: nowS() + 300,
      ...(cnf && { cnf }),
    });

  test('accepted over a connection presenting exactly the bound certificate', async () => {
    const token = await boundToken({ 'x5t#S256': pki.spiffe.thumbprint });
    const r = await call(requested, pki.spiffe, { authorization: `Bearer ${token}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.event.ctx.principal?.id, 'corp:svc-bound');
    assert.equal(r.event.ctx.principal?.method, 'oidc');
    assert.equal(forwarded().length, 1);
    assert.equal(forwarded()[0]!.headers.authorization, undefined);
  });

  test('refused over another valid client certificate (cnf-mismatch), also once cached', async () => {
    const token = await boundToken({ 'x5t#S256': pki.spiffe.thumbprint }, 'svc-cached');
    await assertRefused(requested, pki.cn, { authorization: `Bearer ${token}` }, 'corp: cnf-mismatch');
    assert.equal((await call(requested, pki.spiffe, { authorization: `Bearer ${token}` })).status, 200);
    stub.requests.length = 0;
    await assertRefused(requested, pki.other, { authorization: `Bearer ${token}` }, 'corp: cnf-mismatch');
  });

  test('bound to a certificate outside caFile (self-signed style, RFC 8705 §2.2): the binding is what counts', async () => {
    const token = await boundToken({ 'x5t#S256': pki.foreign.thumbprint }, 'svc-foreign');
    const r = await call(requested, pki.foreign, { authorization: `Bearer ${token}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.event.ctx.principal?.id, 'corp:svc-foreign');
    stub.requests.length = 0;
    await assertRefused(requested, pki.spiffe, { authorization: `Bearer ${token}` }, 'corp: cnf-mismatch');
  });

  test('refused without a client certificate (cnf-mismatch)', async () => {
    const token = await boundToken({ 'x5t#S256': pki.cn.thumbprint });
    await assertRefused(requested, undefined, { authorization: `Bearer ${token}` }, 'corp: cnf-mismatch');
  });

  test('refused when bound by a method Gatehouse cannot check (DPoP jkt)', async () => {
    const token = await boundToken({ jkt: 'A'.repeat(43) });
    await assertRefused(requested, pki.cn, { authorization: `Bearer ${token}` }, 'corp: cnf-unsupported');
  });

  test('a token without cnf works with or without a client certificate', async () => {
    const token = await boundToken(undefined, 'svc-plain');
    for (const client of [undefined, pki.cn]) {
      const r = await call(requested, client, { authorization: `Bearer ${token}` });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.event.ctx.principal?.id, 'corp:svc-plain');
    }
  });
});

describe('configuration', () => {
  const base = (extra: Record<string, unknown>) => ({ dataDir: '/tmp/unused', 'audit.sinks': [], ...extra });

  test('mapping templates may only use variables the pattern captures', () => {
    const r = mtlsSchema.safeParse({ type: 'mtls', mappings: [{ spiffeIdPattern: 'spiffe://example.org/ns/*/sa/*', name: '{ns}-{sa}' }] });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error!.issues), /\{ns\} is not captured by the pattern/);
    assert.equal(mtlsSchema.safeParse({ type: 'mtls', mappings: [{ spiffeIdPattern: 'spiffe://{td}/**' }] }).success, false, 'SPIFFE rules need a name');
    assert.equal(mtlsSchema.safeParse({ type: 'mtls', mappings: [{ subjectCN: '{a}{' }] }).success, false);
    assert.equal(mtlsSchema.safeParse({ type: 'mtls', mappings: [{ subjectCN: '{app}.svc.example.org', name: '{app}', tenant: 'apps' }] }).success, true);
  });

  test('an mtls provider needs client certificates on the listener; request needs a CA', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: base({ 'auth.providers': [{ type: 'mtls', mappings: MAPPINGS }] }) }), /auth\.providers\.0: an mtls provider needs server\.tls/);
    assert.throws(
      () => loadConfig({ env: {}, overrides: base({ 'server.tls': { certFile: 'c', keyFile: 'k', clientCertificates: 'request' } }) }),
      /server\.tls\.caFile: caFile is required/,
    );
  });
});

describe('stock MLflow Python client with a client certificate, real MLflow', () => {
  let mlflow: MlflowServer;
  let gh: InProcess;

  before(async () => {
    mlflow = await startMlflow();
    gh = await startInProcess(mlflow.url, {
      'server.tls': tls('require'),
      'auth.providers': [{ type: 'mtls', mappings: MAPPINGS }],
      ...POLICY,
    });
  });
  after(async () => {
    await gh?.close();
    await mlflow?.stop();
  });

  test('MLFLOW_TRACKING_CLIENT_CERT_PATH + MLFLOW_TRACKING_SERVER_CERT_PATH: create an experiment and log a metric', async () => {
    const script = join(pki.dir, 'mtls_client.py');
    writeFileSync(
      script,
      [
        'import json, mlflow',
        'exp = mlflow.create_experiment("mtls-experiment")',
        'with mlflow.start_run(experiment_id=exp) as run:',
        '    mlflow.log_metric("accuracy", 0.75)',
        'got = mlflow.MlflowClient().get_run(run.info.run_id).data.metrics',
        'print(json.dumps({"experiment": exp, "run": run.info.run_id, "metrics": got}))',
      ].join('\n'),
    );
    const r = await runPython(script, {
      MLFLOW_TRACKING_URI: gh.url,
      MLFLOW_TRACKING_CLIENT_CERT_PATH: pki.spiffe.bundleFile,
      MLFLOW_TRACKING_SERVER_CERT_PATH: pki.ca.certFile,
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    });
    assert.equal(r.code, 0, `client script failed:\n${r.stderr.slice(-6000)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { experiment: string; run: string; metrics: Record<string, number> };
    assert.deepEqual(out.metrics, { accuracy: 0.75 });
    // MLflow itself has the run, and every call was the SPIFFE service account's.
    const direct = (await (await fetch(`${mlflow.url}/api/2.0/mlflow/runs/get?run_id=${out.run}`)).json()) as { run: { info: { experiment_id: string } } };
    assert.equal(direct.run.info.experiment_id, out.experiment);
    const principals = new Set(gh.events.map((e) => e.ctx.principal?.id));
    assert.deepEqual([...principals], [`mtls:${SA_NAME}`]);
  });

  test('the same client without its certificate is refused at the handshake', async () => {
    const script = join(pki.dir, 'mtls_nocert.py');
    writeFileSync(script, ['import mlflow', 'mlflow.search_experiments()'].join('\n'));
    const r = await runPython(script, { MLFLOW_TRACKING_URI: gh.url, MLFLOW_TRACKING_SERVER_CERT_PATH: pki.ca.certFile, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SSL|certificate|Connection/i);
  });
});
