/**
 * Tries the configured identity providers in order: the first principal wins, "not mine"
 * passes to the next, "invalid" ends the request (401), "unavailable" ends it (503). Nobody:
 * 401 with every provider's challenge.
 * Public routes (health, static UI assets) skip this stage.
 */
import { GatehouseError } from '../../errors.ts';
import type { IdentityProvider } from '../../identity/principal.ts';
import type { Stage } from '../context.ts';

export function authenticate(providers: readonly IdentityProvider[]): Stage {
  const challenges = providers.flatMap((p) => (p.challenge ? [p.challenge] : []));
  const challengeHeaders = challenges.length > 0 ? { 'www-authenticate': challenges.join(', ') } : undefined;
  return {
    name: 'authenticate',
    async run(ctx) {
      if (ctx.route!.row.action === 'public') return;
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
        if (result.kind === 'unavailable') throw new GatehouseError('GATEHOUSE_AUTHN_UNAVAILABLE', `${provider.id}: ${result.reason}`);
        ctx.principal = result.principal;
        return;
      }
      // Credentials were sent but no provider knows the user: the last one's "unknown" is the answer.
      if (unknown) throw new GatehouseError('GATEHOUSE_AUTHN_INVALID', unknown, challengeHeaders);
      throw new GatehouseError('GATEHOUSE_AUTHN_REQUIRED', 'no credentials', challengeHeaders);
    },
  };
}
