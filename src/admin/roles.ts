/**
 * Roles: the built-in ones, those declared in the configuration file and those made through the
 * API or CLI. Only the last kind can be removed, and only while no grant or tenant names it.
 */
import { z } from 'zod';
import { roleSchema, type RoleConfig } from '../policy/config.ts';
import { BUILTIN_ROLES } from '../policy/model.ts';
import { changeProblems } from '../policy/service.ts';
import { changed, policyState, type AdminDeps } from './deps.ts';
import { conflict, declared, notFound, route, type RouteSpec } from './http.ts';

const roleView = z.object({
  name: z.string(),
  description: z.string(),
  levels: z.record(z.string(), z.string()),
  operations: z.array(z.string()),
  create: z.array(z.string()),
  admin: z.boolean(),
  source: z.enum(['built-in', 'config', 'api']),
});
const view = (r: RoleConfig, source: 'config' | 'api') => ({ ...r, admin: false, source });

export function roleRoutes(deps: AdminDeps): RouteSpec[] {
  return [
    route({
      method: 'GET', path: '/roles', tag: 'roles', access: 'admin', summary: 'List roles: built in, declared in config, made through the API or CLI',
      response: z.object({ roles: z.array(roleView) }),
      handler: async () => {
        const { declared: d, stored } = await policyState(deps);
        const names = new Set(d.roles.map((r) => r.name));
        return {
          roles: [
            ...BUILTIN_ROLES.map((r) => ({ ...r, source: 'built-in' as const })),
            ...d.roles.map((r) => view(r, 'config')),
            ...stored.roles.filter((r) => !names.has(r.name)).map((r) => view(r, 'api')),
          ],
        };
      },
    }),
    route({
      method: 'POST', path: '/roles', tag: 'roles', access: 'admin', status: 201, body: roleSchema, response: roleView,
      summary: 'Add a custom role (levels per family, single operations, creation rights)',
      handler: async ({ body }) => {
        const state = await policyState(deps);
        if (BUILTIN_ROLES.some((r) => r.name === body.name)) throw conflict(`${body.name} is a built-in role`);
        if (state.declared.roles.some((r) => r.name === body.name)) throw declared(`role ${body.name}`);
        if (state.stored.roles.some((r) => r.name === body.name)) throw conflict(`role ${body.name} already exists`);
        await state.repo.addRole(body);
        await changed(deps);
        return view(body, 'api');
      },
    }),
    route({
      method: 'DELETE', path: '/roles/:name', tag: 'roles', access: 'admin', status: 204, summary: 'Remove a custom role no grant or tenant names',
      handler: async ({ params }) => {
        const state = await policyState(deps);
        if (BUILTIN_ROLES.some((r) => r.name === params.name)) throw conflict(`${params.name} is a built-in role`);
        if (state.declared.roles.some((r) => r.name === params.name)) throw declared(`role ${params.name}`);
        if (!state.stored.roles.some((r) => r.name === params.name)) throw notFound(`role ${params.name}`);
        const problems = changeProblems(state.declared, { ...state.stored, roles: state.stored.roles.filter((r) => r.name !== params.name) });
        if (problems.length > 0) throw conflict(`role ${params.name} is still used: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
        await state.repo.removeRole(params.name!);
        await changed(deps);
        return undefined;
      },
    }),
  ];
}
