import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decide, tenantsOf } from '../../src/policy/engine.ts';
import { buildSnapshot, referenceProblems, type PolicySources } from '../../src/policy/snapshot.ts';
import type { AccessRequest, Check } from '../../src/model/access.ts';
import type { Action } from '../../src/model/permission.ts';
import type { Principal } from '../../src/model/principal.ts';

const sources: PolicySources = {
  tenants: [
    { name: 'team-a', members: { users: [], groups: ['team-a'] } },
    { name: 'team-b', defaultRole: 'viewer', members: { users: ['bea'], groups: [] } },
  ],
  groups: [
    { name: 'readers', members: ['rita'] },
    { name: 'model-approvers', members: ['mia'] },
    { name: 'admins', members: ['ada'] },
  ],
  roles: [{ name: 'tagger', description: '', levels: { experiment: 'READ' }, operations: ['runs.setTag'], create: [] }],
  bindings: [
    { role: 'viewer', effect: 'allow', group: 'readers', tenant: 'team-a' },
    { role: 'model-approver', effect: 'allow', group: 'model-approvers', tenant: 'team-a' },
    { role: 'contributor', effect: 'allow', user: 'carl', tenant: 'team-a' },
    { role: 'admin', effect: 'allow', group: 'admins' },
    { role: 'contributor', effect: 'allow', user: 'eve', experiment: { namePattern: 'shared-*' }, tenant: 'team-a' },
    { role: 'contributor', effect: 'deny', user: 'carl', experiment: { id: '13' }, tenant: 'team-a' },
    { role: 'tagger', effect: 'allow', user: 'tom', tenant: 'team-a' },
    { role: 'viewer', effect: 'deny', user: 'tom', experiment: { id: '99' }, tenant: 'team-a' },
  ],
};
const snapshot = buildSnapshot(sources);

const user = (name: string, extra: Partial<Principal> = {}): Principal => ({
  id: `local:${name}`,
  kind: 'user',
  name,
  localName: name,
  groups: [],
  tenants: [],
  roles: [],
  admin: false,
  method: 'basic',
  provider: 'local',
  ...extra,
});

function req(op: string, action: Action, tenant: string | undefined, checks: Check[], search = false): AccessRequest {
  return { op, action, tenant, checks, search };
}
const exp = (need: Check['need'], anchors?: Check['anchors']): Check => ({ family: 'experiment', need, anchors });
const model = (need: Check['need'], names?: string[]): Check => ({ family: 'model', need, anchors: names && { modelNames: names } });

const effect = (p: Principal | undefined, r: AccessRequest) => decide(snapshot, p, r).effect;

describe('route-level outcomes', () => {
  test('public routes are open, denied routes closed, even to admins', () => {
    assert.equal(effect(undefined, req('server.health', 'public', undefined, [])), 'allow');
    assert.deepEqual(decide(snapshot, user('ada'), req('jobs.search', 'deny', 'team-a', [])).reasons, ['route-denied']);
  });
  test('no principal, no tenant, not a member: deny with distinct reasons', () => {
    assert.deepEqual(decide(snapshot, undefined, req('runs.get', 'read', 'team-a', [exp('read')])).reasons, ['unauthenticated']);
    assert.deepEqual(decide(snapshot, user('nobody'), req('runs.get', 'read', undefined, [exp('read')])).reasons, ['no-tenant']);
    assert.deepEqual(decide(snapshot, user('rita'), req('runs.get', 'read', 'team-b', [exp('read')])).reasons, ['not-member']);
  });
  test('admin routes need a platform admin; authenticated routes any principal', () => {
    assert.deepEqual(decide(snapshot, user('carl'), req('webhooks.create', 'admin', 'team-a', [])).reasons, ['admin-only']);
    assert.equal(effect(user('ada'), req('webhooks.create', 'admin', 'team-a', [])), 'allow');
    assert.equal(effect(user('x', { admin: true }), req('webhooks.create', 'admin', undefined, [])), 'allow');
    assert.equal(effect(user('nobody'), req('server.version', 'authenticated', undefined, [])), 'allow');
  });
});

