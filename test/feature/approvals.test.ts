/**
 * Approvals (issue 23) against the recording stub upstream: a call a rule of `approvals.rules`
 * holds is answered in MLflow's error shape naming the request and never reaches MLflow; approve
 * and deny through the admin API; on approval the gateway sends exactly the stored call, once;
 * the requester never approves their own; two-person rules need two distinct approvers; a denied,
 * expired or no-longer-allowed request never executes (the clock is injected).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, basic, createUsers, startInProcess, TWO_TENANTS_THREE_GROUPS, type InProcess } from '../harness/gatehouse.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';
import { cliActor, principalActor } from '../../src/services/context.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { auditRepository } from '../../src/store/audit.ts';

const PASSWORD = 'approvals-password-123';
const ALIAS = '/api/2.0/mlflow/registered-models/alias';
const RULES = [
  { name: 'production-aliases', kind: 'alias', aliases: ['production', 'champion'], approvers: { roles: ['model-approver'], tenantAdmins: true } },
  { name: 'two-person', kind: 'alias', aliases: ['prod-*'], approvers: { groups: ['model-approvers', 'admins'] }, required: 2, expiresAfterMs: 3_600_000 },
];

let stub: StubUpstream;
let gh: InProcess;
let clock = Date.parse('2030-01-01T00:00:00Z');

before(async () => {
  stub = await startStub(withWorkspaces);
  const { users, policy } = TWO_TENANTS_THREE_GROUPS;
  gh = await startInProcess(stub.url, { ...policy, 'approvals.rules': RULES, 'audit.sinks': [{ type: 'store' }] }, { now: () => clock });
  await createUsers(gh, [...users, 'dave'], PASSWORD);
});
after(async () => {
  await gh?.close();
  await stub?.close();
});

const aliasCalls = () => stub.requests.filter((r) => r.url === ALIAS && r.method === 'POST');

async function setAlias(user: string, alias: string, version = '3', tenant = 'team-a') {
  const body = JSON.stringify({ name: 'churn', alias, version });
  const res = await fetch(`${gh.url}${ALIAS}`, { method: 'POST', headers: { authorization: basic(user, PASSWORD), 'content-type': 'application/json', 'x-mlflow-workspace': tenant }, body });
  return { status: res.status, json: (await res.json()) as { error_code: string; message: string; gatehouse_code?: string }, body };
}

/** Sets an alias the rules hold and returns the approval id its refusal names. */
async function held(user: string, alias: string): Promise<string> {
  const before = aliasCalls().length;
  const r = await setAlias(user, alias);
  assert.equal(r.status, 403, JSON.stringify(r.json));
  assert.equal(r.json.error_code, 'PERMISSION_DENIED');
  assert.equal(r.json.gatehouse_code, 'GATEHOUSE_APPROVAL_REQUIRED');
  const id = /request ([0-9a-f-]{36})/.exec(r.json.message)?.[1];
  assert.ok(id, r.json.message);
  assert.match(r.json.message, new RegExp(`/_gatehouse/#/approvals/${id}`));
  assert.equal(aliasCalls().length, before, 'nothing reached MLflow');
  return id;
}

