/**
 * The user and permission endpoints of MLflow's basic-auth app (MLflow 3.18:
 * mlflow/server/auth/__init__.py `create_app`, routes.py, client.py `AuthServiceClient`), served
 * by Gatehouse with MLflow's request and response shapes, over Gatehouse's own users and
 * bindings, so `mlflow.server.get_app_client("basic-auth", ...)` and admin scripts keep working.
 *
 * These paths are not MLflow *tracking* routes (the route table does not have them, and the
 * pipeline would 404 them): the listener sends exactly `MLFLOW_AUTH_COMPAT_ROUTES` (method and
 * path) to Fastify instead (src/server/gatehouse.ts). MLflow 3.18's RBAC role routes
 * (`/api/3.0/mlflow/roles/...`) are served by mlflow-roles.ts over the MLflow roles service.
 *
 * A door like the others: every change is made by a service (src/services/), so its rules hold
 * here too — the last administrator is neither demoted nor deleted, a deleted user's grants,
 * memberships, tokens and sessions go with it — and is one admin audit event (door `compat`).
 * What stays here is MLflow's own contract: its parameter names, messages and self-service rules.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { denied, intParam, invalid, notFound, type Call } from './call.ts';
import { roleHandlers, roleJson, ROLE_ROUTES } from './mlflow-roles.ts';
import { callerError } from '../errors.ts';
import { sendMlflowError } from '../http/error-response.ts';
import { passwordProblems, verifyPassword } from '../identity/password.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { describedPrincipal, localUserOf } from '../identity/local-names.ts';
import { decide, isAdmin, tenantsOf } from '../policy/engine.ts';
import { levelRequest } from '../policy/access-request.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import { principalActor, type Actor } from '../services/context.ts';
import type { Services } from '../services/index.ts';
import { policyRepository } from '../store/policy.ts';
import type { Store, User } from '../store/store.ts';
import { apiAuthenticator } from '../admin/auth.ts';
import { familyOfResourceType, grantRefusal, mlflowResource, LEVELS_DESCENDING, listGrants, parsePermission, type ResourceRef } from './mlflow-permissions.ts';
import type { Principal } from '../model/principal.ts';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface CompatRoute {
  readonly method: Method;
  /** Below `/api/<version>/mlflow` and `/ajax-api/<version>/mlflow`. */
  readonly path: string;
  readonly version: 2 | 3;
  readonly name: keyof Handlers;
}
type Handlers = ReturnType<typeof handlers> & ReturnType<typeof roleHandlers>;

/** MLflow 3.18's user, per-user permission and role routes (routes.py), each served under /api and /ajax-api. */
const ROUTES: readonly CompatRoute[] = [
  { method: 'POST', version: 2, path: '/users/create', name: 'createUser' },
  { method: 'GET', version: 2, path: '/users/get', name: 'getUser' },
  { method: 'GET', version: 2, path: '/users/list', name: 'listUsers' },
  { method: 'GET', version: 2, path: '/users/current', name: 'currentUser' },
  { method: 'PATCH', version: 2, path: '/users/update-password', name: 'updatePassword' },
  { method: 'PATCH', version: 2, path: '/users/update-admin', name: 'updateAdmin' },
  { method: 'DELETE', version: 2, path: '/users/delete', name: 'deleteUser' },
  { method: 'POST', version: 3, path: '/users/permissions/grant', name: 'grant' },
  { method: 'POST', version: 3, path: '/users/permissions/revoke', name: 'revoke' },
  { method: 'GET', version: 3, path: '/users/permissions/get', name: 'check' },
  { method: 'GET', version: 3, path: '/users/permissions/list', name: 'listPermissions' },
  { method: 'GET', version: 3, path: '/users/current/permissions', name: 'currentPermissions' },
  ...ROLE_ROUTES,
];

const expand = (r: CompatRoute) => ['/api', '/ajax-api'].map((prefix) => ({ method: r.method, path: `${prefix}/${r.version}.0/mlflow${r.path}`, name: r.name }));