describe('the enterprise three-group set-up', () => {
  test('readers read and nothing else', () => {
    const rita = user('rita');
    assert.equal(effect(rita, req('runs.get', 'read', 'team-a', [exp('read')])), 'allow');
    assert.equal(effect(rita, req('experiments.search', 'read', 'team-a', [exp('read')], true)), 'allow');
    assert.equal(effect(rita, req('registeredModels.get', 'read', 'team-a', [model('read', ['m'])])), 'allow');
    for (const [op, action, check] of [
      ['runs.logMetric', 'edit', exp('edit')],
      ['experiments.create', 'create', exp('create')],
      ['registeredModels.create', 'create', model('create')],
      ['modelVersions.create', 'edit', model('edit', ['m'])],
      ['experiments.delete', 'manage', exp('manage')],
    ] as const) {
      assert.equal(effect(rita, req(op, action, 'team-a', [check])), 'deny', op);
    }
  });
  test('model approvers read, register models, create versions and move aliases and stages, but do not log runs', () => {
    const mia = user('mia');
    for (const [op, action, check] of [
      ['runs.get', 'read', exp('read')],
      ['registeredModels.create', 'create', model('create')],
      ['modelVersions.create', 'edit', model('edit', ['m'])],
      ['registeredModels.setAlias', 'edit', model('edit', ['m'])],
      ['modelVersions.transitionStage', 'edit', model('edit', ['m'])],
    ] as const) {
      assert.equal(effect(mia, req(op, action, 'team-a', [check])), 'allow', op);
    }
    for (const [op, action, check] of [
      ['runs.logMetric', 'edit', exp('edit')],
      ['experiments.create', 'create', exp('create')],
      ['registeredModels.delete', 'manage', model('manage', ['m'])],
      ['registeredModels.rename', 'edit', model('edit', ['m'])],
    ] as const) {
      assert.equal(effect(mia, req(op, action, 'team-a', [check])), 'deny', op);
    }
  });
  test('admins do everything, in every tenant', () => {
    const ada = user('ada');
    assert.equal(effect(ada, req('experiments.delete', 'manage', 'team-b', [exp('manage')])), 'allow');
    assert.deepEqual(tenantsOf(snapshot, ada), ['team-a', 'team-b']);
  });
});

