/**
 * A sign-in reaches the SCIM-provisioned user (issue 22): `scim.identityProvider: corp` with
 * `subjectAttribute: externalId` and `requireProvisioned: true`, a real OpenID provider
 * (test/harness/oidc-idp.ts) behind both a bearer provider and the login page (one id, `corp`,
 * `link: subject`). The SCIM door links each user to `corp:<externalId>`; the IdP's bearer JWT
 * and its browser session are then that user, and stop at once when SCIM deactivates the user
 * (`linked-user-disabled`) or deletes it (`identity-not-provisioned`: the link went with the user,
 * and an unlinked sign-in of corp is refused) — while the JWT itself is still valid at the IdP.
 * Changing the externalId moves the link. Config problems are listed at start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_AUTH, callJson, startInProcess, type InProcess, type JsonAnswer } from '../harness/gatehouse.ts';
import { CLIENTS, RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { OidcBrowser } from '../harness/oidc-browser.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';
import { waitFor } from '../harness/ports.ts';
import { configSchema } from '../../src/config/schema.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const API = '/_gatehouse/api/v1';
const SCIM = '/_gatehouse/scim/v2';
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let idp: TestIdp;
let stub: StubUpstream;
let gh: InProcess;
let scimBearer: string;

const corpBearer = { type: 'oidc', id: 'corp', issuer: '', audience: RESOURCE, link: 'subject' };

before(async () => {
  [idp, stub] = await Promise.all([startIdp(), startStub(withWorkspaces)]);
  gh = await startInProcess(stub.url, {
    'auth.providers': [{ type: 'token' }, { type: 'local', scrypt: FAST }, { ...corpBearer, issuer: idp.issuer }],
    'auth.browser': { oidc: [{ id: 'corp', label: 'Corp', issuer: idp.issuer, clientId: CLIENTS.browser.id, clientSecret: CLIENTS.browser.secret, link: 'subject' }] },
    'audit.sinks': [{ type: 'store' }],
    scim: { enabled: true, identityProvider: 'corp', subjectAttribute: 'externalId', requireProvisioned: true },
    tenants: [{ name: 'team-a', members: { users: [] } }],
    bindings: [{ role: 'contributor', user: 'alice.smith', tenant: 'team-a' }],
  });
  await idp.allowBrowserClient(`${gh.url}/_gatehouse/oidc/callback/corp`, `${gh.url}/_gatehouse/login`);
  const t = await callJson(`${gh.url}${API}/scim/tokens`, 'POST', { authorization: ADMIN_AUTH }, { name: 'okta' });
  assert.equal(t.status, 201);
  scimBearer = `Bearer ${t.body.token}`;
});
after(async () => {
  await gh?.close();
  await Promise.all([idp?.close(), stub?.close()]);
});

const scim = (method: string, path: string, body?: unknown): Promise<JsonAnswer> => callJson(`${gh.url}${SCIM}${path}`, method, { authorization: scimBearer }, body);
const active = (id: string, value: boolean) => scim('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'active', value }] });

/** A write in team-a with these headers: the status, the refusal's message, the principal, and the reasons its audit event (the store sink) gives. */
async function write(headers: Record<string, string>): Promise<{ status: number; message: string; principal: string | undefined; localName: string | undefined; audited: () => Promise<unknown> }> {
  const r = await callJson(`${gh.url}/api/2.0/mlflow/experiments/create`, 'POST', { ...headers, 'x-mlflow-workspace': 'team-a' }, { name: 'e' });
  const { ctx } = gh.events.at(-1)!;
  const audited = async () => {
    let event: { requestId: string; decision: unknown; error: unknown } | undefined;
    await waitFor('the request audit event', async () => {
      const events = (await callJson(`${gh.url}${API}/audit?type=request&limit=1000`, 'GET', { authorization: ADMIN_AUTH })).body.events as { requestId: string; decision: unknown; error: unknown }[];
      event = events.find((e) => e.requestId === ctx.requestId);
      return event !== undefined;
    }, 5000);
    return { decision: event!.decision, error: event!.error };
  };
  return { status: r.status, message: String(r.body.message ?? ''), principal: ctx.principal?.id, localName: ctx.principal?.localName, audited };
}