async function api(user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gh.url}/_gatehouse/api/v1${path}`, { method, headers: { authorization: basic(user, PASSWORD), ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { status?: string; gatehouse_code?: string; result?: { status: number } | null } };
}

describe('a held alias move', () => {
  test('an alias no rule names is forwarded as before', async () => {
    const r = await setAlias('alice', 'staging');
    assert.equal(r.status, 200);
    assert.equal(aliasCalls().length, 1);
  });

  test('production: held, nothing forwarded; the requester and a viewer cannot approve; a model-approver can, and the stored call is sent once', async () => {
    const before = aliasCalls().length;
    const id = await held('alice', 'production');
    const listed = await api('mia', 'GET', '/approvals?status=pending');
    assert.ok((listed.json.approvals as { id: string }[]).some((a) => a.id === id), 'the approver sees it in the queue');
    assert.equal((await api('alice', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_NOT_ELIGIBLE');
    assert.equal((await api('rita', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_NOT_ELIGIBLE');
    assert.equal(aliasCalls().length, before);
    const ok = await api('mia', 'POST', `/approvals/${id}/approve`, { comment: 'release 3' });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.status, 'executed');
    assert.equal(ok.json.result?.status, 200, 'MLflow\'s answer is recorded');
    const sent = aliasCalls().slice(before);
    assert.equal(sent.length, 1, 'the stored call, once');
    assert.equal(sent[0]!.body.toString(), JSON.stringify({ name: 'churn', alias: 'production', version: '3' }), 'exactly the body the requester sent');
    assert.equal(sent[0]!.headers['x-mlflow-workspace'], 'team-a');
    assert.equal(sent[0]!.headers.authorization, undefined, 'no credential of anyone is forwarded');
    assert.equal((await api('ada', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_CLOSED');
    assert.equal(aliasCalls().length, before + 1);
  });

  test('an approver never approves their own request; another approver can', async () => {
    const before = aliasCalls().length;
    const id = await held('mia', 'champion');
    assert.equal((await api('mia', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_NOT_ELIGIBLE');
    assert.equal(aliasCalls().length, before);
    assert.equal((await api('ada', 'POST', `/approvals/${id}/approve`, {})).json.status, 'executed');
    assert.equal(aliasCalls().length, before + 1);
  });

  test('a denial needs a comment; a denied request never executes', async () => {
    const before = aliasCalls().length;
    const id = await held('alice', 'production');
    const bare = await api('mia', 'POST', `/approvals/${id}/deny`, { comment: ' ' });
    assert.equal(bare.status, 400);
    assert.equal(bare.json.gatehouse_code, 'GATEHOUSE_APPROVAL_COMMENT_REQUIRED');
    const denied = await api('mia', 'POST', `/approvals/${id}/deny`, { comment: 'not validated yet' });
    assert.equal(denied.json.status, 'denied');
    assert.equal((await api('ada', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_CLOSED');
    assert.equal(aliasCalls().length, before);
  });

  test('two-person rule: one approval is not enough, the same person twice is refused, a second distinct approver executes it', async () => {
    const before = aliasCalls().length;
    const id = await held('alice', 'prod-eu');
    const first = await api('mia', 'POST', `/approvals/${id}/approve`, {});
    assert.equal(first.json.status, 'pending');
    assert.equal((await api('mia', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_ALREADY_VOTED');
    assert.equal(aliasCalls().length, before);
    assert.equal((await api('ada', 'POST', `/approvals/${id}/approve`, {})).json.status, 'executed');
    assert.equal(aliasCalls().length, before + 1);
  });

  test('an expired request never executes', async () => {
    const before = aliasCalls().length;
    const id = await held('alice', 'prod-us');
    await api('mia', 'POST', `/approvals/${id}/approve`, {});
    clock += 3_600_000;
    assert.equal((await api('ada', 'POST', `/approvals/${id}/approve`, {})).json.gatehouse_code, 'GATEHOUSE_APPROVAL_CLOSED');
    assert.equal((await api('mia', 'GET', `/approvals/${id}`)).json.status, 'expired');
    assert.equal(aliasCalls().length, before);
  });

  test('a requester who lost access in between: the execution is refused', async () => {
    const grant = await gh.services.grants.create(cliActor(), { role: 'contributor', effect: 'allow', user: 'dave', tenant: 'team-a' });
    const before = aliasCalls().length;
    const id = await held('dave', 'production');
    await gh.services.grants.remove(cliActor(), grant.id);
    const r = await api('mia', 'POST', `/approvals/${id}/approve`, {});
    assert.equal(r.json.status, 'refused');
    assert.equal(aliasCalls().length, before);
  });

  test('two approvers at once on a one-approval rule: executed exactly once', async () => {
    const before = aliasCalls().length;
    const id = await held('alice', 'production');
    const both = await Promise.all([api('mia', 'POST', `/approvals/${id}/approve`, {}), api('ada', 'POST', `/approvals/${id}/approve`, {})]);
    assert.ok(both.some((r) => r.json.status === 'executed'), JSON.stringify(both.map((r) => r.json)));
    assert.equal((await api('ada', 'GET', `/approvals/${id}`)).json.status, 'executed');
    assert.equal(aliasCalls().length, before + 1);
  });

  test('every step is an admin event in the audit chain, and the chain verifies', async () => {
    const repo = auditRepository(gh.store.db);
    const actions: string[] = [];
    for await (const e of repo.scan()) if ((e as { type?: string }).type === 'admin') actions.push((e as unknown as { action: string }).action);
    for (const step of ['approval.request', 'approval.approve', 'approval.deny', 'approval.execute', 'approval.expire', 'approval.refuse']) assert.ok(actions.includes(step), `${step} in ${actions.join(' ')}`);
    assert.deepEqual((await verifyStore(repo)).problems, []);
  });

  test('policy explain says when an operation would need approval and who could approve', async () => {
    const explain = async (op: string) => {
      const res = await fetch(`${gh.url}/_gatehouse/api/v1/policy/explain`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ principal: 'alice', op, tenant: 'team-a' }) });
      return (await res.json()) as { effect: string; approvals: { name: string; required: number; approvers: unknown }[] };
    };
    const alias = await explain('registeredModels.setAlias');
    assert.equal(alias.effect, 'allow');
    assert.deepEqual(alias.approvals.map((r) => [r.name, r.required, r.approvers]), [
      ['production-aliases', 1, { roles: ['model-approver'], groups: [], tenantAdmins: true }],
      ['two-person', 2, { roles: [], groups: ['model-approvers', 'admins'], tenantAdmins: false }],
    ]);
    assert.deepEqual((await explain('runs.create')).approvals, []);
  });

  test('a credential narrowed to another tenant or capped to a role does not approve', async () => {
    const id = await held('alice', 'production');
    const mia = { id: 'local:mia', kind: 'user', name: 'mia', localName: 'mia', groups: [], tenants: [], roles: [], admin: false, method: 'token', provider: 'token' } as const;
    for (const restrict of [{ tenant: 'team-b' }, { maxRole: 'viewer' }]) {
      await assert.rejects(gh.services.approvals!.approve(principalActor({ ...mia, restrict }, 'api'), id), (e: { code?: string }) => e.code === 'GATEHOUSE_APPROVAL_NOT_ELIGIBLE', JSON.stringify(restrict));
    }
    assert.equal((await gh.services.approvals!.approve(principalActor({ ...mia, restrict: { tenant: 'team-a' } }, 'api'), id)).status, 'executed', 'narrowed to the request\'s tenant, uncapped: may');
  });
});
