/**
 * Identity binding across providers (issue 22): a person is one principal however they sign in
 * only when the operator says so, per provider (`link`). With the default `none`, a provider's
 * principals are `<provider id>:<subject>` and nothing else: two IdPs issuing the same `sub` or
 * user name never merge. With `subject`, a sign-in whose identity (`<provider id>:<subject>`:
 * provider ids are unique per issuer, so this is the (issuer, subject) pair) an administrator
 * linked to a local user (admin API `/users/{name}/identities`, `gatehouse users link`) *is* that
 * user for the policy: its local name, grants, groups, tenants and admin flag — and a disabled
 * user's links sign nobody in. The link is read on every request (one indexed lookup, as API
 * tokens are), so an unlink or a disable takes effect on the next one. With `email`, a sign-in
 * whose email its provider vouches for (`emailVerified`) is the local user an administrator gave
 * that email; an unverified email binds nobody. A SCIM-provisioned user is a local user record: a
 * sign-in reaches it the same way (`scim.identityProvider` has the SCIM door write the link, and
 * `scim.requireProvisioned` refuses that provider's unlinked sign-ins).
 */
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import type { Principal } from '../model/principal.ts';
import { linkedUser, userOfEmail, type LinkedUser } from '../store/identities.ts';
import type { Store } from '../store/store.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';

export const linkSchema = z
  .enum(['none', 'subject', 'email'])
  .default('none')
  .describe(
    "Whether this provider's sign-ins may be a local user: `none` (default): its principals are only `<id>:<subject>`, never merged with another provider's; `subject`: an identity `<id>:<subject>` an administrator linked to a local user (`gatehouse users link`, `POST /users/{name}/identities`) signs in as that user (its grants, groups, tenants and admin flag); `email`: a sign-in whose email the provider vouches for (OIDC `email_verified: true`, the LDAP directory's mail attribute, a SAML IdP with `emailsVerified: true`) signs in as the local user with that email (`gatehouse users set-email`); a disabled user is refused either way (docs/identity.md).",
  );

export type LinkMode = z.infer<typeof linkSchema>;

type AuthEntries = { readonly providers: readonly object[]; readonly browser: { readonly oidc: readonly object[]; readonly saml?: readonly object[] } };

/** How each provider of `auth.providers`, `auth.browser.oidc` and `auth.browser.saml` links (`none` left out). */
export function linkModes(auth: AuthEntries): ReadonlyMap<string, Exclude<LinkMode, 'none'>> {
  const entries = [...auth.providers, ...auth.browser.oidc, ...(auth.browser.saml ?? [])] as { readonly id: string; readonly link?: LinkMode }[];
  return new Map(entries.flatMap((e) => (e.link === 'subject' || e.link === 'email' ? [[e.id, e.link] as const] : [])));
}

/** The providers (by id) that link by subject: their identities may be linked to local users. */
export function linkBySubject(auth: AuthEntries): string[] {
  return [...linkModes(auth)].flatMap(([id, mode]) => (mode === 'subject' ? [id] : []));
}

/** The principal as the linked local user (its local name; admin if either says so). */
function asLinked(p: Principal, user: LinkedUser): Principal {
  return { ...p, localName: user.username, admin: p.admin || user.admin };
}

export interface LinkDeps {
  readonly store: Store;
  readonly log: Logger;
  readonly linking: ReadonlyMap<string, Exclude<LinkMode, 'none'>>;
  /** Providers whose sign-ins must be linked (`scim.requireProvisioned`): an unlinked one is refused. */
  readonly required?: ReadonlySet<string>;
}

/**
 * The one link rule: a result's principal as the user it is linked to, or refused (a disabled
 * linked user; an unlinked sign-in of a provider that requires provisioning). Every request runs
 * it (linkingProvider); the browser login runs it before it opens a session (src/web/login.ts).
 */
export function principalLinker(deps: LinkDeps): (result: AuthResult) => Promise<AuthResult> {
  /** The user the principal is, by its provider's mode; undefined: none (an unverified email binds nobody). */
  function userOf(p: Principal): Promise<LinkedUser | undefined> {
    const mode = deps.linking.get(p.provider);
    if (mode === 'subject') return linkedUser(deps.store.db, p.id);
    if (mode === 'email' && p.email !== undefined && p.emailVerified === true) return userOfEmail(deps.store.db, p.email);
    return Promise.resolve(undefined);
  }
  return async function link(result: AuthResult): Promise<AuthResult> {
    if (result.kind !== 'principal' || deps.linking.size === 0) return result;
    let user: LinkedUser | undefined;
    try {
      user = await userOf(result.principal);
    } catch (err) {
      deps.log.error({ err: (err as Error).message }, 'linked identity lookup failed');
      return { kind: 'unavailable', reason: 'store-unavailable' };
    }
    // A person SCIM deleted (their link went with the user) must not come back as a bare identity.
    if (!user) return deps.required?.has(result.principal.provider) ? { kind: 'invalid', reason: 'identity-not-provisioned' } : result;
    if (user.disabled) return { kind: 'invalid', reason: 'linked-user-disabled' };
    return { kind: 'principal', principal: asLinked(result.principal, user) };
  };
}

/**
 * Wraps a provider (the browser session provider included: a session keeps the id and provider of
 * its sign-in) so that its principals of the `linking` providers are linked on every request.
 */
export function linkingProvider(provider: IdentityProvider, deps: LinkDeps): IdentityProvider {
  if (deps.linking.size === 0) return provider;
  const link = principalLinker(deps);
  return {
    ...provider,
    authenticate: async (req) => link(await provider.authenticate(req)),
    // The login form: a disabled linked user is refused here already, but the session keeps the
    // principal as its provider made it, so every request links it afresh (an unlink or a changed
    // email takes effect on the session's next request). Called as the provider's own method: its
    // verifyPassword may use `this` (local, LDAP).
    ...(provider.verifyPassword && {
      verifyPassword: async (username: string, password: string, req: import('node:http').IncomingMessage) => {
        const result = await provider.verifyPassword!(username, password, req);
        const linked = await link(result);
        return linked.kind === 'principal' ? result : linked;
      },
    }),
  };
}
