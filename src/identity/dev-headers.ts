/**
 * Development mode (like other MLflow gateways' `AUTH_MODE=off`): whoever sends `X-Subject` is
 * that user, a member of the tenant in `X-Tenant` with `roles` there, in the groups listed in
 * `X-Groups`. Anyone who can reach the listener can be anyone, so the gateway refuses to start
 * when the public listener binds to a non-loopback address unless `allowNonLoopback: true`, and
 * logs a loud warning on every start (src/main.ts).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { asLocalName, assertsLocalNamesSchema } from './local-names.ts';

export const devHeadersSchema = z
  .strictObject({
    type: z.literal('dev-headers'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('dev').describe('Provider id, used in principal ids (`<id>:<subject>`), audit and metrics.'),
    roles: z.array(z.string()).default(['contributor']).describe('Roles the principal holds in the tenant named by `X-Tenant`.'),
    allowNonLoopback: z
      .boolean()
      .default(false)
      .describe('Start even when the public listener binds to a non-loopback address. Anyone reaching it can claim any identity.'),
    assertsLocalNames: assertsLocalNamesSchema,
  })
  .describe('DEVELOPMENT ONLY: identity from the X-Subject / X-Tenant / X-Groups request headers, believed from anyone.');

export type DevHeadersConfig = z.infer<typeof devHeadersSchema>;

/** `localhost`, 127.0.0.0/8, `::1` and their IPv4-mapped forms. Any other name or address is not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Configuration problems: a dev-headers provider on a non-loopback listener without the override. */
export function devHeadersProblems(providers: readonly { type: string; allowNonLoopback?: boolean }[], publicHost: string): { path: (string | number)[]; message: string }[] {
  return providers.flatMap((p, i) =>
    p.type === 'dev-headers' && !p.allowNonLoopback && !isLoopbackHost(publicHost)
      ? [{ path: ['auth', 'providers', i, 'allowNonLoopback'], message: `dev-headers trusts X-Subject from anyone; refusing to serve it on ${publicHost} (bind server.public.host to 127.0.0.1, or set allowNonLoopback: true)` }]
      : [],
  );
}

const VALUE = /^[A-Za-z0-9._@-]{1,128}$/;

export function devHeadersProvider(config: DevHeadersConfig): IdentityProvider {
  return {
    id: config.id,
    consumedHeaders: ['x-subject', 'x-tenant', 'x-groups'],
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const subject = req.headers['x-subject'];
      if (subject === undefined) return { kind: 'not-mine' };
      const tenant = req.headers['x-tenant'];
      const groups = req.headers['x-groups'];
      if (typeof subject !== 'string' || !VALUE.test(subject)) return { kind: 'invalid', reason: 'malformed-x-subject' };
      if (tenant !== undefined && (typeof tenant !== 'string' || !VALUE.test(tenant))) return { kind: 'invalid', reason: 'malformed-x-tenant' };
      const localName = config.assertsLocalNames ? asLocalName(subject) : undefined;
      return {
        kind: 'principal',
        principal: {
          id: `${config.id}:${subject}`,
          kind: 'user',
          name: subject,
          ...(localName !== undefined && { localName }),
          groups: typeof groups === 'string' ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [],
          tenants: tenant !== undefined ? [tenant] : [],
          // Roles apply in the asserted tenant; without one they would apply everywhere, so none.
          roles: tenant !== undefined ? config.roles : [],
          admin: false,
          method: 'dev-headers',
          provider: config.id,
        },
      };
    },
  };
}
