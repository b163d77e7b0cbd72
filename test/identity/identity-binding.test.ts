/**
 * Grants bind identities, not display names (issue 18, finding 9): two real OpenID providers
 * (test/harness/oidc-idp.ts) whose tokens both say `preferred_username: alice`, a subject of the
 * first issuer who chose the name `alice`, a local user alice, and a Gatehouse service account
 * named like an OAuth client. Each gets exactly the grants, tenant memberships and local groups
 * that name its identity — `<provider id>:<subject>`, or the bare local name for local users and
 * service accounts — and nothing another principal of the same name holds. What is refused
 * never reaches MLflow (the recording stub).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, basic, createUsers, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const ALICE_PASSWORD = 'alice-password-0123';

/**
 * One tenant per identity. `alice` (no provider) is the local user alice: a tenant member, a
 * grant, and a member of the local group `l-readers`, which reads `partner-team`.
 */
const POLICY = {
  tenants: [
    { name: 'corp-team', members: { users: ['corp:alice'] } },
    { name: 'partner-team', members: { users: ['partner:alice'] } },
    { name: 'local-team', members: { users: ['alice'] } },
  ],
  groups: [{ name: 'l-readers', members: ['alice'] }],
  bindings: [
    { role: 'contributor', user: 'corp:alice', tenant: 'corp-team' },
    { role: 'contributor', user: 'partner:alice', tenant: 'partner-team' },
    { role: 'contributor', user: 'alice', tenant: 'local-team' },
    { role: 'viewer', group: 'l-readers', tenant: 'partner-team' },
    { role: 'contributor', serviceAccount: 'svc', tenant: 'local-team' },
  ],
};

const oidc = (id: string, idp: TestIdp, extra: Record<string, unknown> = {}) => ({ type: 'oidc', id, issuer: idp.issuer, audience: RESOURCE, ...extra });

let corp: TestIdp;
let partner: TestIdp;
let stub: StubUpstream;

before(async () => {
  [corp, partner, stub] = await Promise.all([startIdp(), startIdp(), startStub(withWorkspaces)]);
});
after(async () => {
  await Promise.all([corp?.close(), partner?.close(), stub?.close()]);
});
beforeEach(() => {
  stub.requests.length = 0;
});

/** Read (experiments.get) or write (experiments.create) in `tenant`; the status and whether MLflow saw it. */
async function attempt(gh: InProcess, auth: string, tenant: string, write = false): Promise<{ status: number; forwarded: boolean; principal: string | undefined }> {
  stub.requests.length = 0;
  const headers = { authorization: auth, 'x-mlflow-workspace': tenant };
  const res = write
    ? await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"name":"e"}' })
    : await fetch(`${gh.url}/api/2.0/mlflow/experiments/get?experiment_id=1`, { headers });
  await res.arrayBuffer();
  return { status: res.status, forwarded: stub.requests.some((r) => r.url.startsWith('/api/2.0/')), principal: gh.events.at(-1)?.ctx.principal?.id };
}

/** Asserts what `auth` may do in each tenant: `rw` read and write, `r` read only, `-` nothing (and nothing forwarded). */
async function assertAccess(gh: InProcess, auth: string, who: string, expected: Record<string, 'rw' | 'r' | '-'>): Promise<void> {
  const got: Record<string, string> = {};
  for (const tenant of Object.keys(expected)) {
    const read = await attempt(gh, auth, tenant);
    const write = await attempt(gh, auth, tenant, true);
    got[tenant] = read.status === 200 && write.status === 200 ? 'rw' : read.status === 200 ? 'r' : '-';
    if (read.status !== 200) assert.equal(read.forwarded, false, `${who}'s refused read in ${tenant} never reaches MLflow`);
    if (write.status !== 200) assert.equal(write.forwarded, false, `${who}'s refused write in ${tenant} never reaches MLflow`);
  }
  assert.deepEqual(got, expected, `what ${who} may do, by tenant`);
}

