/**
 * The MLflow client plugin (clients/python, `MLFLOW_TRACKING_AUTH=gatehouse`) end to end: a
 * training script using only stock MLflow calls, through a real Gatehouse, against a real
 * MLflow and a real OpenID provider (oidc-provider) issuing 4-second JWT access tokens. The
 * gateway allows no clock skew, so an expired token would be refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { CLIENTS, RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { ROOT } from '../harness/paths.ts';
import { runPython, type PythonResult } from '../harness/python-client.ts';

const SCRIPT = join(ROOT, 'test/e2e/client_plugin_train.py');
const TTL_S = 4;
const DOOMED = { id: 'doomed', secret: 'doomed-secret-0123456789' };
const JWT_CLIENT = 'svc-jwt';

let idp: TestIdp;
let mlflow: MlflowServer;
let gh: InProcess;
let dir: string;
let keyFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-plugin-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keyFile = join(dir, 'client-key.pem');
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const clients = [
    { client_id: DOOMED.id, client_secret: DOOMED.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    {
      client_id: JWT_CLIENT,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] },
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    },
  ] as never;
  [idp, mlflow] = await Promise.all([startIdp({ accessTokenTTL: TTL_S, clients }), startMlflow()]);
  gh = await startInProcess(mlflow.url, {
    'auth.providers': [
      {
        type: 'oidc',
        id: 'corp',
        issuer: idp.issuer,
        audience: RESOURCE,
        clockSkewSeconds: 0,
        claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' } },
        admin: { roles: ['admin'] },
      },
    ],
  });
});
after(async () => {
  await gh?.close();
  await Promise.all([idp?.close(), mlflow?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  readonly result: PythonResult;
  /** What the gateway saw of this script: status and principal of every request. */
  readonly seen: { status: number; principal: string | undefined }[];
  readonly tokensIssued: number;
}

let experiments = 0;
async function train(env: Record<string, string>, steps = 4, stepSeconds = 0, during?: () => Promise<void>): Promise<Outcome> {
  const events = gh.events.length;
  const tokens = idp.fetches.tokens;
  const running = runPython(SCRIPT, {
    MLFLOW_TRACKING_URI: gh.url,
    MLFLOW_TRACKING_AUTH: 'gatehouse',
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    EXPERIMENT: `plugin-${++experiments}`,
    STEPS: String(steps),
    STEP_SECONDS: String(stepSeconds),
    ...env,
  });
  await during?.();
  const result = await running;
  return {
    result,
    seen: gh.events.slice(events).map((e) => ({ status: e.status, principal: e.ctx.principal?.id })),
    tokensIssued: idp.fetches.tokens - tokens,
  };
}

/** The run as MLflow itself stored it (asked directly, not through the gateway). */
async function storedRun(result: PythonResult): Promise<{ status: string; losses: number }> {
  assert.equal(result.code, 0, `training script failed:\n${result.stderr.slice(-4000)}`);
  const { run_id } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { run_id: string };
  const run = (await (await fetch(`${mlflow.url}/api/2.0/mlflow/runs/get?run_id=${run_id}`)).json()) as { run: { info: { status: string } } };
  const history = (await (await fetch(`${mlflow.url}/api/2.0/mlflow/metrics/get-history?run_id=${run_id}&metric_key=loss`)).json()) as { metrics?: unknown[] };
  return { status: run.run.info.status, losses: history.metrics?.length ?? 0 };
}

function assertAllAuthenticatedAs(seen: Outcome['seen'], principal: string) {
  assert.ok(seen.length > 0, 'the script reached the gateway');
  for (const e of seen) {
    assert.equal(e.principal, principal);
    // 404 is MLflow's own answer when set_experiment looks up a new experiment by name.
    assert.ok(e.status !== 401 && e.status !== 403, `no request was refused (got ${e.status})`);
  }
}

const clientCredentials = (id: string, secret: string): Record<string, string> => ({
  MLFLOW_GATEHOUSE_TOKEN_URL: `${idp.issuer}/token`,
  MLFLOW_GATEHOUSE_CLIENT_ID: id,
  MLFLOW_GATEHOUSE_CLIENT_SECRET: secret,
  MLFLOW_GATEHOUSE_SCOPE: 'mlflow:role:admin',
});

