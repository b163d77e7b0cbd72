/**
 * Grants (role bindings): who gets which role where. Grants declared in the configuration file
 * have ids `config:<n>` and `source: config`; they cannot be deleted here, and an API grant for
 * the same subject at the same scope is refused (409) rather than silently changing what the
 * reviewed configuration says. API grants have ids `api:<uuid>` and take effect in every
 * gateway process sharing the store within a second (the policy version is polled).
 */
import { z } from 'zod';
import { bindingSchema, type BindingConfig } from '../policy/config.ts';
import { changeProblems, sameTarget } from '../policy/service.ts';
import type { StoredBinding } from '../store/policy.ts';
import { changed, policyState, type AdminDeps } from './deps.ts';
import { AdminError, conflict, declared, notFound, route, type RouteSpec } from './http.ts';

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

const configView = (b: BindingConfig, i: number) => ({ id: `config:${i}`, ...b, source: 'config' as const });
const apiView = (s: StoredBinding) => ({ id: `api:${s.id}`, ...s.binding, source: 'api' as const, createdBy: s.createdBy });

export function grantRoutes(deps: AdminDeps): RouteSpec[] {
  async function all() {
    const { declared: d, stored } = await policyState(deps);
    return [...d.bindings.map(configView), ...stored.bindings.map(apiView)];
  }
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
      handler: async ({ query }) => ({
        grants: (await all()).filter(
          (g) =>
            (query.user === undefined || g.user === query.user) &&
            (query.group === undefined || g.group === query.group) &&
            (query.serviceAccount === undefined || g.serviceAccount === query.serviceAccount) &&
            (query.tenant === undefined || g.tenant === query.tenant) &&
            (query.source === undefined || g.source === query.source),
        ),
      }),
    }),
    route({
      method: 'POST', path: '/grants', tag: 'grants', access: 'admin', status: 201, body: bindingSchema, response: grantView,
      summary: 'Bind a role to a user, group or service account at a scope (global, tenant, experiment, model)',
      handler: async ({ body, principal }) => {
        const state = await policyState(deps);
        const clash = state.declared.bindings.findIndex((b) => sameTarget(b, body));
        if (clash >= 0) throw declared(`a grant for this subject at this scope (config:${clash})`);
        if (state.stored.bindings.some((s) => sameTarget(s.binding, body) && s.binding.role === body.role && s.binding.effect === body.effect)) {
          throw conflict('the same grant already exists');
        }
        const problems = changeProblems(state.declared, { ...state.stored, bindings: [...state.stored.bindings, { id: 'new', binding: body, createdBy: principal.id }] });
        const mine = problems.filter((p) => p.path[0] === 'bindings' && p.path[1] === state.declared.bindings.length + state.stored.bindings.length);
        if (mine.length > 0) {
          const details = mine.map((p) => ({ path: String(p.path[2]), message: p.message }));
          throw new AdminError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `invalid body: ${details[0]!.path}: ${details[0]!.message}`, details);
        }
        const id = await state.repo.addBinding(body, principal.id);
        await changed(deps);
        return { id: `api:${id}`, ...body, source: 'api', createdBy: principal.id };
      },
    }),
    route({
      method: 'GET', path: '/grants/:id', tag: 'grants', access: 'admin', summary: 'Get a grant', response: grantView,
      handler: async ({ params }) => (await all()).find((g) => g.id === params.id) ?? Promise.reject(notFound(`grant ${params.id}`)),
    }),
    route({
      method: 'DELETE', path: '/grants/:id', tag: 'grants', access: 'admin', status: 204, summary: 'Remove a grant made through the API or CLI',
      handler: async ({ params }) => {
        const id = params.id!;
        const state = await policyState(deps);
        if (id.startsWith('config:') && state.declared.bindings[Number(id.slice(7))] !== undefined) throw declared(`grant ${id}`);
        if (!id.startsWith('api:') || !(await state.repo.removeBinding(id.slice(4)))) throw notFound(`grant ${id}`);
        await changed(deps);
        return undefined;
      },
    }),
  ];
}
