/**
 * The SCIM 2.0 door (`/_gatehouse/scim/v2`) against an in-process gateway in front of the
 * recording stub upstream: only SCIM tokens open it and they open nothing else; discovery;
 * Users and Groups with filters, pagination, PUT, the PATCH forms Entra ID and Okta send,
 * versions; deprovisioning ending sessions and tokens at once; SCIM-managed fields refused by
 * other doors; SCIM groups counting as the user's groups (and never as admin); admin events
 * with door `scim` and the token's name as actor; token rotation with an overlap.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, basic, callJson, formSignIn, startInProcess, type InProcess, type JsonAnswer } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubUpstream } from '../harness/stub-upstream.ts';
import { waitFor } from '../harness/ports.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const API = '/_gatehouse/api/v1';
const SCIM = '/_gatehouse/scim/v2';
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let stub: StubUpstream;
let gh: InProcess;
let scimBearer: string;
/** Moved by tests instead of sleeping (the gateway's injected clock). */
let clockOffset = 0;

const api = (method: string, path: string, auth: string | undefined, body?: unknown): Promise<JsonAnswer> =>
  callJson(`${gh.url}${API}${path}`, method, auth ? { authorization: auth } : {}, body);
/** `auth` null: no Authorization header. */
const scim = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, auth: string | null = scimBearer): Promise<JsonAnswer> =>
  callJson(`${gh.url}${SCIM}${path}`, method, { ...(auth !== null && { authorization: auth }), ...headers }, body);
const mlflowSearch = (headers: Record<string, string>) =>
  callJson(`${gh.url}/api/2.0/mlflow/experiments/search`, 'POST', { ...headers, 'x-mlflow-workspace': 'team-a' }, { max_results: 1 });
const meStatus = async (headers: Record<string, string>) => (await callJson(`${gh.url}${API}/me`, 'GET', headers)).status;

const newUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER_URN],
  userName,
  externalId: `ext-${userName}`,
  name: { givenName: 'Given', familyName: 'Family' },
  emails: [{ value: `${userName}@example.com`, type: 'work', primary: true }],
  active: true,
  ...extra,
});

async function adminEvents(): Promise<{ action: string; door: string; actor: { id: string }; target: { kind: string; id: string } }[]> {
  return (await api('GET', '/audit?type=admin&limit=1000', ADMIN_AUTH)).body.events;
}

before(async () => {
  stub = await startStub((req, res, r) => {
    if (req.url === '/api/3.0/mlflow/server-info') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ workspaces_enabled: true }));
    }
    return jsonOk(req, res, r);
  });
  gh = await startInProcess(
    stub.url,
    {
      'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: FAST }],
      'audit.sinks': [{ type: 'store' }],
      scim: { enabled: true, maxResults: 50 },
      tenants: [{ name: 'team-a', members: { users: [] } }],
      bindings: [{ role: 'contributor', group: 'ml-team', tenant: 'team-a' }],
    },
    { now: () => Date.now() + clockOffset },
  );
  const t = await api('POST', '/scim/tokens', ADMIN_AUTH, { name: 'entra' });
  assert.equal(t.status, 201);
  scimBearer = `Bearer ${t.body.token}`;
});
after(async () => {
  await gh.close();
  await stub.close();
});