describe('token sources', () => {
  test('client credentials (client secret): the run is logged as the service account', async () => {
    const o = await train(clientCredentials(CLIENTS.svc.id, CLIENTS.svc.secret));
    assert.deepEqual(await storedRun(o.result), { status: 'FINISHED', losses: 4 });
    assertAllAuthenticatedAs(o.seen, 'corp:svc');
  });

  test('client credentials with private_key_jwt, token endpoint found by discovery', async () => {
    const o = await train({
      MLFLOW_GATEHOUSE_ISSUER: idp.issuer,
      MLFLOW_GATEHOUSE_CLIENT_ID: JWT_CLIENT,
      MLFLOW_GATEHOUSE_PRIVATE_KEY_FILE: keyFile,
      MLFLOW_GATEHOUSE_PRIVATE_KEY_ID: 'k1',
      MLFLOW_GATEHOUSE_SCOPE: 'mlflow:role:admin',
    });
    assert.deepEqual(await storedRun(o.result), { status: 'FINISHED', losses: 4 });
    assertAllAuthenticatedAs(o.seen, `corp:${JWT_CLIENT}`);
  });

  test('token file rotated by someone else (as kubelet does) outlives each token', async () => {
    const tokenFile = join(dir, 'token');
    const rotate = async () => {
      writeFileSync(`${tokenFile}.tmp`, await idp.clientCredentialsToken({ scope: 'mlflow:role:admin' }));
      renameSync(`${tokenFile}.tmp`, tokenFile);
    };
    await rotate();
    const timer = setInterval(() => void rotate(), 1500);
    try {
      // 8 steps a second apart: longer than one token's 4 s life, so the file must be re-read.
      const o = await train({ MLFLOW_GATEHOUSE_TOKEN_FILE: tokenFile }, 8, 1);
      assert.deepEqual(await storedRun(o.result), { status: 'FINISHED', losses: 8 });
      assertAllAuthenticatedAs(o.seen, 'corp:svc');
    } finally {
      clearInterval(timer);
    }
  });

  test('token exchange (RFC 8693) of a service-account token file', async () => {
    const tokenFile = join(dir, 'sa-token');
    writeFileSync(tokenFile, await idp.signSubjectToken({ sub: 'system:serviceaccount:ml:trainer' }));
    const o = await train({
      MLFLOW_GATEHOUSE_TOKEN_SOURCE: 'exchange',
      MLFLOW_GATEHOUSE_TOKEN_FILE: tokenFile,
      MLFLOW_GATEHOUSE_TOKEN_URL: `${idp.issuer}/token`,
      MLFLOW_GATEHOUSE_CLIENT_ID: CLIENTS.exchange.id,
      MLFLOW_GATEHOUSE_CLIENT_SECRET: CLIENTS.exchange.secret,
      MLFLOW_GATEHOUSE_SCOPE: 'mlflow:role:admin',
    });
    assert.deepEqual(await storedRun(o.result), { status: 'FINISHED', losses: 4 });
    assertAllAuthenticatedAs(o.seen, `corp:${CLIENTS.exchange.id}`);
  });

  test('token exchange with a subject token the IdP does not trust is a clear error', async () => {
    const tokenFile = join(dir, 'forged-sa-token');
    writeFileSync(tokenFile, await idp.sign({ iss: 'https://elsewhere.test', sub: 'x', exp: Math.floor(Date.now() / 1000) + 600 }));
    const o = await train({
      MLFLOW_GATEHOUSE_TOKEN_SOURCE: 'exchange',
      MLFLOW_GATEHOUSE_TOKEN_FILE: tokenFile,
      MLFLOW_GATEHOUSE_TOKEN_URL: `${idp.issuer}/token`,
      MLFLOW_GATEHOUSE_CLIENT_ID: CLIENTS.exchange.id,
      MLFLOW_GATEHOUSE_CLIENT_SECRET: CLIENTS.exchange.secret,
    });
    assert.notEqual(o.result.code, 0);
    assert.match(o.result.stderr, /MlflowException: .*Gatehouse authentication failed: token exchange of token file .*forged-sa-token: the token endpoint .* answered HTTP 400: invalid_grant/);
    assert.deepEqual(o.seen, [], 'nothing was sent without a token');
  });
});

describe('refresh and revocation', () => {
  test('the token expires mid-run and is refreshed without the script noticing', async () => {
    const o = await train(clientCredentials(CLIENTS.svc.id, CLIENTS.svc.secret), 8, 1);
    assert.deepEqual(await storedRun(o.result), { status: 'FINISHED', losses: 8 });
    assert.ok(o.tokensIssued >= 2, `the IdP issued ${o.tokensIssued} token(s) for an 8 s run of 4 s tokens`);
    assertAllAuthenticatedAs(o.seen, 'corp:svc');
  });

  test('a client revoked mid-run gets a clear MlflowException, never an unauthenticated call', async () => {
    const o = await train(clientCredentials(DOOMED.id, DOOMED.secret), 40, 0.5, async () => {
      const before = idp.fetches.tokens;
      while (idp.fetches.tokens === before) await new Promise((r) => setTimeout(r, 50));
      await idp.disableClient(DOOMED.id);
    });
    assert.notEqual(o.result.code, 0, 'the script fails');
    assert.match(
      o.result.stderr,
      /mlflow\.exceptions\.MlflowException: .*Gatehouse authentication failed: client credentials for client 'doomed' \(client_secret_basic\): the token endpoint http:\/\/127\.0\.0\.1:\d+\/token answered HTTP 401: invalid_client/,
    );
    assert.ok(!o.result.stderr.includes(DOOMED.secret), 'the secret is not printed');
    assert.equal(o.tokensIssued, 1);
    // Until its token expired the job kept working; after, it stopped before sending anything.
    assertAllAuthenticatedAs(o.seen, `corp:${DOOMED.id}`);
  });
});
