/**
 * The principals a local user or a service account appears as — one per identity provider that
 * can authenticate it (its password through each `local` provider, its tokens through each
 * `token` provider), shaped as those providers shape them (src/identity/local-basic.ts,
 * src/identity/api-token.ts) — and the stored policy entries that name them. Which entries name
 * a principal is asked of the policy engine, so what a binding subject or a member entry means
 * stays the engine's rule (its identity `<provider>:<name>`, or its local name, the account's own
 * name: src/identity/local-names.ts); the services end sessions by these principals' ids.
 */
import { asLocalName } from '../identity/local-names.ts';
import { bindingsFor } from '../policy/engine.ts';
import { buildSnapshot } from '../policy/snapshot.ts';
import type { PolicyEntries } from '../store/policy.ts';
import type { PolicyView, ProviderIds } from './context.ts';
import type { Principal } from '../model/principal.ts';

const base = { groups: [], tenants: [], roles: [] } as const;

/** Without such a provider configured, the default ids (a store may outlive a configuration). */
const localIds = (ids: ProviderIds) => (ids.local.length > 0 ? ids.local : ['local']);
const tokenIds = (ids: ProviderIds) => (ids.token.length > 0 ? ids.token : ['token']);

/** The local name these providers give their principals (src/identity/local-names.ts): the account's own name. */
const withLocalName = (name: string) => {
  const localName = asLocalName(name);
  return localName === undefined ? {} : { localName };
};

export function userPrincipals(ids: ProviderIds, user: { readonly username: string; readonly admin: boolean }): Principal[] {
  const local = withLocalName(user.username);
  return [
    ...localIds(ids).map((provider): Principal => ({ ...base, id: `${provider}:${user.username}`, kind: 'user', name: user.username, ...local, admin: user.admin, method: 'basic', provider })),
    ...tokenIds(ids).map((provider): Principal => ({ ...base, id: `${provider}:${user.username}`, kind: 'user', name: user.username, ...local, admin: user.admin, method: 'token', provider })),
  ];
}

/** The principal ids a local user's browser sessions carry (its sign-ins through each local provider): listed, ended and revoked by these. */
export function userSessionOwners(ids: ProviderIds, user: { readonly username: string; readonly admin: boolean }): string[] {
  return userPrincipals(ids, user).map((p) => p.id);
}

export function serviceAccountPrincipals(ids: ProviderIds, name: string): Principal[] {
  const local = withLocalName(name);
  return tokenIds(ids).map((provider): Principal => ({ ...base, id: `${provider}:sa:${name}`, kind: 'service_account', name, ...local, admin: false, method: 'token', provider }));
}

/**
 * The stored entries that name one of these principals itself: grants the engine applies to it
 * not through a group, and local group and tenant member entries the engine reads as naming it
 * (asked through a probe policy with one grant per distinct member value).
 */
export function entriesNaming(view: PolicyView, principals: readonly Principal[]): PolicyEntries & { readonly groups: string[]; readonly tenants: string[] } {
  const snapshot = view.snapshot();
  const alone = (p: Principal): Principal => ({ ...p, groups: [], tenants: [], roles: [], admin: false });
  const bindings = new Set<string>();
  for (const p of principals) {
    for (const b of bindingsFor(snapshot, alone(p))) if (b.source === 'api' && !('group' in b.subject)) bindings.add(b.id.slice('api:'.length));
  }
  const values = [...new Set([...view.stored.groups.flatMap((g) => g.members), ...view.stored.tenants.flatMap((t) => t.members.users)])];
  const probe = buildSnapshot({
    tenants: [],
    groups: [],
    roles: [],
    bindings: values.flatMap((v, i) => [
      { role: 'viewer', effect: 'allow' as const, user: v, id: `u${i}`, source: 'api' as const },
      { role: 'viewer', effect: 'allow' as const, serviceAccount: v, id: `s${i}`, source: 'api' as const },
    ]),
  });
  const named = new Set<string>();
  for (const p of principals) for (const b of bindingsFor(probe, alone(p))) named.add(values[Number(b.id.slice(1))]!);
  const groupMembers = view.stored.groups.flatMap((g) => g.members.filter((m) => named.has(m)).map((member) => ({ group: g.name, member })));
  const tenantMembers = view.stored.tenants.flatMap((t) => t.members.users.filter((m) => named.has(m)).map((name) => ({ tenant: t.name, kind: 'user' as const, name })));
  return {
    bindings: [...bindings],
    groupMembers,
    tenantMembers,
    groups: [...new Set(groupMembers.map((m) => m.group))],
    tenants: [...new Set(tenantMembers.map((m) => m.tenant))],
  };
}