describe('credentials', () => {
  test('only a SCIM token opens the door: none, Basic, a personal token get 401 with a Bearer challenge', async () => {
    const u = await api('POST', '/users', ADMIN_AUTH, { username: 'plain', password: 'plain-password-1' });
    assert.equal(u.status, 201);
    const pat = await api('POST', '/tokens', ADMIN_AUTH, { user: 'plain' });
    for (const auth of [null, ADMIN_AUTH, basic('plain', 'plain-password-1'), `Bearer ${pat.body.token}`, 'Bearer gth_sct_000000000000_xxx']) {
      const r = await scim('GET', '/Users', undefined, {}, auth);
      assert.equal(r.status, 401, String(auth).slice(0, 12));
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="gatehouse-scim"');
      assert.deepEqual(r.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
      assert.equal(r.body.status, '401');
    }
  });

  test('a SCIM token opens nothing else: not the admin API, not MLflow routes', async () => {
    assert.equal((await api('GET', '/users', scimBearer)).status, 401);
    assert.equal((await mlflowSearch({ authorization: scimBearer })).status, 401);
    assert.equal(stub.requests.filter((r) => r.url?.includes('experiments/search') && r.headers.authorization === scimBearer).length, 0);
    // Refused as a SCIM token (src/identity/api-token.ts), not merely as an unknown API token.
    assert.match(await gh.metrics.render(), /^gatehouse_authentication_failures_total\{[^}]*reason="scim-token"[^}]*\} [1-9]/m);
  });

  test('a revoked token stops at once; an expired one stops at its expiry', async () => {
    const t = await api('POST', '/scim/tokens', ADMIN_AUTH, { name: 'short', expiresInDays: 1 });
    const bearer = `Bearer ${t.body.token}`;
    assert.equal((await scim('GET', '/ServiceProviderConfig', undefined, {}, bearer)).status, 200);
    clockOffset += 86_400_000 + 1000;
    try {
      assert.equal((await scim('GET', '/ServiceProviderConfig', undefined, {}, bearer)).status, 401);
    } finally {
      clockOffset -= 86_400_000 + 1000;
    }
    assert.equal((await api('DELETE', `/scim/tokens/${t.body.id}`, ADMIN_AUTH)).status, 204);
    assert.equal((await scim('GET', '/ServiceProviderConfig', undefined, {}, bearer)).status, 401);
    const listed = (await api('GET', '/scim/tokens', ADMIN_AUTH)).body.tokens.find((x: { id: string }) => x.id === t.body.id);
    assert.equal(listed.status, 'revoked');
    assert.ok(!JSON.stringify((await api('GET', '/scim/tokens', ADMIN_AUTH)).body).includes('gth_'), 'no secret listed');
  });

  test('rotation: the old token works through the overlap, then stops; the new one works', async () => {
    const old = `Bearer ${(await api('POST', '/scim/tokens', ADMIN_AUTH, { name: 'okta' })).body.token}`;
    const r = await api('POST', '/scim/tokens/rotate', ADMIN_AUTH, { name: 'okta', overlapSeconds: 3600 });
    assert.equal(r.status, 201);
    const fresh = `Bearer ${r.body.token}`;
    assert.equal((await scim('GET', '/Schemas', undefined, {}, old)).status, 200, 'old token inside the overlap');
    clockOffset += 3601_000;
    try {
      assert.equal((await scim('GET', '/Schemas', undefined, {}, old)).status, 401, 'old token after the overlap');
      assert.equal((await scim('GET', '/Schemas', undefined, {}, fresh)).status, 200);
    } finally {
      clockOffset -= 3601_000;
    }
  });
});

describe('discovery', () => {
  test('ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const spc = await scim('GET', '/ServiceProviderConfig');
    assert.equal(spc.status, 200);
    assert.match(spc.headers.get('content-type') ?? '', /application\/scim\+json/);
    assert.equal(spc.body.patch.supported, true);
    assert.equal(spc.body.filter.maxResults, 50);
    assert.equal(spc.body.etag.supported, true);
    const types = await scim('GET', '/ResourceTypes');
    assert.deepEqual(types.body.Resources.map((t: { id: string }) => t.id), ['User', 'Group']);
    assert.equal((await scim('GET', '/ResourceTypes/User')).body.schema, USER_URN);
    const schemas = await scim('GET', '/Schemas');
    assert.equal(schemas.body.totalResults, 3);
    const user = await scim('GET', `/Schemas/${USER_URN}`);
    assert.ok(user.body.attributes.some((a: { name: string }) => a.name === 'userName'));
    assert.equal((await scim('GET', '/Schemas/urn:nope')).status, 404);
  });

  test('an unknown resource type is a SCIM 404 (found by scim2-tester: it once crashed the gateway)', async () => {
    const r = await scim('GET', '/ResourceTypes/e5dd9dcc-a876-49e6-901a-537a1de3b051');
    assert.equal(r.status, 404);
    assert.equal(r.body.status, '404');
    assert.equal((await scim('GET', '/ServiceProviderConfig')).status, 200, 'the gateway is still up');
  });

  test('discovery endpoints answer other methods with 405 (RFC 7644 §4)', async () => {
    for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/Schemas']) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const r = await scim(method, path, {});
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.body.status, '405');
      }
    }
  });
});