/** Every (method, exact path) Gatehouse serves for MLflow auth compatibility. */
export const MLFLOW_AUTH_COMPAT_ROUTES: readonly { readonly method: Method; readonly path: string }[] = ROUTES.flatMap(expand).map(({ method, path }) => ({ method, path }));
const KEYS = new Set(MLFLOW_AUTH_COMPAT_ROUTES.map((r) => `${r.method} ${r.path}`));

/** Whether the listener hands this request to the compatibility API (exact method and path; the query is ignored). */
export function isMlflowAuthCompatRequest(method: string | undefined, url: string): boolean {
  const q = url.indexOf('?');
  return KEYS.has(`${method ?? ''} ${q < 0 ? url : url.slice(0, q)}`);
}

export interface MlflowAuthCompatDeps {
  readonly providers: readonly IdentityProvider[];
  /** Reads (users and grants in MLflow's shapes); every change goes through `services`. */
  readonly store: Store;
  readonly policy: () => PolicySnapshot;
  readonly rateLimits?: RateLimits | undefined;
  readonly services: Services;
}

const userJson = (u: User) => ({ id: u.id, username: u.username, is_admin: u.admin });

const mustFindOf = (store: Store) => async (name: string) => (await store.findUserByName(name)) ?? Promise.reject(notFound(`User with username=${name} not found`));
/** The local user the caller is (never a name another provider asserts): the `local` and `token` providers' principals. */
function selfOf(deps: MlflowAuthCompatDeps): (c: Call) => string | undefined {
  const localProviders = [...deps.services.deps.providers.local, ...deps.services.deps.providers.token];
  return (c) => localUserOf(c.principal, localProviders);
}

