/**
 * Local users: list, create (with a given or generated password), change the admin and disabled
 * flags, set the password, delete. A generated password is in the create (or reset) response
 * only; no response ever carries a password hash. Disabling, deleting or re-passwording a user
 * ends its browser sessions; its API tokens stop working on the next request (the token
 * provider reads the owner on every request).
 */
import { z } from 'zod';
import { generatePassword, hashPassword, passwordProblems } from '../identity/password.ts';
import type { User } from '../store/store.ts';
import { localProviderIds, type AdminDeps } from './deps.ts';
import { localUserChanged } from '../identity/user-changes.ts';
import { conflict, invalid, notFound, route, type RouteSpec } from './http.ts';

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

const view = (u: User) => ({ username: u.username, admin: u.admin, disabled: u.disabled, hasPassword: u.passwordHash !== null });

export function userRoutes(deps: AdminDeps): RouteSpec[] {
  const { store } = deps;
  const scrypt = () => {
    const local = deps.config.auth.providers.find((p) => p.type === 'local');
    if (!local) throw conflict('no local identity provider is configured (auth.providers type: local)');
    return local.scrypt;
  };
  const mustFind = async (name: string) => (await store.findUserByName(name)) ?? Promise.reject(notFound(`user ${name}`));
  async function newPassword(given: string | undefined): Promise<{ hash: string; generated: string | undefined }> {
    const generated = given === undefined ? generatePassword() : undefined;
    const problems = passwordProblems(given ?? generated!);
    if (problems.length > 0) throw invalid('password', problems.join(', '));
    return { hash: await hashPassword(given ?? generated!, scrypt()), generated };
  }
  /** A changed user is forgotten by every replica's password cache; `endSessions`: its browser sessions end too. */
  const changed = (name: string, endSessions: boolean) =>
    localUserChanged({ providers: deps.providers, sessions: deps.sessions, localProviders: localProviderIds(deps.config).local }, name, endSessions);
  /** Refuses a change that would leave no enabled platform administrator among local users. */
  async function keepAnAdmin(name: string, after: { admin: boolean; disabled: boolean } | undefined): Promise<void> {
    const users = await store.listUsers();
    const enabledAdmins = users.filter((u) => (u.username === name ? after !== undefined && after.admin && !after.disabled : u.admin && !u.disabled));
    if (enabledAdmins.length === 0 && users.some((u) => u.admin && !u.disabled)) throw conflict('this would leave no enabled platform administrator');
  }

  return [
    route({
      method: 'GET', path: '/users', tag: 'users', access: 'admin', summary: 'List local users',
      response: z.object({ users: z.array(userSchema) }),
      handler: async () => ({ users: (await store.listUsers()).map(view) }),
    }),
    route({
      method: 'POST', path: '/users', tag: 'users', access: 'admin', status: 201, body: createUser,
      summary: 'Create a local user; a generated password is returned once',
      response: userSchema.extend({ password: z.string().optional() }),
      handler: async ({ body }) => {
        if (await store.findUserByName(body.username)) throw conflict(`user ${body.username} already exists`);
        const { hash, generated } = await newPassword(body.password);
        const user = await store.createUser({ username: body.username, passwordHash: hash, admin: body.admin });
        return { ...view(user), ...(generated !== undefined && { password: generated }) };
      },
    }),
    route({
      method: 'GET', path: '/users/:username', tag: 'users', access: 'admin', summary: 'Get a local user', response: userSchema,
      handler: async ({ params }) => view(await mustFind(params.username!)),
    }),
    route({
      method: 'PATCH', path: '/users/:username', tag: 'users', access: 'admin', body: updateUser, response: userSchema,
      summary: 'Make a user a platform administrator or not; disable or re-enable it',
      handler: async ({ params, body }) => {
        const user = await mustFind(params.username!);
        await keepAnAdmin(user.username, { admin: body.admin ?? user.admin, disabled: body.disabled ?? user.disabled });
        if (body.admin !== undefined) await store.setAdmin(user.username, body.admin);
        if (body.disabled !== undefined) await store.setDisabled(user.username, body.disabled);
        await changed(user.username, body.disabled === true);
        return view(await mustFind(user.username));
      },
    }),
    route({
      method: 'POST', path: '/users/:username/password', tag: 'users', access: 'admin', body: setPassword,
      summary: "Set a user's password (a generated one is returned once); ends its browser sessions",
      response: z.object({ username: z.string(), password: z.string().optional() }),
      handler: async ({ params, body }) => {
        const user = await mustFind(params.username!);
        const { hash, generated } = await newPassword(body.password);
        await store.setPassword(user.username, hash);
        await changed(user.username, true);
        return { username: user.username, ...(generated !== undefined && { password: generated }) };
      },
    }),
    route({
      method: 'DELETE', path: '/users/:username', tag: 'users', access: 'admin', status: 204,
      summary: 'Delete a local user and its personal tokens; ends its browser sessions',
      handler: async ({ params }) => {
        const user = await mustFind(params.username!);
        await keepAnAdmin(user.username, undefined);
        if (!(await store.deleteUser(user.username))) throw notFound(`user ${user.username}`);
        await changed(user.username, true);
        return undefined;
      },
    }),
  ];
}