async function identitiesOf(user: string): Promise<unknown> {
  return (await callJson(`${gh.url}${API}/users/${user}/identities`, 'GET', { authorization: ADMIN_AUTH })).body.identities;
}

async function linkEvents(): Promise<{ action: string; door: string; changes: unknown }[]> {
  const events = (await callJson(`${gh.url}${API}/audit?type=admin&limit=1000`, 'GET', { authorization: ADMIN_AUTH })).body.events as { action: string; door: string; changes: unknown; time: string }[];
  return events
    .filter((e) => e.action.startsWith('user.identity.'))
    .sort((a, b) => a.time.localeCompare(b.time))
    .map(({ action, door, changes }) => ({ action, door, changes }));
}

describe('SCIM users are the sign-ins of scim.identityProvider', () => {
  let id: string;
  let jwt: string;
  let session: string;

  test('before provisioning, a valid corp JWT is refused: requireProvisioned (401 identity-not-provisioned)', async () => {
    jwt = await idp.authCodeToken('alice');
    const r = await write({ authorization: `Bearer ${jwt}` });
    assert.equal(r.status, 401, r.message);
    assert.match(r.message, /\(corp: identity-not-provisioned\)/);
    assert.deepEqual(await r.audited(), { decision: { effect: 'deny', reasons: ['identity-not-provisioned'] }, error: 'GATEHOUSE_AUTHN_INVALID' });
    assert.deepEqual(stub.requests.filter((q) => q.url.includes('experiments/create')), []);
  });

  test('SCIM creates alice.smith with externalId alice: linked to corp:alice (admin event, door scim); the JWT and a browser session are that user', async () => {
    const created = await scim('POST', '/Users', { schemas: [USER_URN], userName: 'alice.smith', externalId: 'alice', active: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    id = created.body.id;
    assert.deepEqual(await identitiesOf('alice.smith'), ['corp:alice']);
    assert.deepEqual(await linkEvents(), [{ action: 'user.identity.link', door: 'scim', changes: { identities: { before: [], after: ['corp:alice'] } } }]);

    const byJwt = await write({ authorization: `Bearer ${jwt}` });
    assert.deepEqual([byJwt.status, byJwt.principal, byJwt.localName], [200, 'corp:alice', 'alice.smith'], byJwt.message);

    const browser = new OidcBrowser(gh.url);
    const signedIn = await browser.callback('corp', await browser.authorizationResponse('corp', 'alice'));
    assert.ok(signedIn.session, `signed in: ${signedIn.status} ${signedIn.page.slice(0, 200)}`);
    session = signedIn.session;
    const me = await callJson(`${gh.url}${API}/me`, 'GET', { cookie: `gatehouse_session=${session}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.principal.localName, 'alice.smith');
  });

  test('SCIM active: false refuses the same still-valid JWT and the session at once (401, reason audited); active: true lets the JWT in again', async () => {
    assert.equal((await active(id, false)).status, 200);
    const byJwt = await write({ authorization: `Bearer ${jwt}` });
    assert.equal(byJwt.status, 401, byJwt.message);
    assert.match(byJwt.message, /\(corp: linked-user-disabled\)/);
    assert.deepEqual(await byJwt.audited(), { decision: { effect: 'deny', reasons: ['linked-user-disabled'] }, error: 'GATEHOUSE_AUTHN_INVALID' }, 'the audited refusal names the reason');
    const bySession = await callJson(`${gh.url}${API}/me`, 'GET', { cookie: `gatehouse_session=${session}` });
    assert.equal(bySession.status, 401, JSON.stringify(bySession.body));
    assert.equal((await active(id, true)).status, 200);
    assert.equal((await write({ authorization: `Bearer ${jwt}` })).status, 200);
  });

  test('a changed externalId moves the link: corp:alice is refused, corp:bob is alice.smith', async () => {
    const moved = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'externalId', value: 'bob' }] });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(await identitiesOf('alice.smith'), ['corp:bob']);
    assert.match((await write({ authorization: `Bearer ${jwt}` })).message, /\(corp: identity-not-provisioned\)/);
    const bob = await write({ authorization: `Bearer ${await idp.authCodeToken('bob')}` });
    assert.deepEqual([bob.status, bob.localName], [200, 'alice.smith'], bob.message);
    const back = await scim('PUT', `/Users/${id}`, { schemas: [USER_URN], userName: 'alice.smith', externalId: 'alice' });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(await identitiesOf('alice.smith'), ['corp:alice']);
    assert.deepEqual((await linkEvents()).slice(1).map((e) => [e.action, e.door, e.changes]), [
      ['user.identity.unlink', 'scim', { identities: { before: ['corp:alice'], after: [] } }],
      ['user.identity.link', 'scim', { identities: { before: [], after: ['corp:bob'] } }],
      ['user.identity.unlink', 'scim', { identities: { before: ['corp:bob'], after: [] } }],
      ['user.identity.link', 'scim', { identities: { before: [], after: ['corp:alice'] } }],
    ]);
  });

  test('a second SCIM user cannot take an identity another user holds (409 uniqueness); nothing is created', async () => {
    const r = await scim('POST', '/Users', { schemas: [USER_URN], userName: 'impostor', externalId: 'alice' });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.scimType, 'uniqueness');
    assert.equal((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "impostor"')}`)).body.totalResults, 0);
  });

  test('SCIM DELETE: the still-valid JWT and the session opened before are refused (identity-not-provisioned)', async () => {
    const browser = new OidcBrowser(gh.url);
    const signedIn = await browser.callback('corp', await browser.authorizationResponse('corp', 'alice'));
    assert.ok(signedIn.session);
    assert.equal((await scim('DELETE', `/Users/${id}`)).status, 204);
    const byJwt = await write({ authorization: `Bearer ${jwt}` });
    assert.equal(byJwt.status, 401, byJwt.message);
    assert.deepEqual(await byJwt.audited(), { decision: { effect: 'deny', reasons: ['identity-not-provisioned'] }, error: 'GATEHOUSE_AUTHN_INVALID' });
    assert.equal((await callJson(`${gh.url}${API}/me`, 'GET', { cookie: `gatehouse_session=${signedIn.session}` })).status, 401);
  });

  test('a browser sign-in refused by the link rule opens no session: 401 login page, session.signInFailed with the reason', async () => {
    const again = new OidcBrowser(gh.url);
    const r = await again.callback('corp', await again.authorizationResponse('corp', 'alice'));
    assert.deepEqual([r.status, r.session], [401, undefined], r.page.slice(0, 300));
    const events = (await callJson(`${gh.url}${API}/audit?type=admin&operation=session.signInFailed`, 'GET', { authorization: ADMIN_AUTH })).body.events as { reason: string; time: string }[];
    assert.equal(events.sort((a, b) => a.time.localeCompare(b.time)).at(-1)?.reason, 'corp: identity-not-provisioned');
  });
});

describe('configuration', () => {
  const base = (scim: Record<string, unknown>, link = 'subject') => ({
    auth: { providers: [{ type: 'local' }, { type: 'oidc', id: 'corp', issuer: 'https://idp.example', audience: RESOURCE, link }] },
    scim: { enabled: true, ...scim },
  });
  const problems = (input: unknown) => {
    const r = configSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('identityProvider must name a provider that links by subject; requireProvisioned needs it; all listed at start', () => {
    assert.deepEqual(problems(base({ identityProvider: 'corp' })), []);
    assert.deepEqual(problems(base({ identityProvider: 'okta' })), ['scim.identityProvider: no provider okta in auth.providers, auth.browser.oidc or auth.browser.saml']);
    assert.deepEqual(problems(base({ identityProvider: 'corp' }, 'none')), ['scim.identityProvider: provider corp must have link: subject for SCIM users to be its sign-ins']);
    assert.deepEqual(problems(base({ identityProvider: 'corp' }, 'email')), ['scim.identityProvider: provider corp must have link: subject for SCIM users to be its sign-ins']);
    assert.deepEqual(problems(base({ requireProvisioned: true })), ['scim.requireProvisioned: requireProvisioned needs scim.identityProvider (the provider whose sign-ins must be provisioned)']);
  });
});
