/**
 * Who is calling Gatehouse's own API (`/_gatehouse/api/v1/...`, the console, the compat API):
 * the one authenticate loop of the MLflow routes (src/identity/authenticate.ts), so HTTP Basic,
 * API tokens, OIDC bearer tokens and the login page's session cookie all work, with the same
 * answers. What this door adds: failed password attempts count toward the same brute-force
 * lockouts as MLflow calls (the pipeline's rate-limit stages do that there).
 */
import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.ts';
import { requestAuthenticator } from '../identity/authenticate.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { basicAttempt, type RateLimits } from '../ratelimit/limits.ts';
import type { Principal } from '../model/principal.ts';

export interface AuthDeps {
  readonly providers: readonly IdentityProvider[];
  readonly rateLimits?: RateLimits | undefined;
}

/** Returns the principal, or throws the GatehouseError the caller must answer with (401, 429, 503). */
export function apiAuthenticator(deps: AuthDeps): (req: FastifyRequest) => Promise<Principal> {
  const principalOf = requestAuthenticator(deps.providers);
  return async function authenticate(req) {
    const peer = req.raw.socket.remoteAddress ?? '';
    const attempt = basicAttempt(req.raw);
    const locked = attempt && (await deps.rateLimits?.lockedOut(peer, attempt.username));
    if (locked) throw deps.rateLimits!.rejection(locked.kind, 'failed-auth', locked.retryAfterMs);
    try {
      return await principalOf(req.raw);
    } catch (err) {
      if (attempt && err instanceof GatehouseError && err.code === 'GATEHOUSE_AUTHN_INVALID') await deps.rateLimits?.failed(peer, attempt.username);
      throw err;
    }
  };
}