function handlers(deps: MlflowAuthCompatDeps) {
  const { store, services } = deps;
  const repo = policyRepository(store.db);
  const mustFind = mustFindOf(store);
  const adminOnly = (c: Call) => {
    if (!c.admin) throw denied();
  };
  const self = selfOf(deps);
  const selfOrAdmin = (c: Call, username: string) => {
    if (!c.admin && self(c) !== username) throw denied();
  };
  /** The tenant grants are written in: the caller's `X-MLFLOW-WORKSPACE` (one of its tenants), else the default tenant, else `default`. */
  function tenantOf(c: Call): string {
    const snapshot = deps.policy();
    const asked = c.req.headers['x-mlflow-workspace'];
    if (typeof asked === 'string' && asked !== '') {
      if (!snapshot.tenants.has(asked) || (!c.admin && !tenantsOf(snapshot, c.principal).includes(asked))) throw denied();
      return asked;
    }
    const t = snapshot.defaultTenant ?? (snapshot.tenants.has('default') ? 'default' : snapshot.tenantOrder[0]);
    if (t === undefined) throw invalid('no tenant is configured for MLflow permissions');
    return t;
  }
  function resource(c: Call): ResourceRef {
    const type = c.str('resource_type');
    if (type === 'workspace') {
      throw invalid("resource_type 'workspace' is not supported by the per-user permission convenience APIs. Use Gatehouse tenant membership instead.");
    }
    try {
      return mlflowResource(type, c.str('resource_id'));
    } catch (err) {
      throw grantRefusal(err);
    }
  }
  const principalOf = (u: User): Principal => describedPrincipal(u.username, { kind: 'user', admin: u.admin, method: 'basic', provider: 'local' });
  /** The effective MLflow permission, answered by the same engine that authorizes MLflow calls. */
  function effective(principal: Principal, tenant: string, ref: ResourceRef): string {
    const snapshot = deps.policy();
    const family = familyOfResourceType(ref.type);
    const anchors = ref.id === '*' ? undefined : ref.type === 'experiment' ? { experimentIds: [ref.id] } : { modelNames: [ref.id] };
    let explicitDeny = false;
    for (const level of LEVELS_DESCENDING) {
      const need = level.toLowerCase() as 'read' | 'use' | 'edit' | 'manage';
      const d = decide(snapshot, principal, levelRequest('mlflowAuth.check', family, need, anchors, tenant));
      if (d.effect === 'allow') return level;
      if (d.reasons.includes('explicit-deny')) explicitDeny = true;
    }
    return explicitDeny ? 'DENY' : 'NO_PERMISSIONS';
  }
  /** MLflow's `_list_user_role_permissions`: the per-user grants (its synthetic role) and every permission of the roles it holds. */
  const permissionRows = async (username: string) => [
    ...listGrants(await repo.load(), username).map((g) => ({
      role_id: g.id,
      role_name: `__user_${username}__`,
      workspace: g.tenant,
      resource_type: g.resourceType,
      resource_pattern: g.resourcePattern,
      permission: g.permission,
    })),
    ...(await services.mlflowRoles.rolesOf(username)).flatMap((r) =>
      r.permissions.map((p) => ({ role_id: r.id, role_name: r.name, workspace: r.workspace, resource_type: p.resourceType, resource_pattern: p.resourcePattern, permission: p.permission })),
    ),
  ];

  return {
    async createUser(c: Call) {
      adminOnly(c);
      const username = c.param('username');
      const password = c.param('password');
      if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) throw invalid('Username and password cannot be empty.');
      if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/.test(username)) throw invalid('Username must be letters, digits and . _ @ - (at most 128), starting with a letter or digit.');
      const problems = passwordProblems(password);
      if (problems.length > 0) throw invalid(`Password ${problems.join(', ')}.`);
      if (await store.findUserByName(username)) throw callerError('GATEHOUSE_COMPAT_ALREADY_EXISTS', `User (username=${username}) already exists.`);
      await services.users.create(c.actor, { username, password, admin: false });
      return { user: userJson(await mustFind(username)) };
    },
    async getUser(c: Call) {
      const username = c.str('username');
      selfOrAdmin(c, username);
      return { user: userJson(await mustFind(username)) };
    },
    async listUsers(c: Call) {
      adminOnly(c);
      const roles = await services.mlflowRoles.byUser();
      return { users: (await store.listUsers()).map((u) => ({ ...userJson(u), roles: (roles.get(u.username) ?? []).map(roleJson) })) };
    },
    async currentUser(c: Call) {
      const me = self(c);
      const user = me === undefined ? undefined : await store.findUserByName(me);
      return {
        user: user && c.principal.provider !== 'token' ? userJson(user) : { id: c.principal.id, username: c.principal.name, is_admin: c.admin },
        is_basic_auth: c.principal.method === 'basic',
      };
    },
    async updatePassword(c: Call) {
      const username = c.str('username');
      const password = c.str('password');
      selfOrAdmin(c, username);
      const user = await mustFind(username);
      // MLflow re-asserts the current password on self-service changes (update_user_password).
      if (self(c) === username) {
        const current = c.param('current_password');
        if (typeof current !== 'string' || current === '') throw invalid('Current password is required when changing your own password.');
        if (user.passwordHash === null || !(await verifyPassword(current, user.passwordHash))) throw invalid('Current password does not match.');
        if (password === current) throw invalid('New password must differ from the current password.');
      }
      const problems = passwordProblems(password);
      if (problems.length > 0) throw invalid(`Password ${problems.join(', ')}.`);
      await services.users.setPassword(c.actor, username, password);
      return {};
    },
    async updateAdmin(c: Call) {
      adminOnly(c);
      const username = c.str('username');
      const raw = c.param('is_admin');
      const value = raw === true || raw === 'true' || raw === 'True' ? true : raw === false || raw === 'false' || raw === 'False' ? false : undefined;
      if (value === undefined) throw invalid('Missing value for required parameter \'is_admin\'.');
      await mustFind(username);
      await services.users.update(c.actor, username, { admin: value });
      return {};
    },
    async deleteUser(c: Call) {
      adminOnly(c);
      const username = c.str('username');
      if (username === self(c)) throw invalid('Users cannot delete their own account. Ask another admin to delete this user instead.');
      await mustFind(username);
      // Like MLflow's delete_user, and like every door: what names the user goes with it.
      await services.users.delete(c.actor, username);
      return {};
    },
    async grant(c: Call) {
      const username = c.str('username');
      const ref = resource(c);
      let permission;
      try {
        permission = parsePermission(c.param('permission'));
      } catch (err) {
        throw grantRefusal(err);
      }
      const tenant = tenantOf(c);
      await mayManage(c, tenant, ref);
      await mustFind(username);
      const made = await services.grants.grantResource(c.actor, { username, tenant, ref, permission, createdBy: `mlflow-auth:${c.principal.name}`, knownRoles: [...deps.policy().roles.keys()] });
      if (!made) throw callerError('GATEHOUSE_COMPAT_ALREADY_EXISTS', `Permission for user=${username} on resource_type=${ref.type}, resource_id=${ref.id} already exists.`);
      return {};
    },
    async revoke(c: Call) {
      const username = c.str('username');
      const ref = resource(c);
      const tenant = tenantOf(c);
      await mayManage(c, tenant, ref);
      await mustFind(username);
      if (!(await services.grants.revokeResource(c.actor, { username, tenant, ref }))) {
        throw notFound(`Permission for user=${username} on resource_type=${ref.type}, resource_id=${ref.id} not found.`);
      }
      return {};
    },
    async check(c: Call) {
      const username = c.str('username');
      const ref = resource(c);
      selfOrAdmin(c, username);
      const user = await mustFind(username);
      const permission = effective(principalOf(user), tenantOf(c), ref);
      // `allowed` mirrors MLflow's can_use: READ alone is not "allowed".
      return { allowed: ['USE', 'EDIT', 'MANAGE'].includes(permission), permission };
    },
    async listPermissions(c: Call) {
      const username = c.str('username');
      selfOrAdmin(c, username);
      const user = await mustFind(username);
      return { is_admin: user.admin, permissions: await permissionRows(username) };
    },
    async currentPermissions(c: Call) {
      // The per-user grants this API writes name local users: the caller's, if it has a local name.
      const local = c.principal.localName;
      return { is_admin: c.admin, permissions: local === undefined ? [] : await permissionRows(local) };
    },
  };

  /** MLflow's validate_can_manage_resource: platform admin, or MANAGE on that very resource (not for `*`). */
  async function mayManage(c: Call, tenant: string, ref: ResourceRef): Promise<void> {
    if (c.admin) return;
    if (ref.id === '*' || effective(c.principal, tenant, ref) !== 'MANAGE') throw denied();
  }
}

