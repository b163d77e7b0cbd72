/**
 * Grants bind identities, not names (src/identity/local-names.ts): since then a policy name
 * without a provider (`user: bob`) means the local user or service account bob, and no longer
 * a user of an IdP or directory that happens to be called bob — unless that provider asserts
 * local names. Such a binding can only lose access, never give it to someone else, so it is
 * not refused; and a name may belong to a local user not created yet, so nothing at load time
 * can tell a mistake from a plan. At start, every name that is no local user or service account
 * while a provider could have meant it is reported, with the fix; so is an identity naming a
 * provider that is not configured (it matches nobody).
 */
import type { PolicySources } from './snapshot.ts';
import { providerOf } from '../identity/local-names.ts';

export interface ProviderFacts {
  readonly id: string;
  readonly type: string;
  readonly assertsLocalNames?: boolean;
}

/** One reference to a principal in the policy, where it is written. */
interface Ref {
  readonly where: string;
  readonly ref: string;
  readonly kind: 'user' | 'service account' | 'principal';
}

function refsOf(sources: PolicySources): Ref[] {
  const refs: Ref[] = [];
  sources.bindings.forEach((b, i) => {
    const where = b.id?.startsWith('api:') ? `grant ${b.id}` : `bindings[${i}]`;
    if (b.user !== undefined) refs.push({ where: `${where}.user`, ref: b.user, kind: 'user' });
    if (b.serviceAccount !== undefined) refs.push({ where: `${where}.serviceAccount`, ref: b.serviceAccount, kind: 'service account' });
  });
  sources.tenants.forEach((t) => t.members.users.forEach((u) => refs.push({ where: `tenant ${t.name} members.users`, ref: u, kind: 'principal' })));
  sources.groups.forEach((g) => g.members.forEach((m) => refs.push({ where: `group ${g.name} members`, ref: m, kind: 'principal' })));
  return refs;
}

/**
 * Warnings (one line each) about names in `sources` (the declared policy merged with the
 * store's): `users` and `serviceAccounts` are the local ones in the store; `providers` every
 * configured identity provider (`auth.providers`, then `auth.browser.oidc` with type `oidc`).
 */
export function policyNameWarnings(sources: PolicySources, providers: readonly ProviderFacts[], local: { users: ReadonlySet<string>; serviceAccounts: ReadonlySet<string> }): string[] {
  const ids = new Set(providers.map((p) => p.id));
  // Providers whose principals have no local name: a bare name in the policy never means them.
  const foreign = providers.filter((p) => p.type !== 'local' && p.type !== 'token' && !p.assertsLocalNames);
  const foreignList = [...new Set(foreign.map((p) => `${p.id} (${p.type})`))].join(', ');
  const example = foreign[0]?.id ?? 'corp';
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const { where, ref, kind } of refsOf(sources)) {
    const provider = providerOf(ref);
    if (provider !== undefined) {
      if (!ids.has(provider)) warnings.push(`${where}: "${ref}" names an identity of provider ${provider}, which is not configured (auth.providers, auth.browser.oidc); it matches nobody`);
      continue;
    }
    const known = kind === 'user' ? local.users.has(ref) : kind === 'service account' ? local.serviceAccounts.has(ref) : local.users.has(ref) || local.serviceAccounts.has(ref);
    if (known || foreign.length === 0 || seen.has(`${where}\0${ref}`)) continue;
    seen.add(`${where}\0${ref}`);
    warnings.push(
      `${where}: "${ref}" names the local ${kind === 'principal' ? 'user or service account' : kind} ${ref}, and there is none yet. ` +
        `A name without a provider no longer matches users of ${foreignList}: grants bind identities, not names. ` +
        `To mean one of them, write its identity "<provider id>:<subject>" as the audit log shows its principal id (e.g. "${example}:<sub>"); ` +
        `or, only if nobody can choose their own user name at that provider, set assertsLocalNames: true on it (docs/identity.md, "Names and identities").`,
    );
  }
  return warnings;
}
