/**
 * Identity binding across providers (issue 22): a person is one principal however they sign in
 * only when the operator says so, per provider (`link`). With the default `none`, a provider's
 * principals are `<provider id>:<subject>` and nothing else: two IdPs issuing the same `sub` or
 * user name never merge. With `subject`, a sign-in whose identity (`<provider id>:<subject>`:
 * provider ids are unique per issuer, so this is the (issuer, subject) pair) an administrator
 * linked to a local user (admin API `/users/{name}/identities`, `gatehouse users link`) *is* that
 * user for the policy: its local name, grants, groups, tenants and admin flag — and a disabled
 * user's links sign nobody in. The link is read on every request (one indexed lookup, as API
 * tokens are), so an unlink or a disable takes effect on the next one. A SCIM-provisioned user is
 * a local user record: a sign-in reaches it the same way.
 */
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import type { Principal } from '../model/principal.ts';
import { linkedUser, type LinkedUser } from '../store/identities.ts';
import type { Store } from '../store/store.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';

export const linkSchema = z
  .enum(['none', 'subject'])
  .default('none')
  .describe(
    "Whether this provider's sign-ins may be a local user: `none` (default): its principals are only `<id>:<subject>`, never merged with another provider's; `subject`: an identity `<id>:<subject>` an administrator linked to a local user (`gatehouse users link`, `POST /users/{name}/identities`) signs in as that user (its grants, groups, tenants and admin flag); a disabled user's links are refused (docs/identity.md).",
  );

export type LinkMode = z.infer<typeof linkSchema>;

/** The providers (by id) of `auth.providers`, `auth.browser.oidc` and `auth.browser.saml` that link by subject. */
export function linkBySubject(auth: { readonly providers: readonly object[]; readonly browser: { readonly oidc: readonly object[]; readonly saml?: readonly object[] } }): string[] {
  const entries = [...auth.providers, ...auth.browser.oidc, ...(auth.browser.saml ?? [])] as { readonly id: string; readonly link?: LinkMode }[];
  return [...new Set(entries.flatMap((e) => (e.link === 'subject' ? [e.id] : [])))];
}

/** The principal as the linked local user (its local name; admin if either says so). */
function asLinked(p: Principal, user: LinkedUser): Principal {
  return { ...p, localName: user.username, admin: p.admin || user.admin };
}

/**
 * Wraps a provider (the browser session provider included: a session keeps the id and provider of
 * its sign-in) so that its principals of the `linking` providers are linked on every request.
 */
export function linkingProvider(provider: IdentityProvider, deps: { readonly store: Store; readonly log: Logger; readonly linking: readonly string[] }): IdentityProvider {
  if (deps.linking.length === 0) return provider;
  const linking = new Set(deps.linking);
  async function link(result: AuthResult): Promise<AuthResult> {
    if (result.kind !== 'principal' || !linking.has(result.principal.provider)) return result;
    let user: LinkedUser | undefined;
    try {
      user = await linkedUser(deps.store.db, result.principal.id);
    } catch (err) {
      deps.log.error({ err: (err as Error).message }, 'linked identity lookup failed');
      return { kind: 'unavailable', reason: 'store-unavailable' };
    }
    if (!user) return result;
    if (user.disabled) return { kind: 'invalid', reason: 'linked-user-disabled' };
    return { kind: 'principal', principal: asLinked(result.principal, user) };
  }
  const verifyPassword = provider.verifyPassword;
  return {
    ...provider,
    authenticate: async (req) => link(await provider.authenticate(req)),
    ...(verifyPassword && { verifyPassword: async (username: string, password: string, req: import('node:http').IncomingMessage) => link(await verifyPassword(username, password, req)) }),
  };
}
