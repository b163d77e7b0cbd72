/**
 * The identity provider interface: what each provider answers for a request. The principal it
 * establishes is a shared noun (src/model/principal.ts).
 */
import type { Principal } from '../model/principal.ts';

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
  /**
   * Its "invalid" reason ids may be shown to the caller (src/identity/authenticate.ts): true for
   * bearer tokens, whose holder learns nothing about other users from "expired" or "revoked";
   * never for passwords ("unknown user" and "wrong password" must read the same).
   */
  readonly publicReasons?: boolean;
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
