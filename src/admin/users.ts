/**
 * Local users: list, create (with a given or generated password), change the admin and disabled
 * flags, set the password, delete. The rules (keep an admin, end sessions, drop grants) are the
 * users service's (src/services/users.ts); these routes parse, call it and answer. A generated
 * password is in the create (or reset) response only; no response ever carries a password hash.
 */
import { z } from 'zod';
import type { AdminDeps } from './deps.ts';
import { route, type RouteSpec } from './http.ts';

const username = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'letters, digits and . _ @ - (at most 128)');
const password = z.string().min(1).max(1024);

export const userSchema = z.object({ username: z.string(), admin: z.boolean(), disabled: z.boolean(), hasPassword: z.boolean() });
const createUser = z.strictObject({
  username,
  password: password.optional().describe('Omit to have one generated (returned once, in this response).'),
  admin: z.boolean().default(false),
});
const updateUser = z.strictObject({ admin: z.boolean().optional(), disabled: z.boolean().optional() });
const setPassword = z.strictObject({ password: password.optional().describe('Omit to have one generated (returned once).') });

export function userRoutes(deps: AdminDeps): RouteSpec[] {
  const users = deps.services.users;
  return [
    route({
      method: 'GET', path: '/users', tag: 'users', access: 'admin', summary: 'List local users',
      response: z.object({ users: z.array(userSchema) }),
      handler: async () => ({ users: await users.list() }),
    }),
    route({
      method: 'POST', path: '/users', tag: 'users', access: 'admin', status: 201, body: createUser,
      summary: 'Create a local user; a generated password is returned once',
      response: userSchema.extend({ password: z.string().optional() }),
      handler: async ({ actor, body }) => {
        const { user, generatedPassword } = await users.create(actor, body);
        return { ...user, ...(generatedPassword !== undefined && { password: generatedPassword }) };
      },
    }),
    route({
      method: 'GET', path: '/users/:username', tag: 'users', access: 'admin', summary: 'Get a local user', response: userSchema,
      handler: async ({ params }) => users.get(params.username!),
    }),
    route({
      method: 'PATCH', path: '/users/:username', tag: 'users', access: 'admin', body: updateUser, response: userSchema,
      summary: 'Make a user a platform administrator or not; disable or re-enable it (a change ends its browser sessions)',
      handler: async ({ actor, params, body }) => users.update(actor, params.username!, body),
    }),
    route({
      method: 'POST', path: '/users/:username/password', tag: 'users', access: 'admin', body: setPassword,
      summary: "Set a user's password (a generated one is returned once); ends its browser sessions",
      response: z.object({ username: z.string(), password: z.string().optional() }),
      handler: async ({ actor, params, body }) => {
        const { username: name, generatedPassword } = await users.setPassword(actor, params.username!, body.password);
        return { username: name, ...(generatedPassword !== undefined && { password: generatedPassword }) };
      },
    }),
    route({
      method: 'DELETE', path: '/users/:username', tag: 'users', access: 'admin', status: 204,
      summary: 'Delete a local user with its grants, group and tenant member entries, tokens and browser sessions',
      handler: async ({ actor, params }) => {
        await users.delete(actor, params.username!);
        return undefined;
      },
    }),
  ];
}
