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

/**
 * What an identity provider answers. "Not mine" is a value, not an exception: the next
 * provider is tried. A "not mine" with a reason means "credentials of my kind, but a user I do
 * not know" (an unknown Basic user name): the next provider is tried, and if nobody claims the
 * request the reason makes it a 401 "invalid credentials" rather than "credentials required".
 * "Invalid" ends the request with 401 and a reason id. "Unavailable" (the directory or IdP is
 * down or timing out) ends it with 503: never an allow, and never a fall-through to the next
 * provider as if the user were unknown.
 */
export type AuthResult =
  | { readonly kind: 'principal'; readonly principal: Principal }
  | { readonly kind: 'not-mine'; readonly reason?: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface IdentityProvider {
  readonly id: string;
  /** The challenge this provider adds to a 401 (`Basic realm="gatehouse"`), if any. */
  readonly challenge?: string;
  /** Request headers this provider reads (identity headers): the rewrite stage never forwards them. */
  readonly consumedHeaders?: readonly string[];
  authenticate(req: import('node:http').IncomingMessage): Promise<AuthResult>;
  /**
   * Checks a user name and password typed into the login page. Present on the providers that
   * speak HTTP Basic (local, LDAP), with the same verdicts as `authenticate`; `req` is the
   * login request (its peer address counts for lockouts).
   */
  verifyPassword?(username: string, password: string, req: import('node:http').IncomingMessage): Promise<AuthResult>;
  /**
   * Drops what the provider remembers about a user's credentials (a password check cache) after
   * the user's password, admin flag or existence changed in this process.
   */
  forgetUser?(username: string): void;
  /** Readiness: keys loaded, directory reachable. Absent means always ready. */
  ready?(): Promise<{ ok: boolean; detail?: string }>;
  /** Releases pools, timers and connections. */
  close?(): Promise<void>;
}
