/**
 * Roles: the built-in ones, those declared in the configuration file and those made through the
 * API or CLI (src/services/roles.ts). Only the last kind can be removed, and only while no grant or
 * tenant names it.
 */
import { z } from 'zod';
import { roleSchema } from '../policy/config.ts';
import type { AdminDeps } from './deps.ts';
import { invalid, route, type RouteSpec } from './http.ts';

const roleView = z.object({
  name: z.string(),
  description: z.string(),
  levels: z.record(z.string(), z.string()),
  operations: z.array(z.string()),
  create: z.array(z.string()),
  admin: z.boolean(),
  source: z.enum(['built-in', 'config', 'api']),
});

export function roleRoutes(deps: AdminDeps): RouteSpec[] {
  const roles = deps.services.roles;
  return [
    route({
      method: 'GET', path: '/roles', tag: 'roles', access: 'admin', summary: 'List roles: built in, declared in config, made through the API or CLI',
      response: z.object({ roles: z.array(roleView) }),
      handler: async () => ({ roles: await roles.list() }),
    }),
    route({
      method: 'POST', path: '/roles', tag: 'roles', access: 'admin', status: 201, body: roleSchema, response: roleView,
      summary: 'Add a custom role (levels per family, single operations, creation rights)',
      handler: async ({ actor, body }) => roles.create(actor, body),
    }),
    route({
      method: 'PUT', path: '/roles/:name', tag: 'roles', access: 'admin', body: roleSchema, response: roleView,
      summary: "Replace a custom role's levels, operations and creation rights (its grants change at once); the body's name is the path's",
      handler: async ({ actor, params, body }) => {
        if (body.name !== params.name) throw invalid('name', `must be the role in the path, ${params.name}`);
        return roles.update(actor, body);
      },
    }),
    route({
      method: 'DELETE', path: '/roles/:name', tag: 'roles', access: 'admin', status: 204, summary: 'Remove a custom role no grant or tenant names',
      handler: async ({ actor, params }) => {
        await roles.delete(actor, params.name!);
        return undefined;
      },
    }),
  ];
}
