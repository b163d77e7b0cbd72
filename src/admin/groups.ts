/**
 * Local groups: principal names added to a group on top of what the identity provider or LDAP
 * says. Groups declared in the configuration file are listed with `source: config` and cannot
 * be changed here (409).
 */
import { z } from 'zod';
import { groupSchema } from '../policy/config.ts';
import { changed, policyState, type AdminDeps } from './deps.ts';
import { declared, notFound, route, type RouteSpec } from './http.ts';

const groupView = z.object({ name: z.string(), members: z.array(z.string()), source: z.enum(['config', 'api']) });

export function groupRoutes(deps: AdminDeps): RouteSpec[] {
  async function writable(name: string) {
    const state = await policyState(deps);
    if (state.declared.groups.some((g) => g.name === name)) throw declared(`group ${name}`);
    return state;
  }
  const viewOf = async (name: string) => ({ name, members: (await policyState(deps)).stored.groups.find((g) => g.name === name)?.members ?? [], source: 'api' as const });
  return [
    route({
      method: 'GET', path: '/groups', tag: 'groups', access: 'admin', summary: 'List local groups and their members',
      response: z.object({ groups: z.array(groupView) }),
      handler: async () => {
        const { declared: d, stored } = await policyState(deps);
        return { groups: [...d.groups.map((g) => ({ ...g, source: 'config' as const })), ...stored.groups.map((g) => ({ ...g, source: 'api' as const }))] };
      },
    }),
    route({
      method: 'GET', path: '/groups/:name', tag: 'groups', access: 'admin', summary: 'Get a local group', response: groupView,
      handler: async ({ params }) => {
        const { declared: d, stored } = await policyState(deps);
        const config = d.groups.find((g) => g.name === params.name);
        if (config) return { ...config, source: 'config' };
        const g = stored.groups.find((x) => x.name === params.name);
        if (!g) throw notFound(`group ${params.name}`);
        return { ...g, source: 'api' };
      },
    }),
    route({
      method: 'POST', path: '/groups/:name/members', tag: 'groups', access: 'admin', response: groupView,
      summary: 'Add a principal to a local group (the group exists while it has members)',
      body: z.strictObject({ member: groupSchema.shape.name }),
      handler: async ({ params, body }) => {
        const state = await writable(params.name!);
        const parsed = groupSchema.shape.name.safeParse(params.name);
        if (!parsed.success) throw notFound(`group ${params.name}`);
        await state.repo.setGroupMember(params.name!, body.member, true);
        await changed(deps);
        return viewOf(params.name!);
      },
    }),
    route({
      method: 'DELETE', path: '/groups/:name/members/:member', tag: 'groups', access: 'admin', status: 204,
      summary: 'Remove a principal from a local group',
      handler: async ({ params }) => {
        const state = await writable(params.name!);
        if (!state.stored.groups.find((g) => g.name === params.name)?.members.includes(params.member!)) throw notFound(`member ${params.member} of group ${params.name}`);
        await state.repo.setGroupMember(params.name!, params.member!, false);
        await changed(deps);
        return undefined;
      },
    }),
  ];
}
