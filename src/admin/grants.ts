/**
 * Grants (role bindings): who gets which role where (src/services/grants.ts). Grants declared in
 * the configuration file have ids `config:<n>` and `source: config`; they cannot be deleted here,
 * and an API grant for the same subject at the same scope is refused (409) rather than silently
 * changing what the reviewed configuration says. API grants have ids `api:<uuid>` and take effect
 * in every gateway process sharing the store within a second (the policy version is polled).
 */
import { z } from 'zod';
import { bindingSchema } from '../policy/config.ts';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

export const grantView = z.object({
  id: z.string(),
  role: z.string(),
  effect: z.enum(['allow', 'deny']),
  user: z.string().optional(),
  group: z.string().optional(),
  serviceAccount: z.string().optional(),
  tenant: z.string().optional(),
  experiment: z.object({ id: z.string().optional(), namePattern: z.string().optional() }).optional(),
  model: z.object({ namePattern: z.string() }).optional(),
  source: z.enum(['config', 'api']),
  createdBy: z.string().optional(),
});

export function grantRoutes(deps: AdminDeps): RouteSpec[] {
  const grants = deps.services.grants;
  return [
    route({
      method: 'GET', path: '/grants', tag: 'grants', access: 'admin', summary: 'List grants (declared and made through the API or CLI)',
      query: z.strictObject({
        user: z.string().optional(),
        group: z.string().optional(),
        serviceAccount: z.string().optional(),
        tenant: z.string().optional(),
        source: z.enum(['config', 'api']).optional(),
      }),
      response: z.object({ grants: z.array(grantView) }),
      handler: async ({ query }) => ({ grants: await grants.list(query) }),
    }),
    route({
      method: 'POST', path: '/grants', tag: 'grants', access: 'admin', status: 201, body: bindingSchema, response: grantView,
      summary: 'Bind a role to a user, group or service account at a scope (global, tenant, experiment, model)',
      handler: async ({ actor, body }) => grants.create(actor, body),
    }),
    route({
      method: 'GET', path: '/grants/:id', tag: 'grants', access: 'admin', summary: 'Get a grant', response: grantView,
      handler: async ({ params }) => grants.get(params.id!),
    }),
    route({
      method: 'DELETE', path: '/grants/:id', tag: 'grants', access: 'admin', status: 204, summary: 'Remove a grant made through the API or CLI',
      handler: async ({ actor, params }) => {
        await grants.remove(actor, params.id!);
        return undefined;
      },
    }),
  ];
}
