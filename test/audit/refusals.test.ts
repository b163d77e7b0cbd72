/**
 * Every refusal is audited as `denied` with a reason id: the error registry gives each code an
 * outcome (and each refusal a reason), and each refusal path driven through the gateway (an
 * engine deny, another tenant's workspace, a resource not found in the caller's tenant, tag mode's
 * refusals) yields an audit event, read back from a file sink, that says `denied` and why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { everyMessage, type ResourceIds } from '../harness/tenant-resources.ts';
import { waitFor } from '../harness/ports.ts';
import { ERRORS, type ErrorSpec } from '../../src/errors.ts';
import { REASONS } from '../../src/model/decision.ts';
import type { RequestAuditEvent } from '../../src/audit/event.ts';

const PASSWORD = 'refusal-password-12';
const TEAM_A: ResourceIds = { experiment: '101', experimentName: 'exp-a', run: 'a1'.repeat(16), loggedModel: `m-${'a1'.repeat(16)}`, trace: `tr-${'a1'.repeat(16)}`, model: 'model-a' };
const MISSING_RUN = 'dead'.repeat(8);

test('every registry code has an audit outcome, and every refusal a reason id the policy knows', () => {
  const outcomes = new Set(['denied', 'malformed', 'failed', 'aborted']);
  for (const [code, spec] of Object.entries(ERRORS as Record<string, ErrorSpec>)) {
    assert.ok(outcomes.has(spec.outcome), `${code}: outcome ${String(spec.outcome)}`);
    if (spec.outcome === 'denied') assert.ok(spec.reason !== undefined && spec.reason in REASONS, `${code}: a refusal needs a reason id, has ${String(spec.reason)}`);
    else assert.equal(spec.reason, undefined, `${code}: only refusals carry a reason`);
  }
});

/** A gateway with a file sink over a stub that answers every lookup with team-a's resources (tagged team-a) and 404 for "dead" ids. */
async function start(mode: 'workspace' | 'tag', dir: string): Promise<{ gh: InProcess; stub: StubUpstream }> {
  const body = everyMessage(TEAM_A, [{ key: 'gatehouse.tenant', value: 'team-a' }]);
  const stub = await startStub((req, res) => {
    if (req.url === '/api/3.0/mlflow/server-info') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ workspaces_enabled: mode === 'workspace' }));
    }
    const missing = req.url!.includes('dead');
    const answer = missing ? JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'not found' }) : body;
    res.writeHead(missing ? 404 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
  const gh = await startInProcess(stub.url, {
    tenancy: { mode },
    'audit.sinks': [{ type: 'file', path: join(dir, `${mode}.jsonl`), fsync: false }],
    tenants: [
      { name: 'team-a', members: { users: ['vic', 'sue'] } },
      { name: 'team-b', members: { users: ['bob'] } },
    ],
    bindings: [
      { role: 'viewer', user: 'vic', tenant: 'team-a' },
      { role: 'contributor', user: 'bob', tenant: 'team-b' },
      // A resource-scoped grant: the gateway looks up what sue's calls name.
      { role: 'viewer', user: 'sue', tenant: 'team-a', experiment: { id: TEAM_A.experiment } },
    ],
    'rateLimits.enabled': false,
  });
  await createUsers(gh, ['vic', 'sue', 'bob'], PASSWORD);
  return { gh, stub };
}

async function call(gh: InProcess, dir: string, mode: string, user: string, method: string, path: string, body?: unknown, workspace?: string): Promise<{ status: number; event: RequestAuditEvent }> {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { authorization: basic(user, PASSWORD), ...(workspace && { 'x-mlflow-workspace': workspace }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  const id = res.headers.get('x-request-id')!;
  const events = () => readFileSync(join(dir, `${mode}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RequestAuditEvent);
  await waitFor(`audit event ${id}`, async () => events().some((e) => e.requestId === id), 5000);
  return { status: res.status, event: events().find((e) => e.requestId === id)! };
}

const refusal = (e: RequestAuditEvent) => ({ outcome: e.outcome, decision: e.decision, error: e.error });

for (const mode of ['workspace', 'tag'] as const) {
  describe(`refusals are audited denied with a reason id, ${mode} mode`, () => {
    let gh: InProcess;
    let stub: StubUpstream;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gh-refusals-'));
      ({ gh, stub } = await start(mode, dir));
    });
    after(async () => {
      await gh?.close();
      await stub?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const ask = (user: string, method: string, path: string, body?: unknown, workspace = user === 'bob' ? 'team-b' : 'team-a') => call(gh, dir, mode, user, method, path, body, workspace);

    test('the engine denies a viewer\'s write', async () => {
      const { status, event } = await ask('vic', 'POST', '/api/2.0/mlflow/runs/log-metric', { run_id: TEAM_A.run, key: 'k', value: 1, timestamp: 1 });
      assert.equal(status, 403);
      assert.deepEqual(refusal(event), { outcome: 'denied', decision: { effect: 'deny', reasons: ['no-grant'] }, error: 'GATEHOUSE_AUTHZ_DENIED' });
    });

    test('a member of team-a asking for team-b\'s workspace', async () => {
      const { status, event } = await ask('vic', 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${TEAM_A.experiment}`, undefined, 'team-b');
      assert.equal(status, 403);
      assert.deepEqual(refusal(event), { outcome: 'denied', decision: { effect: 'deny', reasons: ['not-member'] }, error: 'GATEHOUSE_TENANT_FORBIDDEN' });
    });

    test('a resource the gateway does not find in the caller\'s tenant', async () => {
      const { status, event } = await ask('sue', 'GET', `/api/2.0/mlflow/runs/get?run_id=${MISSING_RUN}`);
      assert.equal(status, 404);
      assert.deepEqual(refusal(event), { outcome: 'denied', decision: { effect: 'deny', reasons: ['not-in-tenant'] }, error: 'GATEHOUSE_RESOURCE_NOT_FOUND' });
    });

    if (mode === 'tag') {
      test('tag mode: another tenant\'s resource, answered as not found', async () => {
        const { status, event } = await ask('bob', 'GET', `/api/2.0/mlflow/runs/get?run_id=${TEAM_A.run}`);
        assert.equal(status, 404);
        assert.deepEqual(refusal(event), { outcome: 'denied', decision: { effect: 'deny', reasons: ['foreign-tenant'] }, error: 'GATEHOUSE_RESOURCE_NOT_FOUND' });
      });

      test('tag mode: a call naming nothing whose tenant tag can be checked', async () => {
        const { status, event } = await ask('bob', 'GET', '/api/3.0/mlflow/datasets/d-1');
        assert.equal(status, 403);
        assert.deepEqual(refusal(event), { outcome: 'denied', decision: { effect: 'deny', reasons: ['tag-unsupported'] }, error: 'GATEHOUSE_AUTHZ_DENIED' });
      });

      test('tag mode: writing the tenant tag', async () => {
        const { status, event } = await ask('bob', 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: TEAM_A.experiment, key: 'gatehouse.tenant', value: 'team-b' });
        assert.equal(status, 403);
        assert.deepEqual(refusal(event), { outcome: 'denied', decision: { effect: 'deny', reasons: ['tenant-tag'] }, error: 'GATEHOUSE_AUTHZ_TENANT_TAG' });
      });
    }
  });
}
