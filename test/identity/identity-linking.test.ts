/**
 * Identity binding across providers (issue 22), `auth.providers[].link`: two real OpenID
 * providers (test/harness/oidc-idp.ts) that both issue `sub: alice`, and a local user alice.
 * `corp` links by subject, `partner` keeps the default (`none`). Nothing merges until an
 * administrator links `corp:alice` to the local user (admin API or CLI, each audited); then corp's
 * alice has exactly the local user's access, partner's alice (the same `sub`) still none; a
 * disabled user's link signs nobody in; unlinking takes effect on the next request; an identity
 * of a provider that does not link, or one already linked to another user, is refused.
 * `link: email` (a second gateway: corp links by email, partner does not): a sign-in binds to the
 * local user an administrator gave that email only when the IdP vouches for it
 * (`email_verified: true`, signed by the real IdP's key); an unverified email, or the same
 * verified email from a provider that does not link, binds nobody. With a real OpenLDAP and
 * `link: email`, the directory's mail binds the same way, for HTTP Basic and for a browser session
 * opened through the login form.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_AUTH, basic, createUsers, formSignIn, startInProcess, type InProcess } from '../harness/gatehouse.ts';
import { GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, startSlapd, USERS, type Slapd } from '../harness/slapd.ts';
import { ACCOUNTS, RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { childEnv, ROOT } from '../harness/paths.ts';
import { startStub, withWorkspaces, type StubUpstream } from '../harness/stub-upstream.ts';

const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const PASSWORD = 'alice-password-0123';
const API = '/_gatehouse/api/v1';

let corp: TestIdp;
let partner: TestIdp;
let stub: StubUpstream;
let gh: InProcess;
let configFile: string;

const oidc = (id: string, idp: TestIdp, extra: Record<string, unknown> = {}) => ({ type: 'oidc', id, issuer: idp.issuer, audience: RESOURCE, ...extra });

before(async () => {
  [corp, partner, stub] = await Promise.all([startIdp(), startIdp(), startStub(withWorkspaces)]);
  const providers = [{ type: 'token' }, { type: 'local', scrypt: FAST }, oidc('corp', corp, { link: 'subject' }), oidc('partner', partner)];
  gh = await startInProcess(stub.url, {
    'auth.providers': providers,
    'audit.sinks': [{ type: 'store' }],
    tenants: [{ name: 'local-team', members: { users: ['alice'] } }],
    bindings: [{ role: 'contributor', user: 'alice', tenant: 'local-team' }],
  });
  await createUsers(gh, ['alice', 'bob'], PASSWORD);
  configFile = join(gh.dataDir, 'cli.json');
  writeFileSync(configFile, JSON.stringify({ dataDir: gh.dataDir, auth: { providers } }));
});
after(async () => {
  await gh?.close();
  await Promise.all([corp?.close(), partner?.close(), stub?.close()]);
});
beforeEach(() => {
  stub.requests.length = 0;
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gh.url}${API}${path}`, { method, headers: { authorization: ADMIN_AUTH, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A write in local-team as `auth`: the status, the principal and its local name as the gateway saw them. */
async function write(auth: string): Promise<{ status: number; text: string; principal: string | undefined; localName: string | undefined }> {
  const res = await fetch(`${gh.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { authorization: auth, 'x-mlflow-workspace': 'local-team', 'content-type': 'application/json' },
    body: '{"name":"e"}',
  });
  const text = await res.text();
  const p = gh.events.at(-1)?.ctx.principal;
  return { status: res.status, text, principal: p?.id, localName: p?.localName };
}

const corpAlice = async () => `Bearer ${await corp.authCodeToken('alice')}`;
const partnerAlice = async () => `Bearer ${await partner.authCodeToken('alice')}`;

async function adminEvents(action: string): Promise<{ target: string; changes: Record<string, unknown>; door: string }[]> {
  const r = await api('GET', `/audit?type=admin&operation=${action}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.events as { target: { kind: string; id: string }; changes: Record<string, unknown>; door: string }[]).map((e) => ({ target: `${e.target.kind}:${e.target.id}`, changes: e.changes, door: e.door }));
}

