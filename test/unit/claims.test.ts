/** Claim mapping for bearer JWTs: dotted paths, string-or-array, scopes, prefixes and aliases. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { claimAt, compileListClaim, listClaim, stringClaim } from '../../src/identity/claims.ts';
import { compileMapping } from '../../src/identity/oidc-principal.ts';
import { oidcBearerSchema } from '../../src/identity/oidc-bearer.ts';

const payload = {
  sub: 'u-1',
  preferred_username: 'alice',
  email: 'alice@example.test',
  groups: ['team-a', 'team-b', 7, 'team-a'],
  tenant: 'team-a',
  scope: 'openid  mlflow:role:viewer mlflow:role:admin other:thing',
  realm_access: { roles: ['offline_access', 'mlflow-editor'] },
  'https://example.com/groups': ['ns-group'],
  'https://example.com': { nested: { x: 'deep' } },
  athenz: { role: 'mlflow.admin' },
};

describe('claim paths', () => {
  test('dotted paths walk objects', () => {
    assert.deepEqual(claimAt(payload, 'realm_access.roles'), ['offline_access', 'mlflow-editor']);
    assert.equal(claimAt(payload, 'realm_access.missing'), undefined);
    assert.equal(claimAt(payload, 'sub.length'), undefined, 'no walking into strings');
  });

  test('a claim name that contains dots is found (longest key first, then fallback)', () => {
    assert.deepEqual(claimAt(payload, 'https://example.com/groups'), ['ns-group']);
    assert.equal(claimAt(payload, 'https://example.com.nested.x'), 'deep');
    const k8s = { sub: 'system:serviceaccount:ml:trainer', 'kubernetes.io': { namespace: 'ml', serviceaccount: { name: 'trainer' } } };
    assert.equal(claimAt(k8s, 'kubernetes.io.namespace'), 'ml');
    assert.equal(claimAt(k8s, 'kubernetes.io.serviceaccount.name'), 'trainer');
  });

  test('string claims accept strings and numbers only', () => {
    assert.equal(stringClaim(payload, 'sub'), 'u-1');
    assert.equal(stringClaim({ sub: 42 }, 'sub'), '42');
    assert.equal(stringClaim({ sub: '' }, 'sub'), undefined);
    assert.equal(stringClaim({ sub: ['x'] }, 'sub'), undefined);
  });
});

describe('list claims', () => {
  test('string or array; non-strings dropped; de-duplicated', () => {
    assert.deepEqual(listClaim(payload, compileListClaim('groups')), ['team-a', 'team-b']);
    assert.deepEqual(listClaim(payload, compileListClaim('tenant')), ['team-a']);
    assert.deepEqual(listClaim(payload, compileListClaim('nope')), []);
    assert.deepEqual(listClaim(payload, compileListClaim(undefined)), []);
  });

  test('space-separated scopes are split only when asked', () => {
    assert.deepEqual(listClaim(payload, compileListClaim({ path: 'scope', split: true })), [
      'openid',
      'mlflow:role:viewer',
      'mlflow:role:admin',
      'other:thing',
    ]);
    assert.deepEqual(listClaim(payload, compileListClaim('scope')), [payload.scope]);
  });

  test('a prefix filters and strips: roles from scopes', () => {
    assert.deepEqual(listClaim(payload, compileListClaim({ path: 'scope', split: true, prefix: 'mlflow:role:' })), ['viewer', 'admin']);
    assert.deepEqual(listClaim({ scope: 'mlflow:role:' }, compileListClaim({ path: 'scope', split: true, prefix: 'mlflow:role:' })), [], 'an empty remainder is no role');
  });

  test('aliases rename and survive the prefix filter; several sources merge', () => {
    const roles = compileListClaim([
      { path: 'scope', split: true, prefix: 'mlflow:role:' },
      { path: 'realm_access.roles', aliases: { 'mlflow-editor': 'contributor' }, prefix: 'never:' },
      { path: 'athenz.role', aliases: { 'mlflow.admin': 'admin' } },
    ]);
    assert.deepEqual(listClaim(payload, roles), ['viewer', 'admin', 'contributor']);
  });
});

describe('principal mapping', () => {
  const config = (extra: Record<string, unknown> = {}) =>
    oidcBearerSchema.parse({ type: 'oidc', id: 'idp', issuer: 'https://idp.example.test', audience: 'urn:mlflow', ...extra });

  test('a user with email, groups, roles, tenants and admin by group', () => {
    const map = compileMapping(
      config({
        claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' }, tenants: 'tenant' },
        admin: { groups: ['team-b'] },
      }),
    );
    assert.deepEqual(map({ ...payload, client_id: 'web' }), {
      id: 'idp:u-1',
      kind: 'user',
      name: 'alice',
      email: 'alice@example.test',
      emailVerified: false,
      groups: ['team-a', 'team-b'],
      tenants: ['team-a'],
      roles: ['viewer', 'admin'],
      admin: true,
      method: 'oidc',
      provider: 'idp',
    });
  });

  test('admin by mapped role; not admin without a match', () => {
    const byRole = compileMapping(config({ claims: { roles: { path: 'scope', split: true, prefix: 'mlflow:role:' } }, admin: { roles: ['admin'] } }));
    assert.equal(byRole({ sub: 's', scope: 'mlflow:role:admin' })!.admin, true);
    assert.equal(byRole({ sub: 's', scope: 'mlflow:role:viewer admin' })!.admin, false);
  });

  test('service accounts: client credentials, or no email and no name', () => {
    const map = compileMapping(config());
    assert.equal(map({ sub: 'svc', client_id: 'svc', email: 'x@example.test' })!.kind, 'service_account');
    // link: email binds only what the issuer vouches for: `email_verified: true`, or every email of an issuer configured so.
    assert.equal(map({ sub: 'u', email: 'u@example.test', email_verified: true })!.emailVerified, true);
    assert.equal(map({ sub: 'u', email: 'u@example.test', email_verified: 'true' })!.emailVerified, false, 'a string is not a verification');
    assert.equal(compileMapping({ ...config(), emailsVerified: true })({ sub: 'u', email: 'u@example.test' })!.emailVerified, true);
    assert.equal(map({ sub: 'svc', azp: 'svc', preferred_username: 'svc' })!.kind, 'service_account');
    assert.equal(map({ sub: 'system:serviceaccount:ml:trainer' })!.kind, 'service_account');
    assert.equal(map({ sub: 'u', name: 'U Ser' })!.kind, 'user');
    assert.equal(map({ sub: 'u', client_id: 'web', email: 'u@example.test' })!.kind, 'user');
    assert.equal(compileMapping(config({ serviceAccount: 'always' }))({ sub: 'u', email: 'u@example.test' })!.kind, 'service_account');
    assert.equal(compileMapping(config({ serviceAccount: 'never' }))({ sub: 'svc', client_id: 'svc' })!.kind, 'user');
  });

  test('the name falls back to the subject; no subject means no principal', () => {
    const map = compileMapping(config({ claims: { subject: 'oid', username: ['upn', 'preferred_username'] } }));
    assert.equal(map({ oid: 'o-1', upn: 'u@corp' })!.name, 'u@corp');
    assert.equal(map({ oid: 'o-1' })!.name, 'o-1');
    assert.equal(map({ sub: 'only-sub' }), undefined);
  });
});

describe('schema', () => {
  test('defaults and required fields', () => {
    const c = oidcBearerSchema.parse({ type: 'oidc', issuer: 'https://idp.example.test', audience: ['a', 'b'] });
    assert.deepEqual(c.algorithms, ['RS256', 'ES256']);
    assert.equal(c.clockSkewSeconds, 30);
    assert.equal(c.discovery, true);
    assert.equal(c.claims.subject, 'sub');
    assert.throws(() => oidcBearerSchema.parse({ type: 'oidc', issuer: 'https://idp.example.test' }), /audience/);
    assert.throws(() => oidcBearerSchema.parse({ type: 'oidc', issuer: 'https://i', audience: 'a', algorithms: ['HS256'] }));
    assert.throws(() => oidcBearerSchema.parse({ type: 'oidc', issuer: 'https://i', audience: 'a', discovery: false }), /jwksUri/);
    assert.throws(() => oidcBearerSchema.parse({ type: 'oidc', issuer: 'kubernetes/serviceaccount', audience: 'a' }), /jwksUri/);
    assert.equal(oidcBearerSchema.parse({ type: 'oidc', issuer: 'kubernetes/serviceaccount', audience: 'a', jwksUri: 'https://k/openid/v1/jwks' }).discovery, true);
  });
});