describe('bindings and scopes', () => {
  test('contributors write and create but do not delete', () => {
    const carl = user('carl');
    assert.equal(effect(carl, req('runs.logMetric', 'edit', 'team-a', [exp('edit', { experimentIds: ['1'], experimentNames: ['a'] })])), 'allow');
    assert.equal(effect(carl, req('experiments.create', 'create', 'team-a', [exp('create')])), 'allow');
    assert.equal(effect(carl, req('experiments.delete', 'manage', 'team-a', [exp('manage', { experimentIds: ['1'], experimentNames: ['a'] })])), 'deny');
  });
  test('an explicit deny wins, and an unresolved resource counts as covered by it', () => {
    const carl = user('carl');
    const d = decide(snapshot, carl, req('runs.logMetric', 'edit', 'team-a', [exp('edit', { experimentIds: ['13'], experimentNames: ['x'] })]));
    assert.deepEqual(d, { effect: 'deny', reasons: ['explicit-deny'], matchedBindings: ['config:5'] });
    assert.equal(effect(carl, req('runs.logMetric', 'edit', 'team-a', [exp('edit')])), 'deny');
    assert.equal(effect(carl, req('experiments.search', 'read', 'team-a', [exp('read')], true)), 'deny');
    assert.equal(effect(carl, req('runs.get', 'read', 'team-a', [exp('read', { experimentIds: ['12'], experimentNames: ['y'] })])), 'allow');
  });
  test('experiment-scoped grants apply to matching experiments only, never to searches', () => {
    const eve = user('eve');
    assert.equal(effect(eve, req('runs.logMetric', 'edit', 'team-a', [exp('edit', { experimentIds: ['7'], experimentNames: ['shared-demo'] })])), 'allow');
    assert.equal(effect(eve, req('runs.logMetric', 'edit', 'team-a', [exp('edit', { experimentIds: ['8'], experimentNames: ['private'] })])), 'deny');
    assert.equal(effect(eve, req('runs.logMetric', 'edit', 'team-a', [exp('edit')])), 'deny');
    assert.equal(effect(eve, req('experiments.search', 'read', 'team-a', [exp('read')], true)), 'deny');
  });
  test('a tenant default role applies to its members only', () => {
    assert.equal(effect(user('bea'), req('runs.get', 'read', 'team-b', [exp('read')])), 'allow');
    assert.deepEqual(decide(snapshot, user('bea'), req('runs.get', 'read', 'team-b', [exp('read')])).reasons, ['tenant-default-role']);
    assert.equal(effect(user('bea'), req('runs.logMetric', 'edit', 'team-b', [exp('edit')])), 'deny');
  });
  test('custom roles grant single operations', () => {
    const tom = user('tom');
    assert.equal(effect(tom, req('runs.setTag', 'edit', 'team-a', [exp('edit', { experimentIds: ['1'], experimentNames: ['a'] })])), 'allow');
    const denied = decide(snapshot, tom, req('runs.setTag', 'edit', 'team-a', [exp('edit', { experimentIds: ['99'], experimentNames: ['a'] })]));
    assert.deepEqual(denied.reasons, ['explicit-deny'], 'denying viewer on an experiment denies writing to it too');
    assert.equal(effect(tom, req('runs.logMetric', 'edit', 'team-a', [exp('edit')])), 'deny');
  });
  test('groups, tenants and roles asserted by the identity provider count', () => {
    const idp = user('ivan', { groups: ['team-a', 'readers'] });
    assert.deepEqual(tenantsOf(snapshot, idp), ['team-a']);
    assert.equal(effect(idp, req('runs.get', 'read', 'team-a', [exp('read')])), 'allow');
    const scoped = user('sam', { tenants: ['team-b'], roles: ['contributor'] });
    assert.equal(effect(scoped, req('runs.logMetric', 'edit', 'team-b', [exp('edit')])), 'allow');
    assert.equal(effect(scoped, req('runs.logMetric', 'edit', 'team-a', [exp('edit')])), 'deny');
    assert.equal(effect(user('x', { roles: ['admin'] }), req('webhooks.create', 'admin', 'team-a', [])), 'deny', 'an IdP role named admin is not platform admin');
  });
  test('every check of a call must pass (a model version with a source run needs the run readable too)', () => {
    const mia = user('mia');
    assert.equal(effect(mia, req('modelVersions.create', 'edit', 'team-a', [model('edit', ['m']), exp('read')])), 'allow');
    const outsider = buildSnapshot({ ...sources, bindings: [{ role: 'model-approver', effect: 'allow', user: 'mo', model: { namePattern: 'm*' }, tenant: 'team-a' }] });
    assert.equal(decide(outsider, user('mo', { groups: ['team-a'] }), req('modelVersions.create', 'edit', 'team-a', [model('edit', ['m']), exp('read')])).effect, 'deny');
  });
});

test('creators get MANAGE on what they created, and only there', () => {
  const carl = user('carl');
  const owned = [{ kind: 'experiment' as const, tenant: 'team-a', id: '5' }, { kind: 'model' as const, tenant: 'team-a', name: 'carl*model' }];
  const del = (id: string) => ({ ...req('experiments.delete', 'manage', 'team-a', [exp('manage', { experimentIds: [id], experimentNames: ['n'] })]), owned });
  assert.deepEqual(decide(snapshot, carl, del('5')).reasons, ['owner']);
  assert.equal(decide(snapshot, carl, del('6')).effect, 'deny');
  assert.equal(decide(snapshot, carl, { ...del('5'), tenant: 'team-b' }).effect, 'deny', 'ownership is per tenant');
  const delModel = (name: string) => ({ ...req('registeredModels.delete', 'manage', 'team-a', [model('manage', [name])]), owned });
  assert.equal(decide(snapshot, carl, delModel('carl*model')).effect, 'allow');
  assert.equal(decide(snapshot, carl, delModel('carl-x-model')).effect, 'deny', 'an owned name is exact, not a pattern');
  assert.equal(decide(snapshot, carl, { ...del('13'), owned: [{ kind: 'experiment', tenant: 'team-a', id: '13' }] }).effect, 'deny', 'an explicit deny still wins');
});

