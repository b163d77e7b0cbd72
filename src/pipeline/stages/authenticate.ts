/**
 * Tries the configured identity providers in order: the first principal wins, "not mine"
 * passes to the next, "invalid" ends the request (401), "unavailable" ends it (503). Nobody:
 * 401 with every provider's challenge — or, for browser navigation when `loginRedirect` is on,
 * a redirect to the login page (src/web/next.ts decides what counts as navigation).
 * Public routes (health, static UI assets) skip this stage.
 */
import { GatehouseError } from '../../errors.ts';
import type { IdentityProvider } from '../../identity/principal.ts';
import type { Stage } from '../context.ts';
import { loginRedirect } from '../../web/next.ts';

/** "Unavailable" reasons of providers whose lookup is the gateway's own store (users, API tokens, sessions). */
const STORE_REASONS = new Set(['store-unavailable', 'session-store-unavailable']);

export function authenticate(providers: readonly IdentityProvider[], options: { loginRedirect?: boolean } = {}): Stage<'matched'> {
  const challenges = providers.flatMap((p) => (p.challenge ? [p.challenge] : []));
  const challengeHeaders = challenges.length > 0 ? { 'www-authenticate': challenges.join(', ') } : undefined;
  return {
    name: 'authenticate',
    needs: 'matched',
    async run(ctx) {
      if (ctx.route.row.action === 'public') return;
      let unknown: string | undefined;
      for (const provider of providers) {
        const result = await provider.authenticate(ctx.req);
        if (result.kind === 'not-mine') {
          if (result.reason) unknown = `${provider.id}: ${result.reason}`;
          continue;
        }
        if (result.kind === 'invalid') {
          throw new GatehouseError('GATEHOUSE_AUTHN_INVALID', `${provider.id}: ${result.reason}`, challengeHeaders);
        }
        if (result.kind === 'unavailable') {
          const code = STORE_REASONS.has(result.reason) ? 'GATEHOUSE_STORE_UNAVAILABLE' : 'GATEHOUSE_AUTHN_UNAVAILABLE';
          throw new GatehouseError(code, `${provider.id}: ${result.reason}`);
        }
        ctx.principal = result.principal;
        return;
      }
      // Credentials were sent but no provider knows the user: the last one's "unknown" is the answer.
      if (unknown) throw new GatehouseError('GATEHOUSE_AUTHN_INVALID', unknown, challengeHeaders);
      const login = options.loginRedirect ? loginRedirect(ctx.req) : undefined;
      throw new GatehouseError('GATEHOUSE_AUTHN_REQUIRED', login ? 'no credentials: sent to login' : 'no credentials', login ? { location: login } : challengeHeaders);
    },
  };
}
