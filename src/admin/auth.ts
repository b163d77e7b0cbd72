/**
 * Who is calling Gatehouse's own API (`/_gatehouse/api/v1/...`): the configured identity
 * providers, in the same order and with the same verdicts as the authenticate stage of the
 * pipeline (src/pipeline/stages/authenticate.ts), so HTTP Basic, API tokens, OIDC bearer tokens
 * and the login page's session cookie all work. Failed password attempts count toward the same
 * brute-force lockouts as MLflow calls.
 */
import type { FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { basicAttempt, type RateLimits } from '../ratelimit/limits.ts';
import type { Principal } from '../model/principal.ts';

/** "Unavailable" reasons of providers whose lookup is the gateway's own store (as in the pipeline). */
const STORE_REASONS = new Set(['store-unavailable', 'session-store-unavailable']);

export interface AuthDeps {
  readonly providers: readonly IdentityProvider[];
  readonly rateLimits?: RateLimits | undefined;
}

/** Returns the principal, or throws the GatehouseError the caller must answer with (401, 429, 503). */
export function apiAuthenticator(deps: AuthDeps): (req: FastifyRequest) => Promise<Principal> {
  const challenges = deps.providers.flatMap((p) => (p.challenge ? [p.challenge] : []));
  const challenge = challenges.length > 0 ? { 'www-authenticate': challenges.join(', ') } : undefined;
  return async function authenticate(req) {
    const peer = req.raw.socket.remoteAddress ?? '';
    const attempt = basicAttempt(req.raw);
    const locked = attempt && (await deps.rateLimits?.lockedOut(peer, attempt.username));
    if (locked) throw deps.rateLimits!.rejection(locked.kind, 'failed-auth', locked.retryAfterMs);
    const failed = async () => {
      if (attempt) await deps.rateLimits?.failed(peer, attempt.username);
    };
    let unknown: string | undefined;
    for (const provider of deps.providers) {
      const result = await provider.authenticate(req.raw);
      if (result.kind === 'principal') return result.principal;
      if (result.kind === 'not-mine') {
        if (result.reason) unknown = `${provider.id}: ${result.reason}`;
        continue;
      }
      if (result.kind === 'unavailable') {
        throw new GatehouseError(STORE_REASONS.has(result.reason) ? 'GATEHOUSE_STORE_UNAVAILABLE' : 'GATEHOUSE_AUTHN_UNAVAILABLE', `${provider.id}: ${result.reason}`);
      }
      await failed();
      throw new GatehouseError('GATEHOUSE_AUTHN_INVALID', `${provider.id}: ${result.reason}`, challenge);
    }
    if (unknown) {
      await failed();
      throw new GatehouseError('GATEHOUSE_AUTHN_INVALID', unknown, challenge);
    }
    throw new GatehouseError('GATEHOUSE_AUTHN_REQUIRED', 'no credentials', challenge);
  };
}
