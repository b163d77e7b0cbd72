/**
 * Features the gateway switches off (route rows with action `deny`) that MLflow's UI lists from
 * (issue 21): such a list is answered as a real MLflow 3.18 with nothing configured answers it,
 * byte for byte, instead of a 403 toast; nothing reaches MLflow. Writes, invocations and reads of
 * one item keep MLflow's PERMISSION_DENIED shape, and an anonymous caller is still refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflow, type MlflowServer } from '../harness/mlflow.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { MLFLOW_ROUTES } from '../../src/routes/mlflow/table.ts';

const PASSWORD = 'a-long-test-password';

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}
/** The disabled lists, as MLflow's UI (gateway-proxy: `gatewayProxyGet`) or client would call them. */
const EMPTY_LISTS: Record<string, Call> = {
  'gateway.deploymentsProxyGet': { method: 'GET', path: '/ajax-api/2.0/mlflow/gateway-proxy?gateway_path=api%2F2.0%2Fendpoints%2F' },
  'jobs.search': { method: 'POST', path: '/ajax-api/3.0/jobs/search', body: {} },
};
/** Disabled writes, invocations and reads of one item (or of lists that are never empty in MLflow): still refused. */
const REFUSED: Call[] = [
  { method: 'POST', path: '/ajax-api/2.0/mlflow/gateway-proxy', body: { gateway_path: 'gateway/chat/invocations', json_data: {} } },
  { method: 'POST', path: '/ajax-api/3.0/jobs/', body: { function_fullname: 'x', params: {} } },
  { method: 'GET', path: '/ajax-api/3.0/jobs/1' },
  { method: 'GET', path: '/ajax-api/3.0/mlflow/assistant/providers' },
  { method: 'GET', path: '/api/2.0/mlflow/unified-traces' },
];

let mlflow: MlflowServer;
let stub: StubUpstream;
let gh: InProcess;

const send = (base: string, c: Call, auth?: string) =>
  fetch(`${base}${c.path}`, {
    method: c.method,
    headers: { ...(auth && { authorization: auth }), ...(c.body !== undefined && { 'content-type': 'application/json' }) },
    ...(c.body !== undefined && { body: JSON.stringify(c.body) }),
  });

before(async () => {
  mlflow = await startMlflow();
  stub = await startStub();
  gh = await startInProcess(stub.url, {
    tenants: [{ name: 'default', members: { users: ['alice', 'vic', 'ada'] } }],
    bindings: [
      { role: 'contributor', user: 'alice', tenant: 'default' },
      { role: 'viewer', user: 'vic', tenant: 'default' },
      { role: 'admin', user: 'ada' },
    ],
    'rateLimits.enabled': false,
  });
  await createUsers(gh, ['alice', 'vic', 'ada'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await stub?.close();
  await mlflow?.stop();
});

describe('disabled features answer as MLflow with nothing configured', () => {
  test('the disabled lists are exactly these rows of the table', () => {
    const lists = MLFLOW_ROUTES.filter((r) => r.action === 'deny' && r.disabledAnswer !== undefined).map((r) => r.op);
    assert.deepEqual(lists.sort(), Object.keys(EMPTY_LISTS).sort());
  });

  for (const [op, call] of Object.entries(EMPTY_LISTS)) {
    test(`${op}: byte for byte what MLflow 3.18 answers, for every role, and nothing is forwarded`, async () => {
      const theirs = await send(mlflow.url, call);
      const expected = Buffer.from(await theirs.arrayBuffer());
      assert.equal(theirs.status, 200, expected.toString());
      for (const user of ['alice', 'vic', 'ada']) {
        const arrived = stub.arrived.length;
        const events = gh.events.length;
        const mine = await send(gh.url, call, basic(user, PASSWORD));
        const got = Buffer.from(await mine.arrayBuffer());
        assert.equal(mine.status, 200, `${user}: ${got.toString()}`);
        assert.equal(got.toString('hex'), expected.toString('hex'), `${user}: ${got.toString()} vs ${expected.toString()}`);
        assert.equal(mine.headers.get('content-type'), theirs.headers.get('content-type'));
        assert.deepEqual(stub.arrived.slice(arrived), [], `${user}: nothing reaches MLflow`);
        let event = gh.events.slice(events).find((e) => e.ctx.route?.row.op === op);
        // The event is recorded when the answer is done; the client may read it a moment earlier.
        for (let i = 0; !event && i < 40; i++) {
          await new Promise((r) => setTimeout(r, 5));
          event = gh.events.slice(events).find((e) => e.ctx.route?.row.op === op);
        }
        assert.deepEqual(event?.ctx.decision?.reasons, ['route-denied'], `${user}: audited as the disabled route it is`);
      }
    });
  }

  test('an anonymous caller is still refused', async () => {
    for (const call of Object.values(EMPTY_LISTS)) {
      const r = await send(gh.url, call);
      assert.equal(r.status, 401, call.path);
    }
  });

  test('disabled writes, invocations and item reads keep a refusal in MLflow\'s shape, unforwarded', async () => {
    const arrived = stub.arrived.length;
    for (const call of REFUSED) {
      const r = await send(gh.url, call, basic('ada', PASSWORD));
      const body = (await r.json()) as { error_code?: string; message?: string };
      assert.equal(r.status, 403, `${call.method} ${call.path}`);
      assert.deepEqual([body.error_code, body.message], ['PERMISSION_DENIED', 'This MLflow endpoint is disabled by the gateway.'], call.path);
    }
    assert.deepEqual(stub.arrived.slice(arrived), []);
  });
});