export function registerMlflowAuthCompat(app: FastifyInstance, deps: MlflowAuthCompatDeps): void {
  const authenticate = apiAuthenticator(deps);
  const h: Handlers = { ...handlers(deps), ...roleHandlers({ roles: deps.services.mlflowRoles, self: selfOf(deps), findUser: mustFindOf(deps.store), userIds: async () => new Map((await deps.store.listUsers()).map((u) => [u.username, u.id])) }) };
  for (const r of ROUTES.flatMap(expand)) {
    app.route({
      method: r.method,
      url: r.path,
      handler: async (req, reply) => {
        const requestId = randomUUID();
        reply.header('x-request-id', requestId);
        try {
          const principal = await authenticate(req);
          const source = (r.method === 'GET' ? req.query : req.body) as Record<string, unknown> | undefined;
          if (r.method !== 'GET' && (source === null || typeof source !== 'object' || Array.isArray(source))) {
            throw invalid('Invalid content type. Must be application/json');
          }
          const param = (name: string) => source?.[name];
          const call: Call = {
            principal,
            actor: principalActor(principal, 'compat', { requestId, client: { address: req.raw.socket.remoteAddress ?? '', userAgent: req.headers['user-agent'] } }),
            admin: isAdmin(deps.policy(), principal) !== undefined,
            req,
            param,
            str(name) {
              const v = param(name);
              if (typeof v !== 'string' || v === '') throw invalid(`Missing value for required parameter '${name}'.`);
              return v;
            },
            int: (name) => intParam(name, param(name)),
          };
          const out = await h[r.name](call);
          return reply.code(200).header('cache-control', 'no-store').send(out);
        } catch (err) {
          return sendMlflowError(reply, err);
        }
      },
    });
  }
}

