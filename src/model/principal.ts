/** Who is calling, as the identity providers establish it. */
export interface Principal {
  /**
   * The stable identity, unique across providers: `<provider id>:<subject>` (`corp:8f2c…` for an
   * OIDC subject, `local:alice`). Bindings, tenant members and local groups name a principal by
   * this, or by `localName` (src/policy/engine.ts).
   */
  readonly id: string;
  readonly kind: 'user' | 'service_account';
  /** Display name (an IdP's `preferred_username`): shown and logged, never matched by the policy. */
  readonly name: string;
  /**
   * The local name the policy may use for this principal without a provider (`alice` rather than
   * `local:alice`): the local user or service account it is (local passwords, API tokens, their
   * browser sessions), or its user name from a provider configured with `assertsLocalNames`
   * (src/identity/local-names.ts). Absent: only `id` names it. Never contains `:`.
   */
  readonly localName?: string;
  readonly email?: string;
  /**
   * The provider vouches for `email` (OIDC `email_verified: true`, an LDAP directory's own
   * attribute, a SAML IdP configured with `emailsVerified`): only then may `link: email` bind it
   * to a local user (src/identity/link.ts). Present when `email` is.
   */
  readonly emailVerified?: boolean;
  readonly groups: readonly string[];
  /** Tenant memberships asserted by the identity provider (claims, LDAP group mappings). */
  readonly tenants: readonly string[];
  /** Role names asserted by the identity provider (claims, scopes, LDAP group mappings). */
  readonly roles: readonly string[];
  /** Platform administrator. */
  readonly admin: boolean;
  /** How the principal authenticated (`basic`, `token`, ...). */
  readonly method: string;
  /** The provider id that authenticated it. */
  readonly provider: string;
  /**
   * Narrowing carried by the credential (an API token): the principal acts only in `tenant`, and
   * every grant is capped to what the built-in or configured role `maxRole` allows. A narrowed
   * principal is a platform administrator only with `maxRole: admin` and no tenant; an
   * administrator narrowed to a tenant holds the admin role in that tenant only.
   */
  readonly restrict?: { readonly tenant?: string; readonly maxRole?: string };
}