test('configuration references are checked: unknown roles and tenants are reported with their paths', () => {
  const problems = referenceProblems({ ...sources, bindings: [{ role: 'nope', effect: 'allow', user: 'x', tenant: 'team-z' }], roles: [{ name: 'viewer', description: '', levels: {}, operations: [], create: [] }] });
  assert.deepEqual(
    problems.map((p) => p.path.join('.')),
    ['bindings.0.role', 'bindings.0.tenant', 'roles.0.name'],
  );
});

test('a search constrained to named experiments is decided on them; an unconstrained one needs tenant-wide read', () => {
  const eve = user('eve');
  const named = (names: string[]) => req('runs.search', 'read', 'team-a', [exp('read', { experimentIds: names.map((_, i) => String(i)), experimentNames: names })], false);
  assert.equal(decide(snapshot, eve, named(['shared-1', 'shared-2'])).effect, 'allow');
  assert.equal(decide(snapshot, eve, named(['shared-1', 'private'])).effect, 'deny', 'every named experiment must be covered');
  assert.equal(decide(snapshot, eve, req('experiments.search', 'read', 'team-a', [exp('read')], true)).effect, 'deny');
});

describe('facts shared between principals (the memo behind decide)', () => {
  // Principals the policy does not name share one record per (groups, tenants, admin); each
  // case below pairs principals that must NOT share: a mix-up would grant or deny wrongly.
  const groups = Object.freeze(['readers']);
  const none = Object.freeze([]) as readonly string[];
  test('same lists, different admin flags: the admin is not the reader, nor the reverse', () => {
    const reader = user('oidc-reader', { groups, tenants: ['team-a'] });
    const admin = user('oidc-admin', { groups, tenants: ['team-a'], admin: true });
    assert.equal(effect(reader, req('experiments.delete', 'manage', 'team-b', [exp('manage')])), 'deny');
    assert.equal(effect(admin, req('experiments.delete', 'manage', 'team-b', [exp('manage')])), 'allow');
    assert.equal(effect(user('oidc-reader-2', { groups, tenants: ['team-a'] }), req('experiments.delete', 'manage', 'team-b', [exp('manage')])), 'deny');
    const tenants = Object.freeze(['team-a']);
    assert.deepEqual(tenantsOf(snapshot, user('oidc-reader-3', { groups, tenants })), ['team-a']);
    assert.deepEqual(tenantsOf(snapshot, user('oidc-admin-2', { groups, tenants, admin: true })), ['team-a', 'team-b']);
    assert.deepEqual(tenantsOf(snapshot, user('oidc-reader-4', { groups, tenants })), ['team-a']);
  });
  test('same group list, different tenant lists: each keeps its own tenants', () => {
    const a = user('oidc-a', { groups: none, tenants: ['team-a'] });
    const b = user('oidc-b', { groups: none, tenants: ['team-b'] });
    assert.deepEqual(tenantsOf(snapshot, a), ['team-a']);
    assert.deepEqual(tenantsOf(snapshot, b), ['team-b']);
  });
  test('a principal the policy names (own binding, local group, tenant member) never takes a shared record', () => {
    const stranger = user('stranger', { groups: none, tenants: none });
    assert.equal(effect(stranger, req('runs.logMetric', 'edit', 'team-a', [exp('edit')])), 'deny');
    // Same (empty) lists as the stranger, but named: carl's own contributor binding, rita's local
    // group, bea's membership of team-b.
    assert.equal(effect(user('carl', { groups: none, tenants: none }), req('runs.logMetric', 'edit', 'team-a', [exp('edit', { experimentIds: ['1'], experimentNames: ['a'] })])), 'allow');
    assert.equal(effect(user('rita', { groups: none, tenants: none }), req('runs.get', 'read', 'team-a', [exp('read')])), 'allow');
    assert.deepEqual(tenantsOf(snapshot, user('bea', { groups: none, tenants: none })), ['team-b']);
    assert.deepEqual(tenantsOf(snapshot, stranger), []);
  });
  test('a narrowed credential never takes the record of its unnarrowed twin', () => {
    const wide = user('oidc-wide', { groups: Object.freeze(['admins']), tenants: none });
    const narrow = user('oidc-narrow', { groups: wide.groups, tenants: none, restrict: { tenant: 'team-a' } });
    assert.deepEqual(tenantsOf(snapshot, wide), ['team-a', 'team-b']);
    assert.deepEqual(tenantsOf(snapshot, narrow), ['team-a']);
  });
});

