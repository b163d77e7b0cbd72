/** Who is calling, as the identity providers establish it. */
export interface Principal {
  /** Stable id, unique across providers (`local:alice`). */
  readonly id: string;
  readonly kind: 'user' | 'service_account';
  readonly name: string;
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
}

/**
 * What an identity provider answers. "Not mine" is a value, not an exception: the next
 * provider is tried. "Invalid" ends the request with 401 and a reason id.
 */
export type AuthResult =
  | { readonly kind: 'principal'; readonly principal: Principal }
  | { readonly kind: 'not-mine' }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface IdentityProvider {
  readonly id: string;
  /** The challenge this provider adds to a 401 (`Basic realm="gatehouse"`), if any. */
  readonly challenge?: string;
  authenticate(req: import('node:http').IncomingMessage): Promise<AuthResult>;
  /** Readiness: keys loaded, directory reachable. Absent means always ready. */
  ready?(): Promise<{ ok: boolean; detail?: string }>;
  /** Releases pools, timers and connections. */
  close?(): Promise<void>;
}
