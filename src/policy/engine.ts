/**
 * The decision: a pure function over a policy snapshot, a principal and a request.
 * Default deny; an explicit deny binding wins over every allow; an error never grants.
 * The result is data: effect, reason ids and the bindings that matched (audit, logs and
 * `gatehouse policy explain` all read the same thing).
 */
import { subjectKey, type PolicySnapshot } from './snapshot.ts';
import { OWNER_ROLE } from './ownership.ts';
import { globMatch } from '../lib/glob.ts';
import { opMatches } from '../routes/mlflow/op-pattern.ts';
import type { Decision, ReasonId } from '../model/decision.ts';
import { levelRank, type Action, type Level } from '../model/permission.ts';
import type { Binding, Role, Scope, Subject } from '../model/policy.ts';
import type { Principal } from '../model/principal.ts';
import type { Anchors, Family } from '../model/resource.ts';
import type { AccessRequest, Check } from '../model/access.ts';

const NEED_LEVEL: Record<Check['need'], Level | undefined> = { read: 'READ', use: 'USE', edit: 'EDIT', manage: 'MANAGE', create: undefined };

interface Grant {
  readonly role: Role;
  readonly scope: Scope;
  readonly binding?: Binding;
  readonly via: ReasonId;
}

interface SubjectFacts {
  readonly groups: readonly string[];
  readonly bindings: readonly Binding[];
  /** tenantsOf, filled on first use. */
  tenants?: readonly string[];
}

interface SnapshotMemo {
  /** Facts of principals the policy names, or whose credential narrows them: one record each. */
  readonly byPrincipal: WeakMap<Principal, SubjectFacts>;
  /**
   * Facts of everyone else, which depend only on their group and tenant lists and admin flag:
   * one record per distinct combination, found through the (interned, src/lib/intern.ts) lists.
   */
  readonly byLists: WeakMap<readonly string[], WeakMap<readonly string[], [SubjectFacts | undefined, SubjectFacts | undefined]>>;
  /** Principals the policy names, by identity or local name (local groups, own bindings, tenant members). */
  readonly named: ReadonlySet<string>;
  /** Equal lists shared between principals (by JSON text: unambiguous whatever the names hold). */
  readonly lists: Map<string, readonly unknown[]>;
}

/**
 * A principal's groups, bindings and tenants under one snapshot, computed once: both are immutable (a
 * policy change builds a new snapshot; the identity caches hand out the same principal object for
 * the same credential), and `decide` asks for them several times per request. Weak on both
 * sides: a replaced snapshot or a forgotten principal takes its entry with it. Principals the
 * policy does not name share their facts with everyone of the same groups, tenants and admin
 * flag: with 100k cached tokens of a few group lists, the memo holds a few records, not 100k
 * (docs/performance.md, footprint).
 */
const memos = new WeakMap<PolicySnapshot, SnapshotMemo>();

/** At most this many distinct lists are shared per snapshot; past it, lists are kept per principal. */
const MAX_SHARED_LISTS = 10_000;

function memoOf(snapshot: PolicySnapshot): SnapshotMemo {
  let memo = memos.get(snapshot);
  if (!memo) {
    const named = new Set(snapshot.groupsOf.keys());
    for (const key of snapshot.bindingsBySubject.keys()) {
      if (key.startsWith('user:')) named.add(key.slice('user:'.length));
      else if (key.startsWith('service_account:')) named.add(key.slice('service_account:'.length));
    }
    for (const t of snapshot.tenants.values()) for (const u of t.members.users) named.add(u);
    memos.set(snapshot, (memo = { byPrincipal: new WeakMap(), byLists: new WeakMap(), named, lists: new Map() }));
  }
  return memo;
}