describe('the policy names identities and local names, never display names (src/identity/local-names.ts)', () => {
  const idSnapshot = buildSnapshot({
    tenants: [
      { name: 'team-a', members: { users: ['corp:8f2c'], groups: [] } },
      { name: 'team-b', members: { users: ['carl'], groups: [] } },
    ],
    groups: [{ name: 'writers', members: ['partner:carl'] }],
    roles: [],
    bindings: [
      { role: 'contributor', effect: 'allow', user: 'corp:8f2c', tenant: 'team-a' },
      { role: 'contributor', effect: 'allow', user: 'carl', tenant: 'team-b' },
      { role: 'contributor', effect: 'allow', group: 'writers', tenant: 'team-a' },
      { role: 'contributor', effect: 'allow', serviceAccount: 'ci', tenant: 'team-b' },
    ],
  });
  const write = (t: string) => req('runs.logMetric', 'edit', t, [exp('edit', { experimentIds: ['1'], experimentNames: ['a'] })]);
  const can = (p: Principal, t: string) => decide(idSnapshot, p, write(t)).effect;
  const oidc = (sub: string, name: string, extra: Partial<Principal> = {}): Principal => ({ ...user(name), id: `corp:${sub}`, localName: undefined, method: 'oidc', provider: 'corp', ...extra });

  test('a binding, a tenant membership and a local group naming an identity match that id, whatever its display name', () => {
    assert.equal(can(oidc('8f2c', 'anything'), 'team-a'), 'allow');
    assert.deepEqual(tenantsOf(idSnapshot, oidc('8f2c', 'anything')), ['team-a']);
    assert.equal(can({ ...oidc('x', 'carl'), id: 'partner:carl' }, 'team-a'), 'allow', 'the local group writers holds partner:carl');
    assert.equal(can(oidc('other', 'corp:8f2c'), 'team-a'), 'deny', 'a display name equal to an identity is not that identity');
  });

  test('a bare name matches only a principal whose local name it is', () => {
    assert.equal(can(oidc('c4r1', 'carl'), 'team-b'), 'deny', 'an IdP user named carl is not the local user carl');
    assert.deepEqual(tenantsOf(idSnapshot, oidc('c4r1', 'carl')), []);
    assert.equal(can(oidc('c4r1', 'carl', { localName: 'carl' }), 'team-b'), 'allow', 'unless its provider asserts local names');
    assert.equal(can(user('carl'), 'team-b'), 'allow');
    assert.equal(can(oidc('y', 'ci', { kind: 'service_account' }), 'team-b'), 'deny', 'an OAuth client named ci is not the service account ci');
    assert.equal(can(oidc('y', 'ci', { kind: 'service_account', localName: 'ci' }), 'team-b'), 'allow');
  });

  test("a local name with ':' is ignored: it could read as another provider's identity", () => {
    assert.equal(can(oidc('z', 'corp:8f2c', { localName: 'corp:8f2c' }), 'team-a'), 'deny');
    assert.deepEqual(tenantsOf(idSnapshot, oidc('z', 'corp:8f2c', { localName: 'corp:8f2c' })), []);
  });

  test('principals the policy does not name by identity share the record of their lists, named or not by display name', () => {
    const none = Object.freeze([]) as readonly string[];
    // Same (empty) lists; the one named carl by display name is no more named than the stranger.
    assert.equal(can(oidc('q1', 'stranger', { groups: none, tenants: none }), 'team-b'), 'deny');
    assert.equal(can(oidc('q2', 'carl', { groups: none, tenants: none }), 'team-b'), 'deny');
    assert.equal(can(user('carl', { groups: none, tenants: none }), 'team-b'), 'allow');
  });
});
