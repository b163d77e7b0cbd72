/**
 * Tenants (MLflow workspaces in workspace mode) and their members. Tenants declared in the
 * configuration file are listed with `source: config` and cannot be changed here (409).
 * Creating a tenant does not create the MLflow workspace: an administrator does that through
 * MLflow (`POST /api/3.0/mlflow/workspaces` through the gateway).
 */
import { z } from 'zod';
import type { TenantConfig } from '../policy/config.ts';
import { tenantSchema } from '../policy/config.ts';
import { changeProblems } from '../policy/service.ts';
import { changed, policyState, type AdminDeps } from './deps.ts';
import { conflict, declared, invalid, notFound, route, type RouteSpec } from './http.ts';

const memberName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/, 'letters, digits and . _ @ : - (at most 128)');
export const tenantView = z.object({
  name: z.string(),
  defaultRole: z.string().optional(),
  members: z.object({ users: z.array(z.string()), groups: z.array(z.string()) }),
  source: z.enum(['config', 'api']),
});
const view = (t: TenantConfig, source: 'config' | 'api') => ({ name: t.name, ...(t.defaultRole && { defaultRole: t.defaultRole }), members: t.members, source });

export function tenantRoutes(deps: AdminDeps): RouteSpec[] {
  async function storedTenant(name: string) {
    const state = await policyState(deps);
    if (state.declared.tenants.some((t) => t.name === name)) throw declared(`tenant ${name}`);
    const tenant = state.stored.tenants.find((t) => t.name === name);
    if (!tenant) throw notFound(`tenant ${name}`);
    return { state, tenant };
  }
  const member = z.strictObject({ user: memberName.optional(), group: memberName.optional() }).refine((m) => (m.user === undefined) !== (m.group === undefined), {
    message: 'exactly one of user, group',
    path: ['user'],
  });

  return [
    route({
      method: 'GET', path: '/tenants', tag: 'tenants', access: 'admin', summary: 'List tenants (declared in config and made through the API or CLI)',
      response: z.object({ tenants: z.array(tenantView) }),
      handler: async () => {
        const { declared: d, stored } = await policyState(deps);
        const names = new Set(d.tenants.map((t) => t.name));
        return { tenants: [...d.tenants.map((t) => view(t, 'config')), ...stored.tenants.filter((t) => !names.has(t.name)).map((t) => view(t, 'api'))] };
      },
    }),
    route({
      method: 'POST', path: '/tenants', tag: 'tenants', access: 'admin', status: 201, response: tenantView,
      summary: 'Add a tenant (an MLflow workspace name)',
      body: z.strictObject({ name: tenantSchema.shape.name, defaultRole: tenantSchema.shape.defaultRole }),
      handler: async ({ body }) => {
        const state = await policyState(deps);
        if (state.declared.tenants.some((t) => t.name === body.name)) throw declared(`tenant ${body.name}`);
        if (state.stored.tenants.some((t) => t.name === body.name)) throw conflict(`tenant ${body.name} already exists`);
        const tenant: TenantConfig = { name: body.name, ...(body.defaultRole && { defaultRole: body.defaultRole }), members: { users: [], groups: [] } };
        const problem = changeProblems(state.declared, { ...state.stored, tenants: [...state.stored.tenants, tenant] })[0];
        if (problem) throw invalid(String(problem.path.at(-1)), problem.message);
        await state.repo.addTenant(body.name, body.defaultRole);
        await changed(deps);
        return view(tenant, 'api');
      },
    }),
    route({
      method: 'DELETE', path: '/tenants/:name', tag: 'tenants', access: 'admin', status: 204,
      summary: 'Remove a tenant made through the API or CLI (refused while grants name it)',
      handler: async ({ params }) => {
        const { state } = await storedTenant(params.name!);
        const named = state.stored.bindings.filter((b) => b.binding.tenant === params.name);
        if (named.length > 0) throw conflict(`grants still name tenant ${params.name}: ${named.map((b) => `api:${b.id}`).join(', ')}`);
        await state.repo.removeTenant(params.name!);
        await changed(deps);
        return undefined;
      },
    }),
    route({
      method: 'POST', path: '/tenants/:name/members', tag: 'tenants', access: 'admin', body: member, response: tenantView,
      summary: 'Add a user or a group to a tenant',
      handler: async ({ params, body }) => {
        const { state } = await storedTenant(params.name!);
        await state.repo.setTenantMember(params.name!, body.user !== undefined ? 'user' : 'group', (body.user ?? body.group)!, true);
        await changed(deps);
        return view((await policyState(deps)).stored.tenants.find((t) => t.name === params.name)!, 'api');
      },
    }),
    route({
      method: 'DELETE', path: '/tenants/:name/members/:kind/:member', tag: 'tenants', access: 'admin', status: 204,
      summary: 'Remove a member (kind: user or group) from a tenant',
      handler: async ({ params }) => {
        const { state, tenant } = await storedTenant(params.name!);
        const kind = params.kind === 'user' ? 'user' : params.kind === 'group' ? 'group' : undefined;
        if (kind === undefined) throw invalid('kind', 'user or group');
        if (!tenant.members[kind === 'user' ? 'users' : 'groups'].includes(params.member!)) throw notFound(`${kind} ${params.member} in tenant ${params.name}`);
        await state.repo.setTenantMember(params.name!, kind, params.member!, false);
        await changed(deps);
        return undefined;
      },
    }),
  ];
}
