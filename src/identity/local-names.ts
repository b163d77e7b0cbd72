/**
 * How the policy names a principal. A binding subject, tenant member or local group member is
 * either an identity — `<provider id>:<subject>`, the principal's `id` (`corp:8f2c…`,
 * `ldap:alice`, `mtls:team-a-trainer`) — or a local name without `:` (`alice`), which stands for
 * the local user or service account of that name. An identity provider's user name (an OIDC
 * `preferred_username`, an LDAP `uid`, a proxy's user header) is a local name only where the
 * operator configured that provider with `assertsLocalNames`: otherwise whoever can pick a user
 * name at some trusted IdP could take over a local user's grants. The two forms never overlap:
 * an identity always has a `:`, a local name never.
 */
import { z } from 'zod';
import type { Principal } from '../model/principal.ts';

/** A local user or service account name as the policy writes it (letters, digits, `. _ @ -`; no `:`). */
export const LOCAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

/** An identity: a provider id, `:`, and the provider's stable subject (no control characters, no surrounding blanks). */
export const IDENTITY = /^[a-z][a-z0-9-]*:[^\s\p{Cc}](?:[^\p{Cc}]{0,1021}[^\s\p{Cc}])?$/u;

/** `name` as a local name, or undefined when it cannot be one (a `:` or another character a local name never has). */
export function asLocalName(name: string | undefined): string | undefined {
  return name !== undefined && LOCAL_NAME.test(name) ? name : undefined;
}

/** The provider id of an identity (`corp` of `corp:8f2c…`), or undefined for a local name. */
export function providerOf(ref: string): string | undefined {
  const colon = ref.indexOf(':');
  return colon < 0 ? undefined : ref.slice(0, colon);
}

/** The per-provider option (off by default) that lets a provider's user names stand for local names. */
export const assertsLocalNamesSchema = z
  .boolean()
  .default(false)
  .describe(
    "Let this provider's user name stand for the local user or service account of that name: bindings, tenant members and local groups that name `alice` without a provider then also apply to this provider's principal whose user name is `alice` (a name with `:` never counts). Off by default, and then the policy names this provider's principals only as `<id>:<subject>`. Turn it on only for a provider where nobody can choose or change their own user name: whoever can take a name there takes that local account's access (docs/identity.md).",
  );

/**
 * A principal described rather than authenticated (`policy explain`, who-can-access, the MLflow
 * auth API's permission answers), as the policy would see it: `ref` is an identity
 * (`corp:8f2c…`, then `id` is `ref`) or a local name (then `localName` is `ref`, and `id` is made
 * up under `provider`). `localName` may also be given for an identity whose provider asserts
 * local names.
 */
export function describedPrincipal(ref: string, fields: Pick<Principal, 'kind' | 'provider' | 'method'> & Partial<Principal>): Principal {
  const local = asLocalName(ref);
  const localName = local ?? fields.localName;
  return {
    groups: [],
    tenants: [],
    roles: [],
    admin: false,
    ...fields,
    id: local === undefined ? ref : `${fields.provider}:${ref}`,
    name: local ?? ref.slice(ref.indexOf(':') + 1),
    ...(localName !== undefined && { localName }),
  };
}

/**
 * The local user account a principal *is* — signed in with its password, a personal API token or
 * a browser session opened that way — as opposed to a principal whose provider merely asserts the
 * name. Account matters (minting its tokens, changing its password) need this; grants follow
 * `localName`. `localProviders`: the ids of the `local` and `token` providers.
 */
export function localUserOf(principal: Principal, localProviders: readonly string[]): string | undefined {
  return principal.kind === 'user' && localProviders.includes(principal.provider) ? principal.localName : undefined;
}
