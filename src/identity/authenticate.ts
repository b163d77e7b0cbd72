/**
 * The one authenticate loop, for every door that takes credentials per request: the MLflow
 * routes (src/pipeline/stages/authenticate.ts), the admin API, the console and the compat API
 * (src/admin/auth.ts); and the same loop over the password providers for a user name and
 * password typed into the login page (`passwordVerifier`, src/web/login.ts). The configured
 * providers are tried in order: the first principal wins, "not mine" passes to the next,
 * "invalid" ends the request (401), "unavailable" ends it (503).
 *
 * When nobody claims the request, the loop chooses the answer from what was presented and what
 * the providers said: a bearer token no enabled provider accepts gets a 401 that says why — a
 * Gatehouse API token without a `token` provider, a JWT without an `oidc` provider or of an
 * issuer none trusts, an opaque token nobody introspects — with a reason id for the audit event.
 * A provider whose refusals are public (`publicReasons`: bearer tokens) has its reason id in the
 * message; password refusals stay generic, so the answer never tells which users exist. No
 * message ever quotes the token.
 */
import type { IncomingMessage } from 'node:http';
import { GatehouseError } from '../errors.ts';
import { REASONS, type ReasonId } from '../model/decision.ts';
import type { Principal } from '../model/principal.ts';
import type { IdentityProvider } from './principal.ts';
import { bearerToken, looksLikeJws, looksLikeToken } from './token-format.ts';

/** "Unavailable" reasons of providers whose lookup is the gateway's own store (users, API tokens, sessions). */
const STORE_REASONS = new Set(['store-unavailable', 'session-store-unavailable']);

/** Why nobody accepted a bearer token, by what it looks like; the message names the setting. */
const NOT_ACCEPTED: Record<'no-token-provider' | 'no-jwt-provider' | 'untrusted-issuer' | 'opaque-bearer', string> = {
  'no-token-provider': 'no enabled provider accepts Gatehouse API tokens (gth_...); auth.providers has no "token" provider.',
  'no-jwt-provider': 'no enabled provider accepts JWTs; auth.providers has no "oidc" provider.',
  'untrusted-issuer': 'no enabled provider trusts its issuer.',
  'opaque-bearer': 'it is neither a Gatehouse API token nor a JWT, and no enabled provider introspects opaque tokens.',
};

export interface AuthenticateOptions {
  /**
   * Where an anonymous browser navigation is sent instead of a 401 (the login page), or
   * undefined for an API answer. Decided per request by the door (src/web/next.ts).
   */
  readonly loginRedirect?: (req: IncomingMessage) => string | undefined;
}

/**
 * Returns the function every door calls: the principal, or throws the GatehouseError to answer
 * with (401 with every provider's challenge, 302 to the login page, 503).
 */
export function requestAuthenticator(providers: readonly IdentityProvider[], options: AuthenticateOptions = {}): (req: IncomingMessage) => Promise<Principal> {
  const challenges = providers.flatMap((p) => (p.challenge ? [p.challenge] : []));
  const challenge = challenges.length > 0 ? { 'www-authenticate': challenges.join(', ') } : undefined;
  const invalid = (detail: string, message?: string, reason?: ReasonId) => new GatehouseError('GATEHOUSE_AUTHN_INVALID', detail, challenge, message, reason);

  return async function authenticate(req) {
    const bearer = bearerToken(req.headers.authorization);
    const unknown: { provider: string; reason: string }[] = [];
    for (const provider of providers) {
      const result = await provider.authenticate(req);
      if (result.kind === 'principal') return result.principal;
      if (result.kind === 'not-mine') {
        if (result.reason) unknown.push({ provider: provider.id, reason: result.reason });
        continue;
      }
      const detail = `${provider.id}: ${result.reason}`;
      if (result.kind === 'unavailable') throw new GatehouseError(STORE_REASONS.has(result.reason) ? 'GATEHOUSE_STORE_UNAVAILABLE' : 'GATEHOUSE_AUTHN_UNAVAILABLE', detail);
      // A provider's reason that is also a decision reason (a linked user's, src/identity/link.ts) is audited as itself.
      const reason = Object.hasOwn(REASONS, result.reason) ? (result.reason as ReasonId) : undefined;
      if (!provider.publicReasons) throw invalid(detail, undefined, reason);
      throw invalid(detail, `${bearer !== undefined ? 'Bearer token' : 'Credentials'} not accepted (${detail}).`, reason);
    }
    if (bearer !== undefined) {
      const why = unknown.some((u) => u.reason === 'wrong-issuer')
        ? 'untrusted-issuer'
        : looksLikeToken(bearer)
          ? 'no-token-provider'
          : looksLikeJws(bearer)
            ? 'no-jwt-provider'
            : 'opaque-bearer';
      const detail = unknown.length > 0 ? unknown.map((u) => `${u.provider}: ${u.reason}`).join(', ') : why;
      throw new GatehouseError('GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED', detail, challenge, `Bearer token not accepted: ${NOT_ACCEPTED[why]}`, why);
    }
    // Credentials of some provider's kind, but a user no provider knows: the last one's "unknown" is the answer.
    const last = unknown.at(-1);
    if (last) throw invalid(`${last.provider}: ${last.reason}`);
    const login = options.loginRedirect?.(req);
    throw new GatehouseError('GATEHOUSE_AUTHN_REQUIRED', login ? 'no credentials: sent to login' : 'no credentials', login ? { location: login } : challenge);
  };
}

/** What the login page's password check found: a principal, or who refused it and why (for the admin event). */
export type PasswordVerdict =
  | { readonly kind: 'principal'; readonly principal: Principal }
  | { readonly kind: 'invalid' | 'unavailable'; readonly provider: string | undefined; readonly reason: string };

/**
 * The same loop for a user name and password typed into the login page, over the providers that
 * speak passwords (local, LDAP), in the configured order: the first principal wins, "not mine"
 * (an unknown user) passes to the next, "invalid" and "unavailable" end it; nobody: `unknown-user`.
 */
export function passwordVerifier(providers: readonly IdentityProvider[]): { readonly enabled: boolean; verify(username: string, password: string, req: IncomingMessage): Promise<PasswordVerdict> } {
  const speakers = providers.filter((p) => p.verifyPassword !== undefined);
  return {
    enabled: speakers.length > 0,
    async verify(username, password, req) {
      for (const provider of speakers) {
        const result = await provider.verifyPassword!(username, password, req);
        if (result.kind === 'not-mine') continue;
        if (result.kind === 'principal') return result;
        return { kind: result.kind, provider: provider.id, reason: result.reason };
      }
      return { kind: 'invalid', provider: undefined, reason: 'unknown-user' };
    },
  };
}
