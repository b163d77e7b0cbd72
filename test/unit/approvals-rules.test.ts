/**
 * Which calls approval rules hold (src/approvals/rules.ts) and which rules the configuration
 * accepts (src/approvals/config.ts): only the kinds the gateway enforces, approvers named,
 * names unique, and never with an authorization mode that has no engine decision to keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldBy, rulesFor } from '../../src/approvals/rules.ts';
import { approvalsSchema, type ApprovalRule } from '../../src/approvals/config.ts';
import { loadConfig } from '../../src/config/load.ts';

const rules: ApprovalRule[] = approvalsSchema.parse({
  rules: [
    { name: 'prod', kind: 'alias', aliases: ['production', 'prod-*'], approvers: { tenantAdmins: true } },
    { name: 'b-only', kind: 'alias', aliases: ['champion'], tenants: ['team-b'], approvers: { groups: ['leads'] }, required: 2 },
  ],
}).rules;

test('an alias matching a pattern is held; others, other operations and other tenants are not', () => {
  const set = (alias: unknown) => ({ name: 'm', alias, version: '1' });
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-a', set('production'))?.rule.name, 'prod');
  assert.deepEqual(heldBy(rules, 'registeredModels.setAlias', 'team-a', set('prod-eu'))?.summary, { kind: 'alias', model: 'm', alias: 'prod-eu', version: '1' });
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-a', set('staging')), undefined);
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-a', set('xproduction')), undefined, 'patterns match the whole name');
  assert.equal(heldBy(rules, 'registeredModels.getVersionByAlias', 'team-a', set('production')), undefined);
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-a', set('champion')), undefined, 'b-only applies in team-b only');
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-b', set('champion'))?.rule.name, 'b-only');
});

test('a body the rule cannot read is held, never let through unread', () => {
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-a', { name: 'm', alias: 7 })?.rule.name, 'prod');
  assert.equal(heldBy(rules, 'registeredModels.setAlias', 'team-a', undefined)?.rule.name, 'prod');
});

test('rulesFor names the rules that would hold an operation in a tenant', () => {
  assert.deepEqual(rulesFor(rules, 'registeredModels.setAlias', 'team-b').map((r) => r.name), ['prod', 'b-only']);
  assert.deepEqual(rulesFor(rules, 'experiments.delete', 'team-b'), []);
});

test('the configuration refuses kinds not enforced, rules without approvers, duplicate names and dev-allow-all', () => {
  const problems = (approvals: unknown, extra: Record<string, unknown> = {}) => {
    try {
      loadConfig({ env: {}, overrides: { approvals, ...extra } });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.match(problems({ rules: [{ name: 'd', kind: 'delete', aliases: ['x'], approvers: { tenantAdmins: true } }] }), /approvals\.rules\.0\.kind/);
  assert.match(problems({ rules: [{ name: 'n', kind: 'alias', aliases: ['x'], approvers: {} }] }), /name at least one approver/);
  assert.match(problems({ rules: [{ name: 'n', kind: 'alias', aliases: ['x'], approvers: { tenantAdmins: true }, required: 3 }] }), /approvals\.rules\.0\.required/);
  const rule = { name: 'n', kind: 'alias', aliases: ['x'], approvers: { tenantAdmins: true } };
  assert.match(problems({ rules: [rule, rule] }), /rule n is named twice/);
  assert.match(problems({ rules: [rule] }, { 'authorization.mode': 'dev-allow-all' }), /approval rules need authorization.mode policy/);
  assert.equal(problems({ rules: [rule] }), '');
});
