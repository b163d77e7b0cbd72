/**
 * Approvals across replicas (issue 23): two gateways sharing a real PostgreSQL (and Redis). A
 * request held on one is seen and decided on the other, and when two approvers approve the same
 * one-approval request at once, one on each replica, the stored call reaches MLflow (the
 * recording stub) exactly once; a two-person rule executes only after distinct approvers on
 * different replicas.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../src/store/store.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { basic, type Spawned } from '../harness/gatehouse.ts';
import { withWorkspaces } from '../harness/stub-upstream.ts';
import { startCluster, type Cluster } from './replicas.ts';

const PASSWORD = 'race-password-0123';
const ALIAS = '/api/2.0/mlflow/registered-models/alias';
const YAML = `
log: { level: info, requests: false }
auth:
  providers: [ { type: local, scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } } ]
tenants:
  - { name: team-a, members: { users: [alice, mia, ada] } }
bindings:
  - { role: contributor, user: alice, tenant: team-a }
  - { role: model-approver, user: mia, tenant: team-a }
  - { role: model-approver, user: ada, tenant: team-a }
approvals:
  rules:
    - { name: production, kind: alias, aliases: [production], approvers: { roles: [model-approver] } }
    - { name: two-person, kind: alias, aliases: [prod-*], approvers: { roles: [model-approver] }, required: 2 }
`;

let cluster: Cluster;
let store: Store;
let a: Spawned;
let b: Spawned;

before(async () => {
  cluster = await startCluster(YAML);
  cluster.stub.handler = withWorkspaces;
  [a, b] = await Promise.all([cluster.replica('replica-a'), cluster.replica('replica-b')]);
  store = await openStore({ driver: 'postgres', url: cluster.storeUrl, migrate: 'never', dataDir: '/nonexistent' } as Parameters<typeof openStore>[0]);
  const passwordHash = await hashPassword(PASSWORD, { cost: 1024, blockSize: 8, parallelization: 1 });
  for (const username of ['alice', 'mia', 'ada']) await store.createUser({ username, passwordHash, admin: false });
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await store?.close();
  await cluster?.close();
});

const aliasCalls = () => cluster.stub.requests.filter((r) => r.url === ALIAS && r.method === 'POST');

async function hold(on: Spawned, alias: string): Promise<string> {
  const res = await fetch(`${on.url}${ALIAS}`, {
    method: 'POST',
    headers: { authorization: basic('alice', PASSWORD), 'content-type': 'application/json', 'x-mlflow-workspace': 'team-a' },
    body: JSON.stringify({ name: 'churn', alias, version: '7' }),
  });
  const json = (await res.json()) as { message: string; gatehouse_code: string };
  assert.equal(json.gatehouse_code, 'GATEHOUSE_APPROVAL_REQUIRED', JSON.stringify(json));
  return /request ([0-9a-f-]{36})/.exec(json.message)![1]!;
}

async function approve(on: Spawned, user: string, id: string) {
  const res = await fetch(`${on.url}/_gatehouse/api/v1/approvals/${id}/approve`, { method: 'POST', headers: { authorization: basic(user, PASSWORD), 'content-type': 'application/json' }, body: '{}' });
  return (await res.json()) as { status?: string; gatehouse_code?: string };
}

test('two approvers on two replicas at once: the stored call is sent exactly once, every time', async () => {
  for (let i = 0; i < 8; i++) {
    const before = aliasCalls().length;
    const id = await hold(i % 2 === 0 ? a : b, 'production');
    assert.equal(aliasCalls().length, before, 'held, not forwarded');
    const answers = await Promise.all([approve(a, 'mia', id), approve(b, 'ada', id)]);
    assert.ok(answers.some((r) => r.status === 'executed'), JSON.stringify(answers));
    for (const r of answers) assert.ok(r.status === 'executed' || r.status === 'executing' || r.gatehouse_code === 'GATEHOUSE_APPROVAL_CLOSED', JSON.stringify(r));
    assert.equal(aliasCalls().length, before + 1, `round ${i}: exactly one execution`);
  }
});

test('a two-person rule: held on one replica, approved by distinct people on each, executed once', async () => {
  const before = aliasCalls().length;
  const id = await hold(a, 'prod-eu');
  assert.equal((await approve(b, 'mia', id)).status, 'pending');
  assert.equal((await approve(a, 'mia', id)).gatehouse_code, 'GATEHOUSE_APPROVAL_ALREADY_VOTED');
  assert.equal(aliasCalls().length, before);
  assert.equal((await approve(a, 'ada', id)).status, 'executed');
  assert.equal(aliasCalls().length, before + 1);
});
