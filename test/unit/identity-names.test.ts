/**
 * Grants bind identities, not names (src/identity/local-names.ts): the configuration refuses
 * provider ids two providers share (their principals' ids would collide) and policy names that
 * are neither an identity nor a local name; the start-up warnings name every policy name that
 * no longer means a user of an IdP or directory, with the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { policyNameWarnings } from '../../src/policy/name-warnings.ts';
import { describedPrincipal } from '../../src/identity/local-names.ts';

const problemsOf = (overrides: Record<string, unknown>): readonly string[] => {
  try {
    loadConfig({ env: {}, overrides });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};
const oidc = (id: string | undefined, issuer: string) => ({ type: 'oidc', ...(id && { id }), issuer, audience: 'mlflow', jwksUri: `${issuer}/jwks` });

test('two providers with one id are refused: the same subject at two issuers would be one principal', () => {
  const problems = problemsOf({ 'auth.providers': [{ type: 'local' }, oidc(undefined, 'https://a.example'), oidc(undefined, 'https://b.example')] });
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^auth\.providers\.2\.id: duplicate provider id oidc/);
  assert.deepEqual(problemsOf({ 'auth.providers': [oidc('a', 'https://a.example'), oidc('b', 'https://b.example')] }), []);
});

test('a login-page OIDC entry may share only the id of the bearer provider of the same issuer', () => {
  const browser = (issuer: string) => ({ id: 'corp', label: 'Corp', issuer, clientId: 'ui' });
  assert.deepEqual(problemsOf({ 'auth.providers': [oidc('corp', 'https://a.example')], 'auth.browser.oidc': [browser('https://a.example')] }), []);
  const problems = problemsOf({ 'auth.providers': [oidc('corp', 'https://a.example')], 'auth.browser.oidc': [browser('https://b.example')] });
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^auth\.browser\.oidc\.0\.id: provider id corp is taken/);
});

test('a login-page OIDC entry that shares its bearer provider\'s id must link the same way (the same principals)', () => {
  const browser = (link: string) => ({ id: 'corp', label: 'Corp', issuer: 'https://a.example', clientId: 'ui', link });
  assert.deepEqual(problemsOf({ 'auth.providers': [oidc('corp', 'https://a.example')], 'auth.browser.oidc': [browser('none')] }), []);
  const problems = problemsOf({ 'auth.providers': [{ ...oidc('corp', 'https://a.example'), link: 'subject' }], 'auth.browser.oidc': [browser('email')] });
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^auth\.browser\.oidc\.0\.link: provider corp links by subject in auth\.providers/);
});

test('policy names are identities (<provider id>:<subject>) or local names; anything else is refused', () => {
  const ok = ['alice', 'ci.bot@example.com', 'corp:8f2c-11', 'corp:auth0|5f7c8ec', 'dir:uid=bob,ou=people,dc=example,dc=com', 'k8s:system:serviceaccount:ml:trainer'];
  assert.deepEqual(problemsOf({ bindings: ok.map((user) => ({ role: 'viewer', user })) }), []);
  const bad = ['Corp:x', 'corp:', 'corp: x', 'corp:x\u0001', ':x', 'a b', `${'a'.repeat(129)}`];
  const problems = problemsOf({ bindings: bad.map((user) => ({ role: 'viewer', user })), tenants: [{ name: 'default', members: { users: ['corp:'] } }], groups: [{ name: 'g', members: ['x y'] }] });
  assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), [...bad.map((_, i) => `bindings.${i}.user`), 'tenants.0.members.users.0', 'groups.0.members.0'].sort());
});

test('assertsLocalNames is off unless configured, on every kind of provider that has user names', () => {
  const c = loadConfig({
    env: {},
    overrides: {
      'auth.providers': [
        oidc('corp', 'https://a.example'),
        { type: 'ldap', url: 'ldaps://ldap.example', userDnTemplate: 'uid={username},dc=example' },
        { type: 'trusted-proxy', trustedPeers: ['10.0.0.0/8'] },
        { type: 'dev-headers' },
      ],
      'server.public': { host: '127.0.0.1', port: 8080 },
    },
  });
  for (const p of c.auth.providers) assert.equal((p as { assertsLocalNames?: boolean }).assertsLocalNames, false, p.type);
});

test('the start-up warnings name each policy name that no longer means an IdP user, with the fix', () => {
  const sources = {
    tenants: [{ name: 'default', members: { users: ['alice', 'bob', 'corp:8f2c'], groups: [] } }],
    groups: [{ name: 'g', members: ['carol'] }],
    roles: [],
    bindings: [
      { role: 'viewer', effect: 'allow' as const, user: 'bob' },
      { role: 'viewer', effect: 'allow' as const, serviceAccount: 'ci' },
      { role: 'viewer', effect: 'allow' as const, user: 'gone:x', id: 'api:1234' },
    ],
  };
  const providers = [
    { id: 'local', type: 'local' },
    { id: 'token', type: 'token' },
    { id: 'corp', type: 'oidc' },
    { id: 'dir', type: 'ldap', assertsLocalNames: true },
  ];
  const warnings = policyNameWarnings(sources, providers, { users: new Set(['alice']), serviceAccounts: new Set(['ci']) });
  assert.deepEqual(
    warnings.map((w) => w.split(': "')[0]),
    ['bindings[0].user', 'grant api:1234.user', 'tenant default members.users', 'group g members'],
  );
  const bob = warnings.find((w) => w.startsWith('bindings[0].user'))!;
  assert.match(bob, /names the local user bob, and there is none yet/);
  assert.match(bob, /no longer matches users of corp \(oidc\)/, 'dir asserts local names: bob there is still bob');
  assert.match(bob, /"corp:<sub>"/);
  assert.match(bob, /assertsLocalNames: true/);
  assert.match(warnings.find((w) => w.startsWith('grant api:1234'))!, /provider gone, which is not configured/);
  assert.deepEqual(policyNameWarnings(sources, providers.slice(0, 2), { users: new Set(), serviceAccounts: new Set() }).filter((w) => !w.includes('not configured')), [], 'only local providers: a bare name can only mean a local account');
});

test('explain and who-can-access describe a principal by identity or by local name', () => {
  const byId = describedPrincipal('corp:8f2c', { kind: 'user', provider: 'explain', method: 'explain' });
  assert.equal(byId.id, 'corp:8f2c');
  assert.equal(byId.localName, undefined);
  const local = describedPrincipal('alice', { kind: 'user', provider: 'explain', method: 'explain' });
  assert.equal(local.localName, 'alice');
  assert.equal(local.id, 'explain:alice');
  assert.equal(describedPrincipal('corp:8f2c', { kind: 'user', provider: 'explain', method: 'explain', localName: 'alice' }).localName, 'alice');
});
