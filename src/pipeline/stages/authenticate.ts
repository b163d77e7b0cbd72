/**
 * Who is calling: the one authenticate loop (src/identity/authenticate.ts), shared with the admin
 * API. An anonymous browser navigation is sent to the login page when `loginRedirect` is on
 * (src/web/next.ts decides what counts as navigation). Public routes (health, static UI assets)
 * skip this stage.
 */
import { requestAuthenticator } from '../../identity/authenticate.ts';
import type { IdentityProvider } from '../../identity/principal.ts';
import type { Stage } from '../context.ts';
import { loginRedirect } from '../../web/next.ts';

export function authenticate(providers: readonly IdentityProvider[], options: { loginRedirect?: boolean } = {}): Stage<'matched'> {
  const principalOf = requestAuthenticator(providers, options.loginRedirect ? { loginRedirect } : {});
  return {
    name: 'authenticate',
    needs: 'matched',
    async run(ctx) {
      if (ctx.route.row.action === 'public') return;
      ctx.principal = await principalOf(ctx.req);
    },
  };
}
