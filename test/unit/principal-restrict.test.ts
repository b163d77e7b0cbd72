/** The engine honours a credential's narrowing (`Principal.restrict`): tenant only, grants capped to a role. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, isAdmin, tenantsOf } from '../../src/policy/engine.ts';
import { buildSnapshot } from '../../src/policy/snapshot.ts';
import type { AccessRequest, Check } from '../../src/model/access.ts';
import type { Action } from '../../src/model/permission.ts';
import type { Principal } from '../../src/model/principal.ts';

const snapshot = buildSnapshot({
  tenants: [
    { name: 'team-a', members: { users: [], groups: [] } },
    { name: 'team-b', members: { users: [], groups: [] } },
  ],
  groups: [],
  roles: [],
  bindings: [
    { role: 'contributor', effect: 'allow', user: 'carl', tenant: 'team-a' },
    { role: 'contributor', effect: 'allow', user: 'carl', tenant: 'team-b' },
    { role: 'model-approver', effect: 'allow', serviceAccount: 'ci', tenant: 'team-a' },
  ],
});

const who = (name: string, extra: Partial<Principal> = {}): Principal => ({
  id: `token:${name}`,
  kind: 'user',
  name,
  localName: name,
  groups: [],
  tenants: [],
  roles: [],
  admin: false,
  method: 'token',
  provider: 'token',
  ...extra,
});
const req = (op: string, action: Action, tenant: string | undefined, checks: Check[]): AccessRequest => ({ op, action, tenant, checks, search: false });
const exp = (need: Check['need']): Check => ({ family: 'experiment', need });
const readRun = (t: string) => req('runs.get', 'read', t, [exp('read')]);
const logMetric = (t: string) => req('runs.logMetric', 'edit', t, [exp('edit')]);

test('without narrowing nothing changes', () => {
  assert.deepEqual(tenantsOf(snapshot, who('carl')), ['team-a', 'team-b']);
  assert.equal(decide(snapshot, who('carl'), logMetric('team-b')).effect, 'allow');
});

test('a tenant narrowing leaves only that tenant', () => {
  const carl = who('carl', { restrict: { tenant: 'team-a' } });
  assert.deepEqual(tenantsOf(snapshot, carl), ['team-a']);
  assert.equal(decide(snapshot, carl, logMetric('team-a')).effect, 'allow');
  assert.deepEqual(decide(snapshot, carl, readRun('team-b')).reasons, ['not-member']);
});

test('a maxRole caps every grant to what that role allows', () => {
  const carl = who('carl', { restrict: { maxRole: 'viewer' } });
  assert.equal(decide(snapshot, carl, readRun('team-a')).effect, 'allow');
  assert.deepEqual(decide(snapshot, carl, logMetric('team-a')).reasons, ['no-grant']);
  assert.equal(decide(snapshot, carl, req('experiments.create', 'create', 'team-a', [exp('create')])).effect, 'deny');
  // The cap never adds rights: a model-approver capped to contributor may still create model
  // versions (both roles allow it), capped to viewer it may only read, and a contributor cap does
  // not give it experiment writes it never had.
  const ci = (maxRole: string): Principal => who('ci', { kind: 'service_account', restrict: { maxRole } });
  const createVersion = req('modelVersions.create', 'edit', 'team-a', [{ family: 'model', need: 'edit' }]);
  assert.equal(decide(snapshot, ci('contributor'), createVersion).effect, 'allow');
  assert.equal(decide(snapshot, ci('viewer'), createVersion).effect, 'deny');
  assert.equal(decide(snapshot, ci('viewer'), req('registeredModels.get', 'read', 'team-a', [{ family: 'model', need: 'read' }])).effect, 'allow');
  assert.equal(decide(snapshot, ci('contributor'), logMetric('team-a')).effect, 'deny');
});

test('an unknown maxRole caps to nothing (an error never grants)', () => {
  assert.deepEqual(decide(snapshot, who('carl', { restrict: { maxRole: 'nope' } }), readRun('team-a')).reasons, ['no-grant']);
});

test('a narrowed administrator is no platform admin, but keeps admin rights inside the narrowing', () => {
  const inA = who('root', { admin: true, restrict: { tenant: 'team-a' } });
  assert.equal(isAdmin(snapshot, inA), undefined);
  assert.deepEqual(tenantsOf(snapshot, inA), ['team-a']);
  assert.equal(decide(snapshot, inA, logMetric('team-a')).effect, 'allow');
  assert.equal(decide(snapshot, inA, readRun('team-b')).effect, 'deny');
  assert.deepEqual(decide(snapshot, inA, req('webhooks.create', 'admin', 'team-a', [])).reasons, ['admin-only']);

  const viewerEverywhere = who('root', { admin: true, restrict: { maxRole: 'viewer' } });
  assert.deepEqual(tenantsOf(snapshot, viewerEverywhere), ['team-a', 'team-b']);
  assert.equal(decide(snapshot, viewerEverywhere, readRun('team-b')).effect, 'allow');
  assert.equal(decide(snapshot, viewerEverywhere, logMetric('team-b')).effect, 'deny');

  assert.equal(isAdmin(snapshot, who('root', { admin: true, restrict: { maxRole: 'admin' } })), true);
});