async function adminApi(gh: InProcess, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${gh.url}/_gatehouse/api/v1${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  assert.ok(res.ok, JSON.stringify(json));
  return json;
}

describe('two issuers and a local user, all named alice; no provider asserts local names', () => {
  let gh: InProcess;
  before(async () => {
    gh = await startInProcess(stub.url, {
      'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: FAST }, oidc('corp', corp), oidc('partner', partner)],
      ...POLICY,
    });
    await createUsers(gh, ['alice'], ALICE_PASSWORD);
  });
  after(async () => {
    await gh?.close();
  });

  test("each issuer's alice gets the grants and tenant of her own identity, never the other's nor the local user's", async () => {
    const corpAlice = `Bearer ${await corp.authCodeToken('alice')}`;
    const partnerAlice = `Bearer ${await partner.authCodeToken('alice')}`;
    await assertAccess(gh, corpAlice, "corp's alice", { 'corp-team': 'rw', 'partner-team': '-', 'local-team': '-' });
    await assertAccess(gh, partnerAlice, "partner's alice", { 'corp-team': '-', 'partner-team': 'rw', 'local-team': '-' });
  });

  test('the local user alice (password or personal token) keeps the grants, membership and local group that name alice', async () => {
    const password = basic('alice', ALICE_PASSWORD);
    await assertAccess(gh, password, 'local alice', { 'corp-team': '-', 'partner-team': 'r', 'local-team': 'rw' });
    const { token } = (await adminApi(gh, 'POST', '/tokens', { user: 'alice' })) as { token: string };
    await assertAccess(gh, `Bearer ${token}`, "local alice's token", { 'corp-team': '-', 'partner-team': 'r', 'local-team': 'rw' });
  });

  test("another subject of the same issuer who calls herself alice gets none of alice's access", async () => {
    const mallory = `Bearer ${await corp.authCodeToken('mallory')}`;
    assert.equal((await attempt(gh, mallory, 'corp-team')).principal, 'corp:mallory');
    await assertAccess(gh, mallory, "corp's mallory (preferred_username alice)", { 'corp-team': '-', 'partner-team': '-', 'local-team': '-' });
  });

  test('an OAuth client named like a Gatehouse service account does not get its grants', async () => {
    await adminApi(gh, 'POST', '/service-accounts', { name: 'svc' });
    const { token } = (await adminApi(gh, 'POST', '/tokens', { serviceAccount: 'svc' })) as { token: string };
    await assertAccess(gh, `Bearer ${token}`, 'the service account svc', { 'local-team': 'rw' });
    const client = `Bearer ${await corp.clientCredentialsToken()}`;
    await assertAccess(gh, client, "corp's client svc", { 'local-team': '-' });
  });

  test('deleting the local user alice removes what names her (alice, local:alice, token:alice), never what names corp:alice', async () => {
    const naming = ['alice', 'local:alice', 'token:alice'];
    for (const user of [...naming, 'corp:alice']) await adminApi(gh, 'POST', '/grants', { role: 'viewer', user, tenant: 'partner-team' });
    for (const member of [...naming, 'corp:alice']) await adminApi(gh, 'POST', '/groups/g-alices/members', { member });
    await adminApi(gh, 'POST', '/tenants', { name: 'alices' });
    for (const user of [...naming, 'corp:alice']) await adminApi(gh, 'POST', '/tenants/alices/members', { user });
    const del = await fetch(`${gh.url}/_gatehouse/api/v1/users/alice`, { method: 'DELETE', headers: { authorization: ADMIN_AUTH } });
    assert.equal(del.status, 204);
    const grants = ((await (await fetch(`${gh.url}/_gatehouse/api/v1/grants?source=api`, { headers: { authorization: ADMIN_AUTH } })).json()) as { grants: { user?: string }[] }).grants;
    assert.deepEqual(grants.flatMap((g) => (g.user !== undefined ? [g.user] : [])), ['corp:alice'], 'only the IdP identity keeps its stored grant');
    const groups = (await (await fetch(`${gh.url}/_gatehouse/api/v1/groups/g-alices`, { headers: { authorization: ADMIN_AUTH } })).json()) as { members: string[] };
    assert.deepEqual(groups.members, ['corp:alice']);
    const tenant = (await (await fetch(`${gh.url}/_gatehouse/api/v1/tenants`, { headers: { authorization: ADMIN_AUTH } })).json()) as { tenants: { name: string; members: { users: string[] } }[] };
    assert.deepEqual(tenant.tenants.find((t) => t.name === 'alices')?.members.users, ['corp:alice']);
    // corp's alice keeps what names her: her declared tenant and the stored read in partner-team.
    await assertAccess(gh, `Bearer ${await corp.authCodeToken('alice')}`, "corp's alice", { 'corp-team': 'rw', 'partner-team': 'r', 'local-team': '-' });
  });
});

describe('a provider configured to assert local names', () => {
  let gh: InProcess;
  before(async () => {
    gh = await startInProcess(stub.url, {
      'auth.providers': [{ type: 'local', scrypt: FAST }, oidc('corp', corp, { assertsLocalNames: true }), oidc('partner', partner)],
      ...POLICY,
    });
  });
  after(async () => {
    await gh?.close();
  });

  test("its alice stands for the local user alice too; the other issuer's alice still does not", async () => {
    const corpAlice = `Bearer ${await corp.authCodeToken('alice')}`;
    const partnerAlice = `Bearer ${await partner.authCodeToken('alice')}`;
    await assertAccess(gh, corpAlice, "corp's alice", { 'corp-team': 'rw', 'partner-team': 'r', 'local-team': 'rw' });
    await assertAccess(gh, partnerAlice, "partner's alice", { 'corp-team': '-', 'partner-team': 'rw', 'local-team': '-' });
  });

  test("a name shaped like another provider's identity is never that identity", async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const forged = await corp.sign({ iss: corp.issuer, aud: RESOURCE, sub: 'eve', preferred_username: 'partner:alice', email: 'eve@example.test', iat: nowS, exp: nowS + 300 });
    const r = await attempt(gh, `Bearer ${forged}`, 'partner-team');
    assert.equal(r.principal, 'corp:eve', 'a valid token of corp');
    await assertAccess(gh, `Bearer ${forged}`, "corp's eve (preferred_username partner:alice)", { 'corp-team': '-', 'partner-team': '-', 'local-team': '-' });
  });
});