describe('link: subject', () => {
  test('unlinked, the same sub at two issuers and the local user are three principals: neither IdP alice gets the local grant', async () => {
    const corpR = await write(await corpAlice());
    const partnerR = await write(await partnerAlice());
    assert.deepEqual([corpR.status, corpR.principal, corpR.localName], [403, 'corp:alice', undefined]);
    assert.deepEqual([partnerR.status, partnerR.principal, partnerR.localName], [403, 'partner:alice', undefined]);
    assert.deepEqual(stub.requests.filter((r) => r.url.startsWith('/api/2.0/mlflow/experiments/create')), [], 'refused writes never reach MLflow');
  });

  test("an identity of a provider that does not link (partner) is refused, naming the setting; nothing changes", async () => {
    const r = await api('POST', '/users/alice/identities', { identity: 'partner:alice' });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(String(r.body.message), /provider partner does not link by subject \(set link: subject/);
    assert.deepEqual((await api('GET', '/users/alice/identities')).body.identities, []);
  });

  test('linked through the admin API: corp:alice is the local user alice; partner:alice (same sub) still is not', async () => {
    const r = await api('POST', '/users/alice/identities', { identity: 'corp:alice' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { username: 'alice', email: null, identities: ['corp:alice'] });
    const linked = await write(await corpAlice());
    assert.equal(linked.status, 200, linked.text);
    assert.deepEqual([linked.principal, linked.localName], ['corp:alice', 'alice'], 'the audit keeps who signed in; the policy sees the local user');
    const other = await write(await partnerAlice());
    assert.deepEqual([other.status, other.localName], [403, undefined], 'the same sub at another issuer never merges');
    const [event] = await adminEvents('user.identity.link');
    assert.deepEqual(event, { target: 'user:alice', door: 'api', changes: { identities: { before: [], after: ['corp:alice'] } } });
  });

  test('one identity, one user: linking corp:alice to bob is refused while it is alice\'s', async () => {
    const r = await api('POST', '/users/bob/identities', { identity: 'corp:alice' });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(String(r.body.message), /linked to another user/);
  });

  test("a disabled user's link signs nobody in (401 with the reason); re-enabled, it works again", async () => {
    assert.equal((await api('PATCH', '/users/alice', { disabled: true })).status, 200);
    const refused = await write(await corpAlice());
    assert.equal(refused.status, 401, refused.text);
    assert.match(JSON.parse(refused.text).message, /\(corp: linked-user-disabled\)/);
    assert.equal((await api('PATCH', '/users/alice', { disabled: false })).status, 200);
    assert.equal((await write(await corpAlice())).status, 200);
  });

  test('unlinked: the next request of corp:alice is only corp:alice again', async () => {
    const r = await api('DELETE', `/users/alice/identities/${encodeURIComponent('corp:alice')}`);
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.deepEqual([(await write(await corpAlice())).status], [403]);
    const [event] = await adminEvents('user.identity.unlink');
    assert.deepEqual(event, { target: 'user:alice', door: 'api', changes: { identities: { before: ['corp:alice'], after: [] } } });
    assert.equal((await api('DELETE', `/users/alice/identities/${encodeURIComponent('corp:alice')}`)).status, 404, 'unlinking twice: not found');
  });

  test('the CLI links, lists and unlinks: docs/identity.md\'s commands word for word (`<subject>` = alice), each effective on the next request', async () => {
    const docs = readFileSync(join(ROOT, 'docs/identity.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Identity binding across providers'));
    const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
    const commands = block.split('\n').filter((l) => l.startsWith('npx gatehouse ')).map((l) => l.replace(/ +#.*$/, '').replaceAll('<subject>', 'alice').split(/ +/).slice(2));
    assert.deepEqual(commands.map((c) => c.slice(0, 2).join(' ')), ['users link', 'users identities', 'users unlink']);
    const cli = (args: string[]) => spawnSync(join(ROOT, 'bin/gatehouse'), [...args, '-c', configFile], { encoding: 'utf8', env: childEnv() });
    const [link, list, unlink] = commands.map((c) => () => cli(c));
    const linked = link!();
    assert.equal(linked.status, 0, linked.stderr);
    assert.equal((await write(await corpAlice())).status, 200);
    assert.equal(list!().stdout.trim(), 'corp:alice');
    assert.equal(unlink!().status, 0);
    assert.equal((await write(await corpAlice())).status, 403);
    const refused = cli(['users', 'link', 'bob', 'partner:bob']);
    assert.equal(refused.status, 2, `invalid input: ${refused.stdout}`);
    assert.match(refused.stderr, /does not link by subject/);
  });
});

describe('link: email', () => {
  let mail: InProcess;
  const nowS = () => Math.floor(Date.now() / 1000);
  /** A token of `idp` for a subject that is not alice, carrying alice's email, verified or not. */
  const withEmail = async (idp: TestIdp, verified: boolean) =>
    `Bearer ${await idp.sign({ iss: idp.issuer, aud: RESOURCE, sub: 'a-9f1c', email: ACCOUNTS.alice!.email, ...(verified && { email_verified: true }), iat: nowS(), exp: nowS() + 300 })}`;
  const writeAt = async (auth: string) => {
    const res = await fetch(`${mail.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { authorization: auth, 'x-mlflow-workspace': 'local-team', 'content-type': 'application/json' }, body: '{"name":"e"}' });
    await res.arrayBuffer();
    return { status: res.status, principal: mail.events.at(-1)?.ctx.principal };
  };
  const mailApi = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${mail.url}${API}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  before(async () => {
    mail = await startInProcess(stub.url, {
      'auth.providers': [{ type: 'local', scrypt: FAST }, oidc('corp', corp, { link: 'email' }), oidc('partner', partner)],
      tenants: [{ name: 'local-team', members: { users: ['alice'] } }],
      bindings: [{ role: 'contributor', user: 'alice', tenant: 'local-team' }],
    });
    await createUsers(mail, ['alice', 'bob'], PASSWORD);
  });
  after(() => mail?.close());

  test('before the user has an email, a verified email binds nobody', async () => {
    assert.deepEqual((await writeAt(await withEmail(corp, true))).status, 403);
  });

  test('with the email set: corp\'s verified email is alice; unverified, or from partner (link: none), it is not', async () => {
    const set = await mailApi('PUT', '/users/alice/email', { email: ACCOUNTS.alice!.email.toUpperCase() });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.email, ACCOUNTS.alice!.email, 'kept in lower case');
    const verified = await writeAt(await withEmail(corp, true));
    assert.deepEqual([verified.status, verified.principal?.id, verified.principal?.localName], [200, 'corp:a-9f1c', 'alice']);
    const unverified = await writeAt(await withEmail(corp, false));
    assert.deepEqual([unverified.status, unverified.principal?.localName], [403, undefined], 'an unverified email binds nobody');
    const realToken = await writeAt(`Bearer ${await corp.authCodeToken('alice')}`);
    assert.equal(realToken.status, 403, "the IdP's access token carries the email without email_verified");
    const other = await writeAt(await withEmail(partner, true));
    assert.deepEqual([other.status, other.principal?.localName], [403, undefined], 'a provider without link: email never binds');
  });

  test('one email, one user: giving bob alice\'s email is refused; cleared, the binding ends at once', async () => {
    const taken = await mailApi('PUT', '/users/bob/email', { email: ACCOUNTS.alice!.email });
    assert.equal(taken.status, 409, JSON.stringify(taken.body));
    assert.equal((await mailApi('PUT', '/users/alice/email', { email: null })).status, 200);
    assert.equal((await writeAt(await withEmail(corp, true))).status, 403);
  });
});

describe('link: email with LDAP: the directory\'s mail attribute, over Basic and a login-form session', () => {
  let ldap: Slapd;
  let dir: InProcess;
  const ritaBasic = basic('rita', USERS.rita.password);
  const writeIn = async (headers: Record<string, string>) => {
    const res = await fetch(`${dir.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { ...headers, 'x-mlflow-workspace': 'local-team', 'content-type': 'application/json', origin: dir.url }, body: '{"name":"e"}' });
    await res.arrayBuffer();
    return { status: res.status, principal: dir.events.at(-1)?.ctx.principal };
  };
  const setEmail = async (email: string | null) => {
    const res = await fetch(`${dir.url}${API}/users/rlocal/email`, { method: 'PUT', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    assert.equal(res.status, 200, await res.text());
  };
  before(async () => {
    ldap = await startSlapd();
    dir = await startInProcess(stub.url, {
      'auth.providers': [
        { type: 'local', scrypt: FAST },
        { type: 'ldap', url: ldap.ldapsUrl, tlsCaFile: ldap.caFile, search: { bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, base: PEOPLE }, groups: { base: GROUPS }, link: 'email' },
      ],
      tenants: [{ name: 'local-team', members: { users: ['rlocal'] } }],
      bindings: [{ role: 'contributor', user: 'rlocal', tenant: 'local-team' }],
    });
    await createUsers(dir, ['rlocal'], PASSWORD);
  });
  after(async () => {
    await dir?.close();
    await ldap?.close();
  });

  test('unbound, then bound by the mail the directory holds, then unbound again when the email is cleared', async () => {
    assert.deepEqual([(await writeIn({ authorization: ritaBasic })).status], [403]);
    await setEmail(USERS.rita.mail);
    const bound = await writeIn({ authorization: ritaBasic });
    assert.deepEqual([bound.status, bound.principal?.id, bound.principal?.localName], [200, 'ldap:rita', 'rlocal']);
    const { session, status } = await formSignIn(dir.url, 'rita', USERS.rita.password);
    assert.ok(session, `signed in through the form: ${status}`);
    const viaSession = await writeIn({ cookie: `gatehouse_session=${session}` });
    assert.deepEqual([viaSession.status, viaSession.principal?.localName], [200, 'rlocal'], 'the browser session of the sign-in is bound too');
    await setEmail(null);
    assert.equal((await writeIn({ authorization: ritaBasic })).status, 403);
    assert.equal((await writeIn({ cookie: `gatehouse_session=${session}` })).status, 403, 'the session follows at once');
  });
});
