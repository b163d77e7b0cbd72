/**
 * The admin API (`/_gatehouse/api/v1`) against an in-process gateway in front of the recording
 * stub upstream (workspace tenancy): CRUD for each resource as an administrator, 401/403 for
 * others, `/me` and own tokens for everyone, a grant made through the API changing what a user
 * may do in MLflow, declared (config) entries being read-only, validation errors naming the
 * field, audit queries, "who can access this?", and the OpenAPI document matching the routes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, ADMIN_USER, basic, callJson, startInProcess, type InProcess, type JsonAnswer, mlflowStatus } from '../harness/gatehouse.ts';
import { jsonOk, startStub, type StubHandler, type StubUpstream } from '../harness/stub-upstream.ts';
import { waitFor } from '../harness/ports.ts';
import { hashPassword } from '../../src/identity/password.ts';
import { createSessionRepository } from '../../src/store/sessions.ts';
import { ownershipRepository } from '../../src/store/ownership.ts';
import { verifyFile } from '../../src/audit/verify.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const API = '/_gatehouse/api/v1';
const handler: StubHandler = (req, res, r) => {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/api/3.0/mlflow/server-info') return json(200, { workspaces_enabled: true });
  if (req.url === '/api/2.0/mlflow/experiments/get?experiment_id=7') return json(200, { experiment: { experiment_id: '7', name: 'team-a/churn' } });
  if (req.url === '/api/2.0/mlflow/experiments/get?experiment_id=404') return json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such experiment' });
  return jsonOk(req, res, r);
};

let stub: StubUpstream;
let gh: InProcess;
const BOB_PASSWORD = 'bob-password-123';
const bob = basic('bob', BOB_PASSWORD);

type Answer = JsonAnswer;

function api(method: string, path: string, auth: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return callJson(`${gh.url}${API}${path}`, method, { ...(auth && { authorization: auth }), ...headers }, body);
}

const mlflow = (method: string, path: string, auth: string, workspace: string, body?: unknown) => mlflowStatus(gh.url, method, path, auth, workspace, body);

before(async () => {
  stub = await startStub(handler);
  gh = await startInProcess(stub.url, {
    'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: FAST }],
    'audit.sinks': [{ type: 'store' }],
    tenants: [
      { name: 'team-a', defaultRole: 'viewer', members: { users: ['dora', 'gina'] } },
      { name: 'team-b', members: { users: [] } },
    ],
    groups: [{ name: 'auditors', members: ['erin'] }],
    bindings: [
      { role: 'contributor', group: 'ml-team', tenant: 'team-a' },
      { role: 'viewer', user: 'hank', tenant: 'team-a', experiment: { namePattern: 'team-a/*' } },
    ],
  });
  await gh.store.createUser({ username: 'bob', passwordHash: await hashPassword(BOB_PASSWORD, FAST), admin: false });
});
after(async () => {
  await gh.close();
  await stub.close();
});

describe('authentication and authorization', () => {
  test('anonymous callers get 401 with a challenge on admin and /me routes', async () => {
    for (const [method, path] of [['GET', '/users'], ['POST', '/tenants'], ['GET', '/me'], ['GET', '/audit'], ['GET', '/access?experiment_id=7']] as const) {
      const r = await api(method, path, undefined, method === 'POST' ? { name: 'x1' } : undefined);
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.body.error_code, 'UNAUTHENTICATED');
      assert.match(r.headers.get('www-authenticate') ?? '', /Basic/);
    }
  });

  test('a wrong password is 401, never a fall-through to anonymous', async () => {
    const r = await api('GET', '/me', basic('bob', 'not-the-password'));
    assert.equal(r.status, 401);
  });

  test('non-administrators get 403 on admin routes', async () => {
    for (const [method, path, body] of [
      ['GET', '/users', undefined],
      ['POST', '/users', { username: 'mallory' }],
      ['POST', '/grants', { role: 'admin', user: 'bob' }],
      ['GET', '/tokens', undefined],
      ['GET', '/sessions', undefined],
      ['POST', '/policy/explain', { principal: 'bob', op: 'experiments.get' }],
    ] as const) {
      const r = await api(method, path, bob, body);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.error_code, 'PERMISSION_DENIED');
    }
    assert.equal((await gh.store.findUserByName('mallory')), undefined);
    assert.equal((await api('GET', '/grants?user=bob', ADMIN_AUTH)).body.grants.length, 0);
  });

  test('/me shows a non-administrator its principal, tenants and effective roles', async () => {
    const dora = await gh.store.createUser({ username: 'dora', passwordHash: await hashPassword('dora-password-1', FAST), admin: false });
    const r = await api('GET', '/me', basic('dora', 'dora-password-1'));
    assert.equal(r.status, 200);
    assert.equal(r.body.principal.name, dora.username);
    assert.equal(r.body.principal.id, 'local:dora');
    assert.equal(r.body.admin, false);
    assert.deepEqual(r.body.tenants, ['team-a']);
    assert.deepEqual(r.body.roles, [{ role: 'viewer', scope: { kind: 'tenant', tenant: 'team-a' }, via: 'tenant-default-role' }]);
    const admin = await api('GET', '/me', ADMIN_AUTH);
    assert.equal(admin.body.admin, true);
    assert.deepEqual(admin.body.tenants, ['team-a', 'team-b']);
  });

  test('a state-changing call from a foreign origin is refused even with valid credentials', async () => {
    const r = await api('POST', '/tenants', ADMIN_AUTH, { name: 'evil' }, { origin: 'https://evil.example' });
    assert.equal(r.status, 403);
    assert.equal(r.body.gatehouse_code, 'GATEHOUSE_REQUEST_FOREIGN_ORIGIN');
    assert.equal((await api('GET', '/tenants', ADMIN_AUTH)).body.tenants.some((t: { name: string }) => t.name === 'evil'), false);
  });
});

describe('users', () => {
  test('create with a generated password (returned once), list without hashes, disable, set admin, delete', async () => {
    const created = await api('POST', '/users', ADMIN_AUTH, { username: 'carol' });
    assert.equal(created.status, 201);
    assert.equal(typeof created.body.password, 'string');
    const carol = basic('carol', created.body.password);
    assert.equal((await api('GET', '/me', carol)).status, 200);

    const list = await api('GET', '/users', ADMIN_AUTH);
    assert.ok(list.body.users.some((u: { username: string }) => u.username === 'carol'));
    assert.doesNotMatch(list.text, /passwordHash|password_hash|scrypt|\$/);
    assert.ok(!list.text.includes(created.body.password));
    const got = await api('GET', '/users/carol', ADMIN_AUTH);
    assert.deepEqual(got.body, { username: 'carol', admin: false, disabled: false, hasPassword: true });

    assert.equal((await api('PATCH', '/users/carol', ADMIN_AUTH, { admin: true })).body.admin, true);
    assert.equal((await api('GET', '/users', carol)).status, 200, 'an administrator now');
    assert.equal((await api('PATCH', '/users/carol', ADMIN_AUTH, { admin: false })).body.admin, false);
    assert.equal((await api('GET', '/users', carol)).status, 403);

    const disabled = await api('PATCH', '/users/carol', ADMIN_AUTH, { disabled: true });
    assert.equal(disabled.body.disabled, true);
    assert.equal((await api('GET', '/me', carol)).status, 401, 'disabled at once');

    assert.equal((await api('DELETE', '/users/carol', ADMIN_AUTH)).status, 204);
    assert.equal((await api('GET', '/users/carol', ADMIN_AUTH)).status, 404);
    assert.equal((await api('DELETE', '/users/carol', ADMIN_AUTH)).status, 404);
  });

  test('create with a given password: it is not echoed back', async () => {
    const r = await api('POST', '/users', ADMIN_AUTH, { username: 'ivan', password: 'ivan-password-123' });
    assert.equal(r.status, 201);
    assert.equal(r.body.password, undefined);
    assert.ok(!r.text.includes('ivan-password-123'));
    assert.equal((await api('GET', '/me', basic('ivan', 'ivan-password-123'))).status, 200);
    assert.equal((await api('POST', '/users', ADMIN_AUTH, { username: 'ivan' })).status, 409);
  });

  test('the last enabled administrator cannot be demoted, disabled or deleted', async () => {
    for (const [method, body] of [['PATCH', { admin: false }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
      const r = await api(method, `/users/${ADMIN_USER}`, ADMIN_AUTH, body);
      assert.equal(r.status, 409, `${method} ${JSON.stringify(body)}`);
      assert.equal(r.body.error_code, 'RESOURCE_CONFLICT');
    }
    assert.equal((await api('GET', '/me', ADMIN_AUTH)).body.admin, true);
  });

  test('validation errors name the field', async () => {
    const r = await api('POST', '/users', ADMIN_AUTH, { username: 'has space', admin: 'yes' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
    assert.deepEqual(r.body.details.map((d: { path: string }) => d.path).sort(), ['admin', 'username']);
    const weak = await api('POST', '/users', ADMIN_AUTH, { username: 'weak', password: 'x' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.details[0].path, 'password');
    const extra = await api('POST', '/users', ADMIN_AUTH, { username: 'extra', isAdmin: true });
    assert.equal(extra.status, 400);
    assert.match(extra.body.message, /isAdmin/);
    const badJson = await fetch(`${gh.url}${API}/users`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: '{"username":' });
    assert.equal(badJson.status, 400);
    assert.equal(((await badJson.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
  });

  test("Fastify's own refusals keep their statuses and carry registry codes from the one writer", async () => {
    const post = (contentType: string, body: string) =>
      fetch(`${gh.url}${API}/users`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': contentType }, body });
    const cases: [string, Response, number, string, string][] = [
      ['not JSON', await post('application/json', '{"username":'), 400, 'INVALID_PARAMETER_VALUE', 'GATEHOUSE_HTTP_BAD_BODY'],
      ['too large', await post('application/json', JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024) })), 413, 'RESOURCE_EXHAUSTED', 'GATEHOUSE_HTTP_BODY_TOO_LARGE'],
      ['not a media type it reads', await post('application/xml', '<user/>'), 415, 'INVALID_PARAMETER_VALUE', 'GATEHOUSE_HTTP_UNSUPPORTED_MEDIA_TYPE'],
      ['no such endpoint', await fetch(`${gh.url}${API}/no-such-thing`, { headers: { authorization: ADMIN_AUTH } }), 404, 'ENDPOINT_NOT_FOUND', 'GATEHOUSE_ADMIN_ENDPOINT_NOT_FOUND'],
    ];
    for (const [what, r, status, errorCode, code] of cases) {
      const body = (await r.json()) as { error_code: string; gatehouse_code: string; message: string };
      assert.deepEqual([r.status, body.error_code, body.gatehouse_code], [status, errorCode, code], what);
      assert.equal(r.headers.get('cache-control'), 'no-store', what);
      assert.ok(body.message.length > 0, what);
    }
  });
});

describe('service accounts and tokens', () => {
  test('a service account token is shown once, works, is listed without its secret, and stops working when revoked', async () => {
    assert.equal((await api('POST', '/service-accounts', ADMIN_AUTH, { name: 'ci', description: 'CI jobs' })).status, 201);
    assert.equal((await api('POST', '/service-accounts', ADMIN_AUTH, { name: 'ci' })).status, 409);
    const listed = await api('GET', '/service-accounts', ADMIN_AUTH);
    assert.deepEqual(listed.body.serviceAccounts.map((s: { name: string }) => s.name), ['ci']);

    const created = await api('POST', '/tokens', ADMIN_AUTH, { serviceAccount: 'ci', tenant: 'team-a', maxRole: 'viewer', expiresInDays: 30 });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^gth_sat_/);
    assert.equal(created.body.status, 'active');
    const bearer = `Bearer ${created.body.token}`;
    const me = await api('GET', '/me', bearer);
    assert.equal(me.status, 200);
    assert.equal(me.body.principal.kind, 'service_account');
    assert.deepEqual(me.body.principal.restrict, { tenant: 'team-a', maxRole: 'viewer' });

    const tokens = await api('GET', '/tokens?owner=ci', ADMIN_AUTH);
    assert.equal(tokens.body.tokens.length, 1);
    assert.ok(!tokens.text.includes(created.body.token.slice(21)), 'no secret in the list');
    assert.doesNotMatch(tokens.text, /secret|hash/i);

    assert.equal((await api('PATCH', '/service-accounts/ci', ADMIN_AUTH, { disabled: true })).body.disabled, true);
    assert.equal((await api('GET', '/me', bearer)).status, 401);
    assert.equal((await api('PATCH', '/service-accounts/ci', ADMIN_AUTH, { disabled: false })).body.disabled, false);
    assert.equal((await api('GET', '/me', bearer)).status, 200);

    assert.equal((await api('DELETE', `/tokens/${created.body.id}`, ADMIN_AUTH)).status, 204);
    assert.equal((await api('GET', '/me', bearer)).status, 401);
    assert.equal((await api('GET', '/tokens?owner=ci', ADMIN_AUTH)).body.tokens[0].status, 'revoked');
    assert.equal((await api('DELETE', '/tokens/000000000000', ADMIN_AUTH)).status, 404);
  });

  test('token validation names the field', async () => {
    const r = await api('POST', '/tokens', ADMIN_AUTH, { user: 'bob', tenant: 'no-such-tenant', expiresInDays: 0 });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details.map((d: { path: string }) => d.path), ['expiresInDays']);
    const tenant = await api('POST', '/tokens', ADMIN_AUTH, { user: 'bob', tenant: 'no-such-tenant' });
    assert.equal(tenant.status, 400);
    assert.equal(tenant.body.details[0].path, 'tenant');
    const both = await api('POST', '/tokens', ADMIN_AUTH, { user: 'bob', serviceAccount: 'ci' });
    assert.equal(both.status, 400);
    assert.equal(both.body.details[0].path, 'user');
  });

  test('a non-administrator manages its own personal tokens, and only those', async () => {
    const others = await api('POST', '/tokens', ADMIN_AUTH, { user: ADMIN_USER, description: 'admin token' });
    const mine = await api('POST', '/me/tokens', bob, { description: 'laptop' });
    assert.equal(mine.status, 201);
    assert.match(mine.body.token, /^gth_pat_/);
    assert.equal(mine.body.owner, 'bob');
    const bobToken = `Bearer ${mine.body.token}`;
    assert.equal((await api('GET', '/me', bobToken)).body.principal.name, 'bob');

    const list = await api('GET', '/me/tokens', bob);
    assert.deepEqual(list.body.tokens.map((t: { id: string }) => t.id), [mine.body.id]);
    assert.ok(!list.text.includes(mine.body.token));

    assert.equal((await api('DELETE', `/me/tokens/${others.body.id}`, bob)).status, 404, "another user's token");
    assert.equal((await api('GET', '/me', `Bearer ${others.body.token}`)).status, 200, 'still valid');

    // A narrowed token cannot mint an unnarrowed one.
    const narrowed = await api('POST', '/me/tokens', bob, { tenant: 'team-a', maxRole: 'viewer' });
    assert.equal((await api('POST', '/me/tokens', `Bearer ${narrowed.body.token}`, {})).status, 403);

    assert.equal((await api('DELETE', `/me/tokens/${mine.body.id}`, bob)).status, 204);
    assert.equal((await api('GET', '/me', bobToken)).status, 401);
    assert.equal((await api('GET', '/tokens', bob)).status, 403);
  });
});

describe('tenants, groups, roles', () => {
  test('tenants: create, list with their source, members, delete; declared tenants are read-only', async () => {
    const created = await api('POST', '/tenants', ADMIN_AUTH, { name: 'team-c', defaultRole: 'viewer' });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { name: 'team-c', defaultRole: 'viewer', members: { users: [], groups: [] }, source: 'api' });
    assert.equal((await api('POST', '/tenants', ADMIN_AUTH, { name: 'team-c' })).status, 409);
    const list = await api('GET', '/tenants', ADMIN_AUTH);
    assert.deepEqual(list.body.tenants.map((t: { name: string; source: string }) => `${t.name}:${t.source}`), ['team-a:config', 'team-b:config', 'team-c:api']);

    const added = await api('POST', '/tenants/team-c/members', ADMIN_AUTH, { group: 'data' });
    assert.deepEqual(added.body.members, { users: [], groups: ['data'] });
    assert.equal((await api('DELETE', '/tenants/team-c/members/group/data', ADMIN_AUTH)).status, 204);

    const declaredDelete = await api('DELETE', '/tenants/team-a', ADMIN_AUTH);
    assert.equal(declaredDelete.status, 409);
    assert.equal(declaredDelete.body.gatehouse_code, 'GATEHOUSE_ADMIN_DECLARED');
    assert.equal((await api('POST', '/tenants/team-a/members', ADMIN_AUTH, { user: 'bob' })).status, 409);
    assert.equal((await api('POST', '/tenants', ADMIN_AUTH, { name: 'team-a' })).body.gatehouse_code, 'GATEHOUSE_ADMIN_DECLARED');

    const bad = await api('POST', '/tenants', ADMIN_AUTH, { name: 'Team_C', defaultRole: 'nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'name');
    const badRole = await api('POST', '/tenants', ADMIN_AUTH, { name: 'team-d', defaultRole: 'nope' });
    assert.equal(badRole.status, 400);
    assert.equal(badRole.body.details[0].path, 'defaultRole');

    assert.equal((await api('DELETE', '/tenants/team-c', ADMIN_AUTH)).status, 204);
    assert.equal((await api('DELETE', '/tenants/team-c', ADMIN_AUTH)).status, 404);
  });

  test('the tenant list shows who is in each tenant through grants and through groups', async () => {
    assert.equal((await api('POST', '/tenants', ADMIN_AUTH, { name: 'team-e' })).status, 201);
    const grants = [
      await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', user: 'bob', tenant: 'team-e' }),
      await api('POST', '/grants', ADMIN_AUTH, { role: 'contributor', group: 'analysts', tenant: 'team-e', experiment: { id: '4' } }),
      await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', serviceAccount: 'ci', tenant: 'team-e' }),
      // A deny makes nobody a member; a grant in another tenant neither.
      await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', effect: 'deny', user: 'frank', tenant: 'team-e' }),
      await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', user: 'gina', tenant: 'team-b' }),
    ];
    for (const g of grants) assert.equal(g.status, 201, g.text);
    assert.equal((await api('POST', '/tenants/team-e/members', ADMIN_AUTH, { group: 'auditors' })).status, 200);
    const entry = (await api('GET', '/tenants', ADMIN_AUTH)).body.tenants.find((t: { name: string }) => t.name === 'team-e');
    assert.deepEqual(entry.members, { users: [], groups: ['auditors'] });
    assert.deepEqual(entry.access, { users: ['bob'], groups: ['analysts'], serviceAccounts: ['ci'], groupMembers: ['erin'] });
    // Each of them is indeed in the tenant, as the gateway sees it.
    assert.ok((await api('GET', '/me', bob)).body.tenants.includes('team-e'));
    for (const g of grants) assert.equal((await api('DELETE', `/grants/${g.body.id}`, ADMIN_AUTH)).status, 204);
    assert.equal((await api('DELETE', '/tenants/team-e', ADMIN_AUTH)).status, 204);
  });

  test('groups: add and remove members; declared groups are read-only', async () => {
    const added = await api('POST', '/groups/analysts/members', ADMIN_AUTH, { member: 'bob' });
    assert.deepEqual(added.body, { name: 'analysts', members: ['bob'], source: 'api' });
    const list = await api('GET', '/groups', ADMIN_AUTH);
    assert.deepEqual(list.body.groups, [
      { name: 'auditors', members: ['erin'], source: 'config' },
      { name: 'analysts', members: ['bob'], source: 'api' },
    ]);
    assert.deepEqual((await api('GET', '/me', bob)).body.principal.groups, ['analysts']);
    assert.equal((await api('POST', '/groups/auditors/members', ADMIN_AUTH, { member: 'bob' })).status, 409);
    assert.equal((await api('DELETE', '/groups/auditors/members/erin', ADMIN_AUTH)).status, 409);
    assert.equal((await api('DELETE', '/groups/analysts/members/bob', ADMIN_AUTH)).status, 204);
    assert.equal((await api('GET', '/groups/analysts', ADMIN_AUTH)).status, 404);
  });

  test('roles: add a custom role, refuse built-in ones, remove it while unused', async () => {
    const role = { name: 'tagger', description: 'tags runs', levels: { experiment: 'READ' }, operations: ['runs.setTag'] };
    const created = await api('POST', '/roles', ADMIN_AUTH, role);
    assert.equal(created.status, 201);
    assert.equal(created.body.source, 'api');
    const list = await api('GET', '/roles', ADMIN_AUTH);
    assert.deepEqual(list.body.roles.map((r: { name: string; source: string }) => `${r.name}:${r.source}`), ['viewer:built-in', 'contributor:built-in', 'model-approver:built-in', 'admin:built-in', 'tagger:api']);
    const grant = await api('POST', '/grants', ADMIN_AUTH, { role: 'tagger', user: 'bob', tenant: 'team-b' });
    // Editing a custom role changes what its grants allow at once.
    const canCreate = async () => (await api('POST', '/policy/explain', ADMIN_AUTH, { principal: 'bob', op: 'runs.create', tenant: 'team-b', experimentId: '2' })).body.effect;
    assert.equal(await canCreate(), 'deny');
    const edited = await api('PUT', '/roles/tagger', ADMIN_AUTH, { ...role, levels: { experiment: 'EDIT' } });
    assert.equal(edited.status, 200, edited.text);
    assert.deepEqual(edited.body, { ...role, levels: { experiment: 'EDIT' }, create: [], admin: false, source: 'api' });
    assert.equal(await canCreate(), 'allow');
    assert.equal((await api('PUT', '/roles/tagger', ADMIN_AUTH, { ...role, name: 'other' })).body.details[0].path, 'name');
    assert.equal((await api('PUT', '/roles/viewer', ADMIN_AUTH, { name: 'viewer', levels: { experiment: 'EDIT' } })).status, 409);
    assert.equal((await api('PUT', '/roles/nope', ADMIN_AUTH, { name: 'nope' })).status, 404);
    const inUse = await api('DELETE', '/roles/tagger', ADMIN_AUTH);
    assert.equal(inUse.status, 409);
    assert.match(inUse.body.message, /unknown role tagger/);
    assert.equal((await api('DELETE', `/grants/${grant.body.id}`, ADMIN_AUTH)).status, 204);
    assert.equal((await api('DELETE', '/roles/tagger', ADMIN_AUTH)).status, 204);
    assert.equal((await api('DELETE', '/roles/viewer', ADMIN_AUTH)).status, 409);
    const bad = await api('POST', '/roles', ADMIN_AUTH, { name: 'x', levels: { experiment: 'OWNER' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'levels.experiment');
  });
});

describe('grants', () => {
  test('a grant made through the API changes what the user may do in MLflow at once, and its removal takes it back', async () => {
    const get = '/api/2.0/mlflow/experiments/get?experiment_id=1';
    const before = stub.requests.length;
    assert.equal(await mlflow('GET', get, bob, 'team-b'), 403);
    assert.equal(stub.requests.slice(before).filter((r) => r.url === get).length, 0, 'nothing forwarded');

    const grant = await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', user: 'bob', tenant: 'team-b' });
    assert.equal(grant.status, 201);
    assert.match(grant.body.id, /^api:/);
    assert.equal(grant.body.source, 'api');
    assert.equal(grant.body.createdBy, 'local:admin');
    assert.equal(await mlflow('GET', get, bob, 'team-b'), 200);
    const forwarded = stub.requests.slice(before).filter((r) => r.url === get);
    assert.equal(forwarded.length, 1);
    assert.equal(forwarded[0]!.headers['x-mlflow-workspace'], 'team-b');
    assert.equal(await mlflow('POST', '/api/2.0/mlflow/experiments/delete', bob, 'team-b', { experiment_id: '1' }), 403, 'a viewer cannot write');

    assert.deepEqual((await api('GET', `/grants/${grant.body.id}`, ADMIN_AUTH)).body, grant.body);
    assert.equal((await api('DELETE', `/grants/${grant.body.id}`, ADMIN_AUTH)).status, 204);
    assert.equal(await mlflow('GET', get, bob, 'team-b'), 403);
  });

  test('declared grants are listed as config and cannot be deleted or overridden', async () => {
    const list = await api('GET', '/grants?source=config', ADMIN_AUTH);
    assert.deepEqual(list.body.grants[0], { id: 'config:0', role: 'contributor', effect: 'allow', group: 'ml-team', tenant: 'team-a', source: 'config' });
    const del = await api('DELETE', '/grants/config:0', ADMIN_AUTH);
    assert.equal(del.status, 409);
    assert.equal(del.body.gatehouse_code, 'GATEHOUSE_ADMIN_DECLARED');
    const override = await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', group: 'ml-team', tenant: 'team-a' });
    assert.equal(override.status, 409);
    assert.equal(override.body.gatehouse_code, 'GATEHOUSE_ADMIN_DECLARED');
    const deny = await api('POST', '/grants', ADMIN_AUTH, { role: 'contributor', group: 'ml-team', tenant: 'team-a', effect: 'deny' });
    assert.equal(deny.status, 409, 'a deny at the same scope would silently override it too');
    assert.equal((await api('GET', '/grants?group=ml-team', ADMIN_AUTH)).body.grants.length, 1);
    assert.equal((await api('DELETE', '/grants/api:00000000-0000-0000-0000-000000000000', ADMIN_AUTH)).status, 404);
  });

  test('grant validation names the field', async () => {
    const cases: [unknown, string][] = [
      [{ role: 'viewer', user: 'bob', tenant: 'Bad_Name' }, 'tenant'],
      [{ role: 'no-such-role', user: 'bob', tenant: 'team-b' }, 'role'],
      [{ role: 'viewer', user: 'bob', tenant: 'no-such-tenant' }, 'tenant'],
      [{ role: 'viewer', user: 'bob', experiment: { id: 'abc' } }, 'experiment.id'],
      [{ role: 'viewer', user: 'bob', effect: 'maybe' }, 'effect'],
    ];
    for (const [body, path] of cases) {
      const r = await api('POST', '/grants', ADMIN_AUTH, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.ok(r.body.details.some((d: { path: string }) => d.path === path), `${JSON.stringify(body)} → ${JSON.stringify(r.body.details)}`);
    }
    const noSubject = await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', tenant: 'team-b' });
    assert.equal(noSubject.status, 400);
    assert.match(noSubject.body.message, /user, group, serviceAccount/);
  });
});

describe('sessions', () => {
  test('a session cookie authenticates, state changes need a same-origin Origin, and an admin can list and revoke it', async () => {
    const sessions = createSessionRepository(gh.store.db, { idleMs: 60_000, absoluteMs: 3_600_000, pendingMs: 60_000 }, Date.now);
    const principal = { id: 'local:bob', kind: 'user' as const, name: 'bob', groups: [], tenants: [], roles: [], admin: false, method: 'basic', provider: 'local' };
    const id = await sessions.create('user', { csrf: 'x' }, principal);
    const cookie = { cookie: `gatehouse_session=${id}` };

    assert.equal((await api('GET', '/me', undefined, undefined, cookie)).body.principal.name, 'bob');
    const noOrigin = await api('POST', '/me/tokens', undefined, {}, cookie);
    assert.equal(noOrigin.status, 401, 'cookie without Origin on a state change');
    const sameOrigin = await api('POST', '/me/tokens', undefined, {}, { ...cookie, origin: gh.url });
    assert.equal(sameOrigin.status, 201);

    const listed = await api('GET', '/sessions?user=bob', ADMIN_AUTH);
    assert.equal(listed.body.sessions.length, 1);
    assert.equal(listed.body.sessions[0].principal.id, 'local:bob');
    assert.ok(!listed.text.includes(id), 'the cookie value is never listed');
    assert.equal((await api('DELETE', `/sessions/${listed.body.sessions[0].handle}`, ADMIN_AUTH)).status, 204);
    assert.equal((await api('GET', '/me', undefined, undefined, cookie)).status, 401);
    assert.equal((await api('GET', '/sessions?user=bob', ADMIN_AUTH)).body.sessions.length, 0);
    assert.equal((await api('DELETE', `/sessions/${listed.body.sessions[0].handle}`, ADMIN_AUTH)).status, 404);
  });
});

describe('audit', () => {
  test('query filters by principal, tenant, operation and decision, pages with a cursor, and exports JSON Lines', async () => {
    await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', user: 'bob', tenant: 'team-b' });
    assert.equal(await mlflow('GET', '/api/2.0/mlflow/experiments/get?experiment_id=2', bob, 'team-b'), 200);
    assert.equal(await mlflow('GET', '/api/2.0/mlflow/experiments/get?experiment_id=3', bob, 'team-b'), 200);
    assert.equal(await mlflow('POST', '/api/2.0/mlflow/experiments/delete', bob, 'team-b', { experiment_id: '1' }), 403);
    await waitFor('audit events stored', async () => (await api('GET', '/audit?principal=local:bob&decision=deny&operation=experiments.delete', ADMIN_AUTH)).body.events.length > 0, 10_000);

    const denied = await api('GET', '/audit?principal=local:bob&decision=deny', ADMIN_AUTH);
    assert.ok(denied.body.events.length >= 1);
    for (const e of denied.body.events) {
      assert.equal(e.principal.id, 'local:bob');
      assert.equal(e.decision.effect, 'deny');
    }
    const reads = await api('GET', '/audit?principal=local:bob&tenant=team-b&operation=experiments.get&decision=allow', ADMIN_AUTH);
    const phases = reads.body.events.filter((e: { phase: string }) => e.phase !== 'pending');
    assert.ok(phases.length >= 2);
    for (const e of reads.body.events) assert.equal(e.operation, 'experiments.get');

    const first = await api('GET', '/audit?principal=local:bob&limit=1', ADMIN_AUTH);
    assert.equal(first.body.events.length, 1);
    assert.equal(typeof first.body.nextCursor, 'string');
    const second = await api('GET', `/audit?principal=local:bob&limit=1&cursor=${first.body.nextCursor}`, ADMIN_AUTH);
    assert.ok(second.body.events[0].seq > first.body.events[0].seq);

    const badCursor = await api('GET', '/audit?cursor=nonsense', ADMIN_AUTH);
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.body.details[0].path, 'cursor');
    const badTime = await api('GET', '/audit?from=yesterday', ADMIN_AUTH);
    assert.equal(badTime.status, 400);
    assert.equal(badTime.body.details[0].path, 'from');
    const deniedOutcome = await api('GET', '/audit?principal=local:bob&outcome=denied', ADMIN_AUTH);
    assert.equal(deniedOutcome.status, 200, deniedOutcome.text);
    assert.deepEqual(
      deniedOutcome.body.events.map((e: { outcome: string; decision: { effect: string } }) => [e.outcome, e.decision.effect]),
      denied.body.events.map(() => ['denied', 'deny']),
      'the outcome filter finds the denials',
    );
    const badOutcome = await api('GET', '/audit?outcome=ok', ADMIN_AUTH);
    assert.equal(badOutcome.status, 400);
    assert.equal(badOutcome.body.details[0].path, 'outcome');
    const badDecision = await api('GET', '/audit?decision=maybe', ADMIN_AUTH);
    assert.equal(badDecision.body.details[0].path, 'decision');

    const exported = await api('GET', '/audit/export', ADMIN_AUTH);
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = exported.text.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string });
    assert.ok(lines.length >= 3);
    lines.forEach((e, i) => i > 0 && assert.ok(e.seq > lines[i - 1]!.seq, 'chain order'));
    assert.doesNotMatch(exported.text, new RegExp(BOB_PASSWORD));
    const file = join(gh.dataDir, 'export.jsonl');
    writeFileSync(file, exported.text);
    const verified = await verifyFile(file);
    assert.equal(verified.ok, true, JSON.stringify(verified.problems));
    assert.equal(verified.events, lines.length);
  });
});

describe('policy explain and who can access', () => {
  test('explain gives the decision with reasons and bindings; an unknown op names the field', async () => {
    const r = await api('POST', '/policy/explain', ADMIN_AUTH, { principal: 'frank', groups: ['ml-team'], op: 'runs.logMetric', tenant: 'team-a', experimentId: '7' });
    assert.equal(r.status, 200);
    assert.equal(r.body.effect, 'allow');
    assert.deepEqual(r.body.reasons, ['role-binding']);
    assert.deepEqual(r.body.matchedBindings, ['config:0']);
    assert.equal(r.body.bindings[0].role, 'contributor');
    const no = await api('POST', '/policy/explain', ADMIN_AUTH, { principal: 'nobody', op: 'runs.logMetric', tenant: 'team-a' });
    assert.equal(no.body.effect, 'deny');
    assert.deepEqual(no.body.reasons, ['not-member']);
    const bad = await api('POST', '/policy/explain', ADMIN_AUTH, { principal: 'x', op: 'runs.fly' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, 'op');
  });

  test('who can access an experiment: admins, a group grant, a user grant, a name-pattern grant, the default role, the creator — each with why', async () => {
    const grant = await api('POST', '/grants', ADMIN_AUTH, { role: 'contributor', user: 'frank', tenant: 'team-a', experiment: { id: '7' } });
    await ownershipRepository(gh.store.db).record({ tenant: 'team-a', kind: 'experiment', resource: '7', principalId: 'local:gina' });
    const r = await api('GET', '/access?experiment_id=7&tenant=team-a', ADMIN_AUTH);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.resource, { type: 'experiment', tenant: 'team-a', experimentId: '7', experimentName: 'team-a/churn' });
    const entry = (kind: string, name: string) => r.body.entries.find((e: { subject: { kind: string; name: string } }) => e.subject.kind === kind && e.subject.name === name);
    const reasons = (e: { reasons: { id: string }[] }) => e.reasons.map((x) => x.id);

    const admin = entry('user', ADMIN_USER);
    assert.equal(admin.level, 'MANAGE');
    assert.deepEqual(reasons(admin), ['platform-admin']);
    assert.equal(admin.platformAdmin, 'store');

    const group = entry('group', 'ml-team');
    assert.equal(group.level, 'EDIT');
    assert.deepEqual(reasons(group), ['role-binding']);
    assert.deepEqual(group.decidingBindings, ['config:0']);
    assert.equal(group.bindings[0].source, 'config');

    const frank = entry('user', 'frank');
    assert.equal(frank.level, 'EDIT');
    assert.deepEqual(frank.decidingBindings, [grant.body.id]);
    assert.equal(frank.bindings[0].source, 'api');

    const hank = entry('user', 'hank');
    assert.equal(hank.level, 'READ', 'the name pattern matched the name looked up in MLflow');
    assert.deepEqual(hank.decidingBindings, ['config:1']);

    const members = entry('tenant-members', 'team-a');
    assert.equal(members.level, 'READ');
    assert.deepEqual(reasons(members), ['tenant-default-role']);
    assert.equal(members.defaultRole, 'viewer');

    const gina = entry('user', 'gina');
    assert.equal(gina.level, 'MANAGE');
    assert.deepEqual(reasons(gina), ['owner']);
    assert.equal(gina.creator, 'local:gina');

    assert.equal(entry('user', 'bob'), undefined, 'bob has nothing in team-a');
    for (const e of r.body.entries) assert.ok(e.reasons.every((x: { text: string }) => x.text.length > 0));

    // An identity (an IdP subject) is listed by its id, apart from the local user of the same name.
    const byIdentity = await api('POST', '/grants', ADMIN_AUTH, { role: 'viewer', user: 'corp:frank', tenant: 'team-a', experiment: { id: '7' } });
    assert.equal(byIdentity.status, 201, byIdentity.text);
    const before = await api('GET', '/access?experiment_id=7&tenant=team-a', ADMIN_AUTH);
    const listed = (r: typeof before, name: string) => r.body.entries.find((e: { subject: { kind: string; name: string } }) => e.subject.kind === 'user' && e.subject.name === name);
    assert.equal(listed(before, 'corp:frank').level, 'READ');
    assert.deepEqual(listed(before, 'corp:frank').decidingBindings, [byIdentity.body.id]);
    assert.equal(listed(before, 'frank').level, 'EDIT', 'the local frank keeps his own grant, and only his');
    assert.deepEqual(listed(before, 'frank').decidingBindings, [grant.body.id]);
    // A creator from an IdP is listed by its identity, never as the local user of its name.
    await ownershipRepository(gh.store.db).record({ tenant: 'team-a', kind: 'experiment', resource: '7', principalId: 'corp:frank' });
    const after = await api('GET', '/access?experiment_id=7&tenant=team-a', ADMIN_AUTH);
    assert.equal(listed(after, 'corp:frank').level, 'MANAGE');
    assert.equal(listed(after, 'corp:frank').creator, 'corp:frank');
    assert.equal(listed(after, 'frank').level, 'EDIT');
    assert.equal(listed(after, 'frank').creator, undefined);
    // Explain names them the same way: the identity gets its viewer grant, the local frank his contributor grant.
    const explain = (principal: string, op: string) => api('POST', '/policy/explain', ADMIN_AUTH, { principal, op, tenant: 'team-a', experimentId: '7' });
    assert.deepEqual((await explain('corp:frank', 'runs.get')).body.matchedBindings, [byIdentity.body.id]);
    assert.equal((await explain('corp:frank', 'runs.logMetric')).body.effect, 'deny');
    assert.deepEqual((await explain('frank', 'runs.logMetric')).body.matchedBindings, [grant.body.id]);
    await api('DELETE', `/grants/${byIdentity.body.id}`, ADMIN_AUTH);
    await ownershipRepository(gh.store.db).record({ tenant: 'team-a', kind: 'experiment', resource: '7', principalId: 'local:gina' });

    // A registered model: experiment grants do not reach it; a missing experiment is 404.
    const model = await api('GET', '/access?registered_model=churn-model&tenant=team-a', ADMIN_AUTH);
    const inModel = (name: string) => model.body.entries.find((e: { subject: { name: string } }) => e.subject.name === name);
    assert.equal(inModel('ml-team').level, 'EDIT');
    // frank's and hank's experiment grants make them members of team-a: the default role is all they hold on models.
    for (const name of ['frank', 'hank']) {
      assert.equal(inModel(name).level, 'READ');
      assert.deepEqual(reasons(inModel(name)), ['tenant-default-role']);
      assert.deepEqual(inModel(name).bindings, []);
    }
    assert.equal((await api('GET', '/access?experiment_id=404&tenant=team-a', ADMIN_AUTH)).status, 404);
  });

  test('who can access, when MLflow answers the experiment lookup with something not JSON: 503 unresolvable, not an internal error', async () => {
    stub.handler = (req, res, r) =>
      req.url!.includes('/experiments/get?experiment_id=7') ? void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>') : handler(req, res, r);
    try {
      const r = await api('GET', '/access?experiment_id=7&tenant=team-a', ADMIN_AUTH);
      assert.equal(r.status, 503, r.text);
      assert.equal(r.body.gatehouse_code, 'GATEHOUSE_RESOURCE_UNRESOLVABLE', r.text);
    } finally {
      stub.handler = handler;
    }
  });

  test('who-can-access validation names the field', async () => {
    const none = await api('GET', '/access', ADMIN_AUTH);
    assert.equal(none.status, 400);
    assert.equal(none.body.details[0].path, 'experiment_id');
    const tenant = await api('GET', '/access?experiment_id=7', ADMIN_AUTH);
    assert.equal(tenant.status, 400);
    assert.equal(tenant.body.details[0].path, 'tenant');
    const unknown = await api('GET', '/access?experiment_id=7&tenant=nope', ADMIN_AUTH);
    assert.equal(unknown.body.details[0].path, 'tenant');
  });
});

describe('OpenAPI document', () => {
  /** Every (method, path) Fastify serves under the API prefix, from its own route tree. */
  function servedRoutes(): Set<string> {
    const tree = gh.server.app.printRoutes({ commonPrefix: false });
    const stack: string[] = [];
    const served = new Set<string>();
    for (const line of tree.split('\n')) {
      const m = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
      if (!m) continue;
      const depth = m[1]!.length / 4;
      stack.length = depth;
      stack.push(m[2]!);
      const path = stack.join('');
      if (!path.startsWith(API)) continue;
      for (const method of m[3]!.split(', ')) if (method !== 'HEAD') served.add(`${method} ${path.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
    }
    return served;
  }

  test('every served route is documented and every documented route is served', async () => {
    const r = await api('GET', '/openapi.json', undefined);
    assert.equal(r.status, 200);
    const doc = r.body as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const served = servedRoutes();
    assert.ok(served.size >= 30, `found ${served.size} served routes`);
    assert.deepEqual([...served].filter((x) => !documented.has(x)), [], 'served but not documented');
    assert.deepEqual([...documented].filter((x) => !served.has(x)), [], 'documented but not served');
  });

  test('the document has the basic shape of OpenAPI 3.1', async () => {
    const doc = (await api('GET', '/openapi.json', undefined)).body;
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.ok(doc.components.securitySchemes.basic && doc.components.securitySchemes.bearer && doc.components.securitySchemes.session);
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) { // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.match(path, /^\/_gatehouse\/api\/v1\//);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method), method);
        assert.equal(typeof op.operationId, 'string');
        assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
        ids.add(op.operationId);
        assert.equal(typeof op.summary, 'string');
        assert.ok(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), `${method} ${path}: a success response`);
        const pathParams = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name);
        assert.deepEqual(pathParams, templated, `${method} ${path}: path parameters`);
        for (const p of op.parameters ?? []) assert.ok(['path', 'query'].includes(p.in) && typeof p.name === 'string' && typeof p.schema === 'object');
        if (op.requestBody) assert.equal(op.requestBody.content['application/json'].schema.type, 'object', `${method} ${path}: body schema`);
      }
    }
    // The body schema is the zod schema the route validates with.
    const grant = doc.paths['/_gatehouse/api/v1/grants'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(Object.keys(grant.properties).sort(), ['effect', 'experiment', 'group', 'model', 'role', 'serviceAccount', 'tenant', 'user']);
    assert.deepEqual(grant.required, ['role']);
    const audit = doc.paths['/_gatehouse/api/v1/audit'].get.parameters.map((p: { name: string }) => p.name);
    assert.deepEqual(audit, ['from', 'to', 'type', 'principal', 'tenant', 'operation', 'decision', 'outcome', 'target', 'door', 'cursor', 'limit']);
  });
});