/** The memo's copy of a list equal to `make()`'s, by `key` (made only when there is none). */
function shared<T>(memo: SnapshotMemo, key: string, make: () => readonly T[]): readonly T[] {
  const found = memo.lists.get(key) as readonly T[] | undefined;
  if (found) return found;
  const list = make();
  if (list.length === 0) return NONE;
  if (memo.lists.size < MAX_SHARED_LISTS) memo.lists.set(key, list);
  return list;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * The policy names a principal by its identity (`id`, `<provider>:<subject>`) or by its local
 * name (src/identity/local-names.ts) — never by its display name. The two never collide: an
 * identity has a `:`, a local name none (one without is ignored here, whoever set it).
 */
function localNameOf(principal: Principal): string | undefined {
  const local = principal.localName;
  return local !== undefined && !local.includes(':') ? local : undefined;
}

function isNamed(named: ReadonlySet<string>, principal: Principal): boolean {
  const local = localNameOf(principal);
  return named.has(principal.id) || (local !== undefined && named.has(local));
}

function factsOf(snapshot: PolicySnapshot, principal: Principal): SubjectFacts {
  const memo = memoOf(snapshot);
  if (principal.restrict !== undefined || isNamed(memo.named, principal)) {
    let facts = memo.byPrincipal.get(principal);
    if (!facts) memo.byPrincipal.set(principal, (facts = computeFacts(memo, snapshot, principal)));
    return facts;
  }
  let byTenants = memo.byLists.get(principal.groups);
  if (!byTenants) memo.byLists.set(principal.groups, (byTenants = new WeakMap()));
  let byAdmin = byTenants.get(principal.tenants);
  if (!byAdmin) byTenants.set(principal.tenants, (byAdmin = [undefined, undefined]));
  const i = principal.admin ? 1 : 0;
  return (byAdmin[i] ??= computeFacts(memo, snapshot, principal));
}

function computeFacts(memo: SnapshotMemo, snapshot: PolicySnapshot, principal: Principal): SubjectFacts {
  const local = localNameOf(principal);
  const refs = local === undefined ? [principal.id] : [principal.id, local];
  const merged = [...new Set([...principal.groups, ...refs.flatMap((r) => snapshot.groupsOf.get(r) ?? [])])];
  const groups = shared(memo, `g${JSON.stringify(merged)}`, () => merged);
  const subject = (ref: string) => subjectKey(principal.kind === 'service_account' ? { serviceAccount: ref } : { user: ref });
  const own = refs.flatMap((r) => snapshot.bindingsBySubject.get(subject(r)) ?? NONE);
  // The groups' bindings depend on the group list alone: one array per distinct list.
  const byGroups = shared(memo, `b${JSON.stringify(groups)}`, () => groups.flatMap((g) => snapshot.bindingsBySubject.get(subjectKey({ group: g })) ?? []));
  // `tenants` is declared here though filled later: a property added afterwards would grow a
  // separate property array on each record.
  return { groups, bindings: own.length === 0 ? byGroups : [...own, ...byGroups], tenants: undefined };
}

/** Groups from the identity provider plus local `groups` memberships. Shared: never modify. */
export function groupsOf(snapshot: PolicySnapshot, principal: Principal): readonly string[] {
  return factsOf(snapshot, principal).groups;
}

/** Shared: never modify. */
export function bindingsFor(snapshot: PolicySnapshot, principal: Principal): readonly Binding[] {
  return factsOf(snapshot, principal).bindings;
}

/** Platform administration as the principal's identity has it, before its credential's narrowing. */
function identityAdmin(snapshot: PolicySnapshot, principal: Principal): Binding | true | undefined {
  if (principal.admin) return true;
  return bindingsFor(snapshot, principal).find((b) => b.effect === 'allow' && b.scope.kind === 'global' && snapshot.roles.get(b.role)?.admin);
}

/**
 * Platform administrator. A credential narrowed to a tenant, or capped below an admin role,
 * never carries platform administration (an admin's tenant-narrowed token holds the admin role
 * in that tenant only, see grantsFor).
 */
export function isAdmin(snapshot: PolicySnapshot, principal: Principal): Binding | true | undefined {
  const admin = identityAdmin(snapshot, principal);
  const r = principal.restrict;
  if (admin === undefined || r === undefined) return admin;
  if (r.tenant !== undefined) return undefined;
  if (r.maxRole !== undefined && snapshot.roles.get(r.maxRole)?.admin !== true) return undefined;
  return admin;
}

/** Tenants the principal belongs to, in configuration order. Admins belong everywhere. Shared: never modify. */
export function tenantsOf(snapshot: PolicySnapshot, principal: Principal): readonly string[] {
  const facts = factsOf(snapshot, principal);
  if (facts.tenants === undefined) {
    const tenants = computeTenants(snapshot, principal);
    facts.tenants = shared(memoOf(snapshot), `t${JSON.stringify(tenants)}`, () => tenants);
  }
  return facts.tenants;
}

function computeTenants(snapshot: PolicySnapshot, principal: Principal): string[] {
  const groups = new Set(groupsOf(snapshot, principal));
  const bound = new Set(bindingsFor(snapshot, principal).flatMap((b) => membershipOf(b) ?? []));
  const global = identityAdmin(snapshot, principal) !== undefined;
  const only = principal.restrict?.tenant;
  return snapshot.tenantOrder.filter((t) => {
    const tenant = snapshot.tenants.get(t)!;
    if (only !== undefined && t !== only) return false;
    return global || principal.tenants.includes(t) || isMember(tenant.members.users, principal) || tenant.members.groups.some((g) => groups.has(g)) || bound.has(t);
  });
}

/** The tenant an allow binding makes its subject a member of (any scope inside a tenant does). */
function membershipOf(b: Binding): string | undefined {
  return b.effect === 'allow' && 'tenant' in b.scope && b.scope.tenant ? b.scope.tenant : undefined;
}

/** Who is in a tenant besides its listed members: subjects of allow grants there, and the local members of its groups (listed or granted). */
export function tenantAccess(snapshot: PolicySnapshot, tenant: string): { users: string[]; groups: string[]; serviceAccounts: string[]; groupMembers: string[] } {
  const granted = snapshot.bindings.filter((b) => membershipOf(b) === tenant).map((b) => b.subject);
  const names = (pick: (s: Subject) => string | undefined) => [...new Set(granted.flatMap((s) => pick(s) ?? []))].sort();
  const users = names((s) => ('user' in s ? s.user : undefined));
  const groups = names((s) => ('group' in s ? s.group : undefined));
  const viaGroups = new Set([...(snapshot.tenants.get(tenant)?.members.groups ?? []), ...groups]);
  const groupMembers = [...snapshot.groupsOf].filter(([, gs]) => gs.some((g) => viaGroups.has(g))).map(([member]) => member).sort();
  return { users, groups, serviceAccounts: names((s) => ('serviceAccount' in s ? s.serviceAccount : undefined)), groupMembers };
}

function isMember(users: readonly string[], principal: Principal): boolean {
  const local = localNameOf(principal);
  return users.includes(principal.id) || (local !== undefined && users.includes(local));
}

function scopeCovers(scope: Scope, family: Family, tenant: string | undefined, anchors: Anchors | undefined, search: boolean): boolean {
  switch (scope.kind) {
    case 'global':
      return true;
    case 'tenant':
      return scope.tenant === tenant;
    case 'experiment': {
      if (search || family !== 'experiment' || (scope.tenant !== undefined && scope.tenant !== tenant) || !anchors) return false;
      if (scope.id !== undefined) return (anchors.experimentIds?.length ?? 0) > 0 && anchors.experimentIds!.every((id) => id === scope.id);
      const names = anchors.experimentNames ?? [];
      return names.length > 0 && names.every((n) => globMatch(scope.namePattern!, n));
    }
    case 'model': {
      if (search || family !== 'model' || (scope.tenant !== undefined && scope.tenant !== tenant) || !anchors) return false;
      const names = anchors.modelNames ?? [];
      return names.length > 0 && names.every((n) => (scope.name !== undefined ? n === scope.name : globMatch(scope.namePattern ?? '', n)));
    }
  }
}

function roleSatisfies(role: Role, check: Check, op: string): boolean {
  if (role.operations.some((o) => opMatches(o, op))) return true;
  if (check.need === 'create') return role.create.includes(check.family);
  const have = role.levels[check.family];
  return have !== undefined && levelRank(have) >= levelRank(NEED_LEVEL[check.need]!);
}

function grantsFor(snapshot: PolicySnapshot, principal: Principal, tenant: string | undefined, owned: readonly Scope[]): Grant[] {
  const grants: Grant[] = owned.map((scope) => ({ role: OWNER_ROLE, scope, via: 'owner' as const }));
  for (const b of bindingsFor(snapshot, principal)) {
    const role = snapshot.roles.get(b.role);
    if (b.effect === 'allow' && role) grants.push({ role, scope: b.scope, binding: b, via: 'role-binding' });
  }
  // A narrowed administrator keeps the admin role's grants, inside the narrowing (tenant, cap).
  const admin = principal.restrict !== undefined && isAdmin(snapshot, principal) === undefined ? identityAdmin(snapshot, principal) : undefined;
  const adminRole = admin !== undefined ? [...snapshot.roles.values()].find((r) => r.admin) : undefined;
  if (adminRole) grants.push({ role: adminRole, scope: { kind: 'global' }, ...(admin !== true && { binding: admin }), via: 'platform-admin' });
  // Roles asserted by the identity provider apply in the tenants it asserts (or everywhere if none).
  for (const name of principal.roles) {
    const role = snapshot.roles.get(name);
    if (!role || role.admin) continue;
    if (principal.tenants.length === 0) grants.push({ role, scope: { kind: 'global' }, via: 'idp-role' });
    else for (const t of principal.tenants) grants.push({ role, scope: { kind: 'tenant', tenant: t }, via: 'idp-role' });
  }
  const defaultRole = tenant ? snapshot.tenants.get(tenant)?.defaultRole : undefined;
  const role = defaultRole ? snapshot.roles.get(defaultRole) : undefined;
  if (role && tenant) grants.push({ role, scope: { kind: 'tenant', tenant }, via: 'tenant-default-role' });
  return grants;
}

const deny = (...reasons: ReasonId[]): Decision => ({ effect: 'deny', reasons, matchedBindings: [] });

export function decide(snapshot: PolicySnapshot, principal: Principal | undefined, req: AccessRequest): Decision {
  if (req.action === 'public') return { effect: 'allow', reasons: ['public-route'], matchedBindings: [] };
  if (req.action === 'deny') return deny('route-denied');
  if (!principal) return deny('unauthenticated');
  // Before deny bindings: another tenant's resource must answer exactly like a missing one.
  if (req.checks.some((c) => c.anchors?.tenants?.some((t) => t !== req.tenant)) && isAdmin(snapshot, principal) === undefined) return deny('foreign-tenant');
  const denied = deniedBy(snapshot, principal, req);
  if (denied.length > 0) return { effect: 'deny', reasons: ['explicit-deny'], matchedBindings: denied.map((b) => b.id) };
  const admin = isAdmin(snapshot, principal);
  if (admin !== undefined) return { effect: 'allow', reasons: ['platform-admin'], matchedBindings: admin === true ? [] : [admin.id] };
  if (req.action === 'admin') return deny('admin-only');
  if (req.action === 'authenticated') return { effect: 'allow', reasons: ['authenticated-route'], matchedBindings: [] };
  if (req.workspaceApi === 'list' || req.workspaceApi === 'get') {
    // Workspaces are tenants: members may see their own (the list is filtered to them).
    const mine = tenantsOf(snapshot, principal);
    if (req.workspaceApi === 'list' ? mine.length > 0 : req.workspace !== undefined && mine.includes(req.workspace)) {
      return { effect: 'allow', reasons: ['tenant-member'], matchedBindings: [] };
    }
    return deny(mine.length > 0 ? 'not-member' : 'no-tenant');
  }
  if (req.tenant === undefined) return deny('no-tenant');
  if (!tenantsOf(snapshot, principal).includes(req.tenant)) return deny('not-member');
  const grants = grantsFor(snapshot, principal, req.tenant, req.owned ?? []);
  // A credential's maxRole caps every grant: the role must allow the check too. An unknown role caps to nothing.
  const capName = principal.restrict?.maxRole;
  const cap = capName === undefined ? undefined : (snapshot.roles.get(capName) ?? null);
  const capAllows = (check: Check) => cap === undefined || (cap !== null && roleSatisfies(cap, check, req.op));
  if (req.search && req.filterable && req.checks.length === 1) return decideFilteredSearch(snapshot, principal, req, req.checks[0]!, grants, capAllows);
  const matched = new Set<string>();
  let via: ReasonId | undefined;
  for (const check of req.checks) {
    const grant = capAllows(check) ? grants.find((g) => scopeCovers(g.scope, check.family, req.tenant, check.anchors, req.search) && roleSatisfies(g.role, check, req.op)) : undefined;
    if (!grant) return { effect: 'deny', reasons: ['no-grant'], matchedBindings: [...matched] };
    if (grant.binding) matched.add(grant.binding.id);
    via ??= grant.via;
  }
  if (req.checks.length === 0) return deny('no-grant');
  return { effect: 'allow', reasons: [via ?? 'role-binding'], matchedBindings: [...matched] };
}

/**
 * Deny bindings that cover the request: the denied role would satisfy one of its checks at
 * the binding's scope (a denied `admin` role at global scope also closes admin routes).
 */
function deniedBy(snapshot: PolicySnapshot, principal: Principal, req: AccessRequest): Binding[] {
  return bindingsFor(snapshot, principal).filter((b) => {
    if (b.effect !== 'deny') return false;
    // A filterable search applies resource-scoped denies item by item instead.
    if (req.search && req.filterable && isResourceScope(b.scope)) return false;
    const role = snapshot.roles.get(b.role);
    if (!role) return true; // a deny naming an unknown role denies: an error never grants
    if (req.action === 'admin' || req.action === 'authenticated') return role.admin && b.scope.kind === 'global';
    return req.checks.some((c) => denyCovers(b.scope, c, req.tenant, req.search) && roleTouches(role, c, req.op));
  });
}

/**
 * What a deny binding takes away: every access in a family its role grants anything in (a
 * denied viewer cannot write either: writing implies reading), plus the role's operations.
 */
function roleTouches(role: Role, check: Check, op: string): boolean {
  if (check.need === 'create') return role.create.includes(check.family) || roleSatisfies(role, check, op);
  return role.levels[check.family] !== undefined || roleSatisfies(role, check, op);
}

/**
 * Like scopeCovers, but an unknown resource or a search counts as covered: a resource-scoped
 * deny must not be escaped by not resolving the resource, or by listing instead of getting.
 */
function denyCovers(scope: Scope, check: Check, tenant: string | undefined, search: boolean): boolean {
  if (scope.kind === 'global' || scope.kind === 'tenant') return scopeCovers(scope, check.family, tenant, check.anchors, search);
  const family: Family = scope.kind === 'experiment' ? 'experiment' : 'model';
  if (check.family !== family || (scope.tenant !== undefined && scope.tenant !== tenant)) return false;
  if (check.need === 'create') return false; // a new resource is not the one the deny names
  if (search || check.anchors === undefined) return true;
  // An allow must cover every resource of the call; a deny covers the call if it names any one
  // of them (`experiment_ids: [1, 5]` must not escape a deny on 5 by bringing 1 along).
  const a = check.anchors;
  const each: Anchors[] = [
    ...(a.experimentIds ?? []).map((id, i) => ({ experimentIds: [id], experimentNames: a.experimentNames?.[i] === undefined ? [] : [a.experimentNames[i]!] })),
    ...(a.experimentIds === undefined ? (a.experimentNames ?? []).map((n) => ({ experimentNames: [n] })) : []),
    ...(a.modelNames ?? []).map((n) => ({ modelNames: [n] })),
  ];
  if (each.length === 0) return true;
  return each.some((one) => scopeCovers(scope, check.family, tenant, one, false));
}

const isResourceScope = (s: Scope) => s.kind === 'experiment' || s.kind === 'model';
const familyOfScope = (s: Scope): Family => (s.kind === 'model' ? 'model' : 'experiment');
const inTenant = (s: Scope, tenant: string | undefined) => !('tenant' in s) || s.tenant === undefined || s.tenant === tenant;

/**
 * An unconstrained search (experiments, registered models): tenant-wide read with no
 * resource-scoped deny answers it whole; otherwise, if the principal can read anything in the
 * family (resource-scoped grants, ownership), it is answered filtered, item by item, by this
 * same engine (`filter: true`); otherwise it is denied.
 */
function decideFilteredSearch(snapshot: PolicySnapshot, principal: Principal, req: AccessRequest, check: Check, grants: Grant[], capAllows: (c: Check) => boolean): Decision {
  if (!capAllows(check)) return deny('no-grant');
  const wide = grants.find((g) => !isResourceScope(g.scope) && scopeCovers(g.scope, check.family, req.tenant, undefined, true) && roleSatisfies(g.role, check, req.op));
  const narrowDeny = bindingsFor(snapshot, principal).some((b) => {
    const role = snapshot.roles.get(b.role);
    return b.effect === 'deny' && isResourceScope(b.scope) && familyOfScope(b.scope) === check.family && inTenant(b.scope, req.tenant) && (!role || roleTouches(role, check, req.op));
  });
  if (wide && !narrowDeny) return { effect: 'allow', reasons: [wide.via], matchedBindings: wide.binding ? [wide.binding.id] : [] };
  const narrowAllow = grants.some((g) => isResourceScope(g.scope) && familyOfScope(g.scope) === check.family && inTenant(g.scope, req.tenant) && roleSatisfies(g.role, check, req.op));
  if (wide || narrowAllow) return { effect: 'allow', reasons: ['filtered-search'], matchedBindings: [], filter: true };
  return deny('no-grant');
}

/** Whether the decision for this principal can depend on which experiment or model a call touches. */
export function hasResourceScopedBindings(snapshot: PolicySnapshot, principal: Principal, owned: readonly Scope[] = []): boolean {
  return owned.length > 0 || bindingsFor(snapshot, principal).some((b) => b.scope.kind === 'experiment' || b.scope.kind === 'model');
}
