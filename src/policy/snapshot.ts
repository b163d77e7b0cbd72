/**
 * The in-memory snapshot the engine decides over: roles by name, bindings indexed by
 * subject, tenants with their members. Built once from the configuration (and, later, the
 * store) and swapped whole when something changes; a decision never touches a database.
 */
import type { BindingConfig, GroupConfig, RoleConfig, TenantConfig } from './config.ts';
import type { Binding, Role, Scope, Subject, Tenant } from '../model/policy.ts';
import { BUILTIN_ROLES } from './roles.ts';

export interface PolicySnapshot {
  readonly roles: ReadonlyMap<string, Role>;
  readonly tenants: ReadonlyMap<string, Tenant>;
  /** Tenant names in declaration order (the default tenant is the first a principal belongs to). */
  readonly tenantOrder: readonly string[];
  readonly defaultTenant: string | undefined;
  /** Local group memberships: principal name → extra groups. */
  readonly groupsOf: ReadonlyMap<string, readonly string[]>;
  /** Bindings by subject key (`user:alice`, `group:readers`, `service_account:ci`). */
  readonly bindingsBySubject: ReadonlyMap<string, readonly Binding[]>;
  readonly bindings: readonly Binding[];
}

/** A binding as declared, with where it came from when it is not the config file (store ids). */
export type SourcedBinding = BindingConfig & { readonly id?: string; readonly source?: 'config' | 'api' };

export interface PolicySources {
  readonly tenants: readonly TenantConfig[];
  readonly groups: readonly GroupConfig[];
  readonly roles: readonly RoleConfig[];
  readonly bindings: readonly SourcedBinding[];
  readonly defaultTenant?: string | undefined;
}

export const subjectKey = (s: Subject): string =>
  'user' in s ? `user:${s.user}` : 'group' in s ? `group:${s.group}` : `service_account:${s.serviceAccount}`;

function scopeOf(b: BindingConfig): Scope {
  if (b.experiment) {
    return { kind: 'experiment', ...(b.tenant && { tenant: b.tenant }), ...(b.experiment.id && { id: b.experiment.id }), ...(b.experiment.namePattern && { namePattern: b.experiment.namePattern }) };
  }
  if (b.model) return { kind: 'model', ...(b.tenant && { tenant: b.tenant }), namePattern: b.model.namePattern };
  if (b.tenant) return { kind: 'tenant', tenant: b.tenant };
  return { kind: 'global' };
}

function subjectOf(b: BindingConfig): Subject {
  if (b.user !== undefined) return { user: b.user };
  if (b.group !== undefined) return { group: b.group };
  return { serviceAccount: b.serviceAccount! };
}

export function buildSnapshot(src: PolicySources): PolicySnapshot {
  const roles = new Map<string, Role>(BUILTIN_ROLES.map((r) => [r.name, r]));
  for (const r of src.roles) {
    roles.set(r.name, { name: r.name, description: r.description, levels: r.levels, operations: r.operations, create: r.create as Role['create'], admin: false });
  }
  const tenants = new Map<string, Tenant>(
    src.tenants.map((t) => [t.name, { name: t.name, ...(t.defaultRole && { defaultRole: t.defaultRole }), members: { users: t.members.users, groups: t.members.groups } }]),
  );
  const groupsOf = new Map<string, string[]>();
  for (const g of src.groups) for (const m of g.members) groupsOf.set(m, [...(groupsOf.get(m) ?? []), g.name]);
  const bindings: Binding[] = src.bindings.map((b, i) => ({ id: b.id ?? `config:${i}`, role: b.role, subject: subjectOf(b), scope: scopeOf(b), effect: b.effect, source: b.source ?? 'config' }));
  const bindingsBySubject = new Map<string, Binding[]>();
  for (const b of bindings) {
    const key = subjectKey(b.subject);
    bindingsBySubject.set(key, [...(bindingsBySubject.get(key) ?? []), b]);
  }
  return { roles, tenants, tenantOrder: src.tenants.map((t) => t.name), defaultTenant: src.defaultTenant, groupsOf, bindingsBySubject, bindings };
}

/** Problems a snapshot would have: unknown roles and tenants named by bindings and tenants. */
export function referenceProblems(src: PolicySources): { path: (string | number)[]; message: string }[] {
  const roleNames = new Set([...BUILTIN_ROLES.map((r) => r.name), ...src.roles.map((r) => r.name)]);
  const tenantNames = new Set(src.tenants.map((t) => t.name));
  const problems: { path: (string | number)[]; message: string }[] = [];
  src.bindings.forEach((b, i) => {
    if (!roleNames.has(b.role)) problems.push({ path: ['bindings', i, 'role'], message: `unknown role ${b.role}` });
    if (b.tenant && !tenantNames.has(b.tenant)) problems.push({ path: ['bindings', i, 'tenant'], message: `unknown tenant ${b.tenant}` });
  });
  src.tenants.forEach((t, i) => {
    if (t.defaultRole && !roleNames.has(t.defaultRole)) problems.push({ path: ['tenants', i, 'defaultRole'], message: `unknown role ${t.defaultRole}` });
  });
  src.roles.forEach((r, i) => {
    if (BUILTIN_ROLES.some((b) => b.name === r.name)) problems.push({ path: ['roles', i, 'name'], message: `${r.name} is a built-in role` });
  });
  const seen = new Set<string>();
  src.tenants.forEach((t, i) => {
    if (seen.has(t.name)) problems.push({ path: ['tenants', i, 'name'], message: `duplicate tenant ${t.name}` });
    seen.add(t.name);
  });
  if (src.defaultTenant && !tenantNames.has(src.defaultTenant)) problems.push({ path: ['tenancy', 'defaultTenant'], message: `unknown tenant ${src.defaultTenant}` });
  return problems;
}
