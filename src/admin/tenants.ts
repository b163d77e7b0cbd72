/**
 * Tenants (MLflow workspaces in workspace mode) and their members. The tenants service
 * (src/services/tenants.ts) keeps them whole: creating one creates its MLflow workspace (an
 * existing one is adopted; nothing is made when MLflow refuses), deleting one deletes it (refused
 * while it holds resources unless `force`). Tenants declared in the configuration file are listed
 * with `source: config` and cannot be changed here (409).
 */
import { z } from 'zod';
import { tenantSchema } from '../policy/config.ts';
import type { AdminDeps } from './deps.ts';
import { invalid, route, type RouteSpec } from './http.ts';

const memberName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/, 'letters, digits and . _ @ : - (at most 128)');
export const tenantView = z.object({
  name: z.string(),
  defaultRole: z.string().optional(),
  members: z.object({ users: z.array(z.string()), groups: z.array(z.string()) }),
  source: z.enum(['config', 'api']),
});

export function tenantRoutes(deps: AdminDeps): RouteSpec[] {
  const tenants = deps.services.tenants;
  const member = z.strictObject({ user: memberName.optional(), group: memberName.optional() }).refine((m) => (m.user === undefined) !== (m.group === undefined), {
    message: 'exactly one of user, group',
    path: ['user'],
  });

  return [
    route({
      method: 'GET', path: '/tenants', tag: 'tenants', access: 'admin', summary: 'List tenants (declared in config and made through the API or CLI)',
      response: z.object({
        tenants: z.array(
          tenantView.extend({
            access: z
              .object({ users: z.array(z.string()), groups: z.array(z.string()), serviceAccounts: z.array(z.string()), groupMembers: z.array(z.string()) })
              .describe('Who else is in the tenant: subjects of allow grants there, and the local members of its listed or granted groups.'),
          }),
        ),
      }),
      handler: async () => ({ tenants: await tenants.list() }),
    }),
    route({
      method: 'POST', path: '/tenants', tag: 'tenants', access: 'admin', status: 201, response: tenantView,
      summary: 'Add a tenant; in workspace mode its MLflow workspace is created too (an existing one is adopted)',
      body: z.strictObject({ name: tenantSchema.shape.name, defaultRole: tenantSchema.shape.defaultRole }),
      handler: async ({ actor, body }) => tenants.create(actor, body),
    }),
    route({
      method: 'DELETE', path: '/tenants/:name', tag: 'tenants', access: 'admin', status: 204,
      query: z.strictObject({ force: z.enum(['true', 'false']).optional().describe('Delete the MLflow workspace even with experiments and models in it (MLflow deletes them).') }),
      summary: 'Remove a tenant made through the API or CLI and its MLflow workspace (refused while grants name it, or while the workspace holds resources unless forced)',
      handler: async ({ actor, params, query }) => {
        await tenants.delete(actor, params.name!, { force: query.force === 'true' });
        return undefined;
      },
    }),
    route({
      method: 'POST', path: '/tenants/:name/members', tag: 'tenants', access: 'admin', body: member, response: tenantView,
      summary: 'Add a user or a group to a tenant',
      handler: async ({ actor, params, body }) => tenants.addMember(actor, params.name!, body.user !== undefined ? 'user' : 'group', (body.user ?? body.group)!),
    }),
    route({
      method: 'DELETE', path: '/tenants/:name/members/:kind/:member', tag: 'tenants', access: 'admin', status: 204,
      summary: 'Remove a member (kind: user or group) from a tenant',
      handler: async ({ actor, params }) => {
        const kind = params.kind === 'user' ? 'user' : params.kind === 'group' ? 'group' : undefined;
        if (kind === undefined) throw invalid('kind', 'user or group');
        await tenants.removeMember(actor, params.name!, kind, params.member!);
        return undefined;
      },
    }),
  ];
}
