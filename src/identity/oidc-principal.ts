/**
 * Turns a verified token payload into a principal with the issuer's claim mapping. A
 * client-credentials token (RFC 6749 §4.4: `sub` is the client itself, RFC 9068 §2.2) or one
 * without any email or name claim belongs to a machine: a first-class service account.
 */
import type { JWTPayload } from 'jose';
import { compileListClaim, listClaim, stringClaim, type ClaimMapping } from './claims.ts';
import { asLocalName } from './local-names.ts';
import { createListInterner } from '../lib/intern.ts';
import type { Principal } from '../model/principal.ts';

export interface MappingConfig {
  readonly id: string;
  readonly claims: ClaimMapping;
  readonly serviceAccount: 'auto' | 'always' | 'never';
  readonly admin: { readonly groups: readonly string[]; readonly roles: readonly string[] };
  /** The user name claim also names the local user or service account of that name (src/identity/local-names.ts). */
  readonly assertsLocalNames: boolean;
  /** The principal's `method`: `oidc` (the default) or `saml` (attributes of an assertion, src/identity/saml.ts). */
  readonly method?: 'oidc' | 'saml';
  /**
   * Every email this issuer asserts is verified (a SAML IdP configured so). Otherwise only an
   * email with `email_verified: true` (OpenID Connect Core §5.1) is.
   */
  readonly emailsVerified?: boolean;
}

export function compileMapping(config: MappingConfig): (payload: JWTPayload) => Principal | undefined {
  const { claims } = config;
  const groups = compileListClaim(claims.groups ?? 'groups');
  const roles = compileListClaim(claims.roles);
  const tenants = compileListClaim(claims.tenants);
  const adminGroups = new Set(config.admin.groups);
  const adminRoles = new Set(config.admin.roles);

  // One frozen copy of each distinct list (nearly every token of an issuer carries one of a few
  // group lists): a cache of 100k verified tokens holds a few arrays, not 100k (src/lib/intern.ts).
  const lists = createListInterner();
  const method = config.method ?? 'oidc';

  return (payload) => {
    const subject = stringClaim(payload, claims.subject);
    if (subject === undefined) return undefined;
    const username = claims.username.map((p) => stringClaim(payload, p)).find((v) => v !== undefined);
    const email = stringClaim(payload, claims.email);
    const emailVerified = config.emailsVerified === true || payload.email_verified === true;
    const principalGroups = lists(listClaim(payload, groups));
    const principalRoles = lists(listClaim(payload, roles));
    const id = `${config.id}:${subject}`;
    const kind = isServiceAccount(config.serviceAccount, payload, subject, username, email) ? 'service_account' : 'user';
    const name = username === subject ? subject : (username ?? subject); // one copy when they are equal
    const principalTenants = lists(listClaim(payload, tenants));
    const admin = principalGroups.some((g) => adminGroups.has(g)) || principalRoles.some((r) => adminRoles.has(r));
    // The user name claim itself (never the subject standing in for it), and only where the
    // operator said this issuer's names are local names.
    const localName = config.assertsLocalNames ? asLocalName(username) : undefined;
    // Literals rather than spreads of the optional properties: one object of a fixed shape, its
    // properties inside it (a spread in the middle grows a separate property array per principal).
    if (localName !== undefined) {
      return email === undefined
        ? { id, kind, name, localName, groups: principalGroups, tenants: principalTenants, roles: principalRoles, admin, method, provider: config.id }
        : { id, kind, name, localName, email, emailVerified, groups: principalGroups, tenants: principalTenants, roles: principalRoles, admin, method, provider: config.id };
    }
    return email === undefined
      ? { id, kind, name, groups: principalGroups, tenants: principalTenants, roles: principalRoles, admin, method, provider: config.id }
      : { id, kind, name, email, emailVerified, groups: principalGroups, tenants: principalTenants, roles: principalRoles, admin, method, provider: config.id };
  };
}

function isServiceAccount(
  mode: MappingConfig['serviceAccount'],
  payload: JWTPayload,
  subject: string,
  username: string | undefined,
  email: string | undefined,
): boolean {
  if (mode !== 'auto') return mode === 'always';
  const client = stringClaim(payload, 'client_id') ?? stringClaim(payload, 'azp');
  if (client !== undefined && client === subject) return true;
  return email === undefined && username === undefined && stringClaim(payload, 'name') === undefined;
}