describe('users', () => {
  test('create, get, uniqueness of userName without regard to case', async () => {
    const c = await scim('POST', '/Users', newUser('ann'));
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.userName, 'ann');
    assert.equal(c.body.active, true);
    assert.equal(c.body.meta.version, 'W/"1"');
    assert.equal(c.headers.get('etag'), 'W/"1"');
    assert.equal(c.headers.get('location'), c.body.meta.location);
    const g = await scim('GET', `/Users/${c.body.id}`);
    assert.deepEqual(g.body.emails, [{ value: 'ann@example.com', type: 'work', primary: true }]);
    const dup = await scim('POST', '/Users', newUser('ANN'));
    assert.equal(dup.status, 409);
    assert.equal(dup.body.scimType, 'uniqueness');
    const local = await scim('POST', '/Users', newUser('plain-local'));
    assert.equal(local.status, 201);
    assert.equal((await api('GET', '/users/ann', ADMIN_AUTH)).status, 200, 'a SCIM user is a Gatehouse user');
  });

  test('list with filters as IdPs send them, and pagination', async () => {
    for (const n of ['f1', 'f2', 'f3']) assert.equal((await scim('POST', '/Users', newUser(n))).status, 201);
    const eq = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "F2"')}`);
    assert.deepEqual(eq.body.Resources.map((u: { userName: string }) => u.userName), ['f2'], 'userName compared without regard to case');
    const ext = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "ext-f3"')}`);
    assert.deepEqual(ext.body.Resources.map((u: { userName: string }) => u.userName), ['f3']);
    assert.equal((await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "EXT-F3"')}`)).body.totalResults, 0, 'externalId is case-exact');
    const sw = await scim('GET', `/Users?filter=${encodeURIComponent('userName sw "f" and emails[type eq "work" and value co "example"]')}`);
    assert.equal(sw.body.totalResults, 3);
    const or = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "f1" or userName eq "f3"')}`);
    assert.deepEqual(or.body.Resources.map((u: { userName: string }) => u.userName), ['f1', 'f3']);
    assert.equal((await scim('GET', `/Users?filter=${encodeURIComponent('title pr')}`)).body.totalResults, 0);
    const p = await scim('GET', `/Users?filter=${encodeURIComponent('userName sw "f"')}&startIndex=2&count=1`);
    assert.deepEqual([p.body.totalResults, p.body.startIndex, p.body.itemsPerPage, p.body.Resources[0].userName], [3, 2, 1, 'f2']);
    const twice = await scim('GET', '/Users?filter=userName%20pr&filter=title%20pr');
    assert.equal(twice.status, 400, 'a repeated parameter is ambiguous: refused, never a 500');
    assert.equal(twice.body.scimType, 'invalidSyntax');
    const bad = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.scimType, 'invalidFilter');
  });

  test('PUT replaces; If-Match with an old version is 412', async () => {
    const c = (await scim('POST', '/Users', newUser('pat'))).body;
    const put = await scim('PUT', `/Users/${c.id}`, { ...newUser('pat'), displayName: 'Pat P' }, { 'if-match': 'W/"1"' });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.displayName, 'Pat P');
    assert.equal(put.body.meta.version, 'W/"2"');
    const stale = await scim('PUT', `/Users/${c.id}`, newUser('pat'), { 'if-match': 'W/"1"' });
    assert.equal(stale.status, 412);
    assert.equal((await scim('GET', `/Users/${c.id}`)).body.displayName, 'Pat P');
  });

  test('PATCH in the forms Entra ID and Okta send', async () => {
    const c = (await scim('POST', '/Users', newUser('eve', { [`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`]: { department: 'R&D' } }))).body;
    const r = await scim('PATCH', `/Users/${c.id}`, {
      schemas: [PATCH_URN],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'eve@corp.example' },
        { op: 'Add', path: 'displayName', value: 'Eve E' },
        { op: 'replace', value: { 'name.givenName': 'Evelyn' } },
        { op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Ops' },
      ],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.emails[0].value, 'eve@corp.example');
    assert.equal(r.body.displayName, 'Eve E');
    assert.equal(r.body.name.givenName, 'Evelyn');
    assert.equal(r.body['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department, 'Ops');
    const bad = await scim('PATCH', `/Users/${c.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'jump', path: 'x' }] });
    assert.equal(bad.status, 400);
  });

  test('deprovisioning (active "False", as Entra ID sends it) ends sessions and stops tokens at once; reactivation lets new ones in', async () => {
    const c = (await scim('POST', '/Users', newUser('dan'))).body;
    assert.equal((await api('POST', '/users/dan/password', ADMIN_AUTH, { password: 'dan-password-1' })).status, 200);
    const token = `Bearer ${(await api('POST', '/tokens', ADMIN_AUTH, { user: 'dan' })).body.token}`;
    const { session } = await formSignIn(gh.url, 'dan', 'dan-password-1');
    assert.ok(session);
    assert.equal(await meStatus({ authorization: token }), 200);
    assert.equal(await meStatus({ cookie: `gatehouse_session=${session}` }), 200);

    const off = await scim('PATCH', `/Users/${c.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.active, false);
    assert.equal(await meStatus({ authorization: token }), 401, 'the token stopped');
    assert.equal((await mlflowSearch({ authorization: token })).status, 401, 'for MLflow calls too');
    assert.equal(await meStatus({ cookie: `gatehouse_session=${session}` }), 401, 'the session ended');
    assert.equal((await api('GET', '/users/dan', ADMIN_AUTH)).body.disabled, true);

    const on = await scim('PATCH', `/Users/${c.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: true } }] });
    assert.equal(on.body.active, true);
    assert.equal(await meStatus({ authorization: token }), 200, 'its token works again (it was stopped, not revoked)');
    assert.equal(await meStatus({ cookie: `gatehouse_session=${session}` }), 401, 'the ended session stays ended');
  });

  test('a PUT without active keeps the state: a deprovisioned user is not re-enabled by omission', async () => {
    const c = (await scim('POST', '/Users', newUser('pia', { active: false }))).body;
    assert.equal(c.active, false, 'created inactive');
    const { active: _omitted, ...withoutActive } = newUser('pia', { displayName: 'Pia' });
    const put = await scim('PUT', `/Users/${c.id}`, withoutActive);
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.active, false);
    assert.equal((await api('GET', '/users/pia', ADMIN_AUTH)).body.disabled, true);
    const created = await scim('POST', '/Users', withoutActive.userName === 'pia' ? { ...withoutActive, userName: 'pia2' } : withoutActive);
    assert.equal(created.body.active, true, 'a new user without active is active (RFC 7643 leaves it to the provider; IdPs send it)');
  });

  test('other doors cannot change what SCIM manages (409 naming SCIM); the admin flag stays theirs', async () => {
    await scim('POST', '/Users', newUser('mia'));
    for (const [method, path, body] of [
      ['PATCH', '/users/mia', { disabled: true }],
      ['DELETE', '/users/mia', undefined],
    ] as const) {
      const r = await api(method, path, ADMIN_AUTH, body);
      assert.equal(r.status, 409, `${method} ${path}`);
      assert.equal(r.body.gatehouse_code, 'GATEHOUSE_ADMIN_MANAGED_BY_SCIM');
      assert.match(r.body.message, /SCIM/);
    }
    assert.equal((await api('GET', '/users/mia', ADMIN_AUTH)).body.disabled, false);
  });

  test('DELETE removes the user with its tokens and sessions', async () => {
    const c = (await scim('POST', '/Users', newUser('zed'))).body;
    const token = `Bearer ${(await api('POST', '/tokens', ADMIN_AUTH, { user: 'zed' })).body.token}`;
    assert.equal(await meStatus({ authorization: token }), 200);
    assert.equal((await scim('DELETE', `/Users/${c.id}`)).status, 204);
    assert.equal((await scim('GET', `/Users/${c.id}`)).status, 404);
    assert.equal((await api('GET', '/users/zed', ADMIN_AUTH)).status, 404);
    assert.equal(await meStatus({ authorization: token }), 401);
    assert.deepEqual((await api('GET', '/tokens?owner=zed', ADMIN_AUTH)).body.tokens, []);
  });
});

describe('groups', () => {
  test('a SCIM group is the user\'s group in the policy engine: a binding on it applies; membership changes by PATCH', async () => {
    const u = (await scim('POST', '/Users', newUser('gus'))).body;
    const token = `Bearer ${(await api('POST', '/tokens', ADMIN_AUTH, { user: 'gus' })).body.token}`;
    assert.equal((await mlflowSearch({ authorization: token })).status, 403, 'no grant yet');
    const g = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'ml-team', members: [{ value: u.id }] });
    assert.equal(g.status, 201, g.text);
    assert.deepEqual(g.body.members.map((m: { value: string }) => m.value), [u.id]);
    assert.equal((await mlflowSearch({ authorization: token })).status, 200, 'the binding on group ml-team applies');
    assert.deepEqual((await scim('GET', `/Users/${u.id}`)).body.groups.map((x: { display: string }) => x.display), ['ml-team']);
    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "ML-Team"')}`);
    assert.equal(byName.body.totalResults, 1);

    // Another door cannot change a SCIM group's members.
    const other = await api('POST', '/groups/ml-team/members', ADMIN_AUTH, { member: 'someone' });
    assert.equal(other.status, 409);
    assert.equal(other.body.gatehouse_code, 'GATEHOUSE_ADMIN_MANAGED_BY_SCIM');

    // Entra ID removes a member with a value filter in the path.
    const rm = await scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'Remove', path: `members[value eq "${u.id}"]` }] });
    assert.equal(rm.status, 200, rm.text);
    assert.deepEqual(rm.body.members, []);
    assert.equal((await mlflowSearch({ authorization: token })).status, 403, 'the binding no longer applies');
    // Okta adds members with an add on the members path.
    const add = await scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: u.id, display: 'gus' }] }] });
    assert.deepEqual(add.body.members.map((m: { value: string }) => m.value), [u.id]);
    assert.equal((await scim('DELETE', `/Groups/${g.body.id}`)).status, 204);
    assert.equal((await mlflowSearch({ authorization: token })).status, 403);
  });

  test('a displayName that is no Gatehouse group name (a space) is refused with 400 invalidValue, and nothing is made', async () => {
    const r = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'ML Team', members: [] });
    assert.equal(r.status, 400);
    assert.equal(r.body.scimType, 'invalidValue');
    assert.equal((await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "ML Team"')}`)).body.totalResults, 0);
  });

  test('a SCIM group named like an admin group gives nothing', async () => {
    const u = (await scim('POST', '/Users', newUser('ivy'))).body;
    assert.equal((await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'admin', members: [{ value: u.id }] })).status, 201);
    const token = `Bearer ${(await api('POST', '/tokens', ADMIN_AUTH, { user: 'ivy' })).body.token}`;
    const me = (await api('GET', '/me', token)).body;
    assert.equal(me.admin, false);
    assert.equal((await api('GET', '/users', token)).status, 403);
  });
});

describe('audit and health', () => {
  test('every change is an admin event with door scim and the token name as actor; health shows the last request and error', async () => {
    await waitFor('admin events stored', async () => (await adminEvents()).some((e) => e.door === 'scim'), 10_000);
    const events = (await adminEvents()).filter((e) => e.door === 'scim');
    assert.ok(events.length > 0);
    assert.deepEqual([...new Set(events.map((e) => e.actor.id))], ['entra']);
    for (const action of ['user.create', 'user.scim.create', 'user.update', 'user.delete', 'group.scim.create', 'group.member.add', 'group.member.remove']) {
      assert.ok(events.some((e) => e.action === action), action);
    }
    assert.ok(!JSON.stringify(await adminEvents()).includes('gth_sct_'), 'no SCIM token in admin events');
    await scim('GET', '/Users/nope');
    const h = (await api('GET', '/scim/health', ADMIN_AUTH)).body;
    assert.equal(h.enabled, true);
    assert.deepEqual([h.lastError.status, h.lastError.resource, h.lastError.client], [404, '/Users/{id}', 'entra']);
    assert.ok(h.counts.users.active > 0);
    assert.equal(h.counts.users.inactive, 1, 'pia, created inactive');
  });
});
