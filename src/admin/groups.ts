/**
 * Local groups: principal names added to a group on top of what the identity provider or LDAP
 * says (src/services/groups.ts). Groups declared in the configuration file are listed with
 * `source: config` and cannot be changed here (409).
 */
import { z } from 'zod';
import { groupSchema } from '../policy/config.ts';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const groupView = z.object({ name: z.string(), members: z.array(z.string()), source: z.enum(['config', 'api']) });

export function groupRoutes(deps: AdminDeps): RouteSpec[] {
  const groups = deps.services.groups;
  return [
    route({
      method: 'GET', path: '/groups', tag: 'groups', access: 'admin', summary: 'List local groups and their members',
      response: z.object({ groups: z.array(groupView) }),
      handler: async () => ({ groups: await groups.list() }),
    }),
    route({
      method: 'GET', path: '/groups/:name', tag: 'groups', access: 'admin', summary: 'Get a local group', response: groupView,
      handler: async ({ params }) => groups.get(params.name!),
    }),
    route({
      method: 'POST', path: '/groups/:name/members', tag: 'groups', access: 'admin', response: groupView,
      summary: 'Add a principal to a local group (the group exists while it has members)',
      body: z.strictObject({ member: groupSchema.shape.name }),
      handler: async ({ actor, params, body }) => groups.addMember(actor, params.name!, body.member),
    }),
    route({
      method: 'DELETE', path: '/groups/:name/members/:member', tag: 'groups', access: 'admin', status: 204,
      summary: 'Remove a principal from a local group',
      handler: async ({ actor, params }) => {
        await groups.removeMember(actor, params.name!, params.member!);
        return undefined;
      },
    }),
  ];
}
