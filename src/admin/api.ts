/**
 * The admin API, `/_gatehouse/api/v1`: one route table made of the route families (one module
 * each), registered on the gateway's Fastify app and documented by the OpenAPI document served
 * at `/_gatehouse/api/v1/openapi.json` — both from the same declarations.
 *
 * Every call authenticates like an MLflow call (src/admin/auth.ts). Admin routes need a
 * platform administrator (policy/engine.ts `isAdmin`); `/me` routes any principal. A
 * state-changing call whose Origin is foreign is refused, whatever the credentials (a cookie
 * call without a same-origin Origin is already refused by the session provider). Errors use
 * MLflow's shape, validation errors name each field.
 *
 * Every change is made by a service (src/services/), which records its admin audit event with
 * the door: `console` when the call rode on the login page's session cookie (the console's only
 * credential; nothing a client can claim), `api` otherwise. Each call gets a request id, echoed
 * as X-Request-ID and recorded in the event.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { callerError, GatehouseError } from '../errors.ts';
import { isAdmin } from '../policy/engine.ts';
import { principalActor } from '../services/context.ts';
import { SESSION_PROVIDER_METHOD } from '../identity/session.ts';
import { sameOriginCheck, SAFE_METHODS } from '../web/origin.ts';
import { accessRoutes } from './access.ts';
import { auditRoutes } from './audit.ts';
import { apiAuthenticator } from './auth.ts';
import { identityRoutes } from './identities.ts';
import type { AdminDeps } from './deps.ts';
import { groupRoutes } from './groups.ts';
import { grantRoutes } from './grants.ts';
import { API_PREFIX, parse, route, type RouteSpec } from './http.ts';
import { fastifyRefusal, sendMlflowError } from '../http/error-response.ts';
import { openApiDocument } from './openapi.ts';
import { policyRoutes } from './policy.ts';
import { roleRoutes } from './roles.ts';
import { scimRoutes } from './scim.ts';
import { sessionRoutes } from './sessions.ts';
import { approvalRoutes } from './approvals.ts';
import { tenantRoutes } from './tenants.ts';
import { tokenRoutes } from './tokens.ts';
import { userRoutes } from './users.ts';
import type { Principal } from '../model/principal.ts';

export type { AdminDeps } from './deps.ts';

/** `GET /usage` is served by src/admin/usage.ts; it is declared here so the document covers it. */
const usageRoute = route({
  method: 'GET', path: '/usage', tag: 'usage', access: 'admin', external: true,
  summary: 'Daily usage series per tenant and operation (API calls, runs created, model registrations), from the audit store',
  query: z.strictObject({
    from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('First UTC day (default: 29 days before `to`).'),
    to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('Last UTC day, inclusive (default: today).'),
    tenant: z.string().optional(),
    interval: z.literal('day').optional(),
  }),
  handler: () => Promise.reject(new Error('served by src/admin/usage.ts')),
});

/** Every route of the admin API, in documentation order. */
export function adminRoutes(deps: AdminDeps): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...policyRoutes(deps).filter((r) => r.path === '/me'),
    ...userRoutes(deps),
    ...identityRoutes(deps),
    ...tokenRoutes(deps),
    ...tenantRoutes(deps),
    ...groupRoutes(deps),
    ...roleRoutes(deps),
    ...grantRoutes(deps),
    ...sessionRoutes(deps),
    ...approvalRoutes(deps),
    ...scimRoutes(deps),
    ...auditRoutes(deps),
    usageRoute,
    ...policyRoutes(deps).filter((r) => r.path !== '/me'),
    ...accessRoutes(deps),
  ];
  let document: unknown;
  routes.push(
    route({
      method: 'GET', path: '/openapi.json', tag: 'meta', access: 'public', summary: 'This OpenAPI 3.1 document',
      handler: async () => (document ??= openApiDocument(routes)),
    }),
  );
  return routes;
}

const ANONYMOUS: Principal = { id: 'anonymous', kind: 'user', name: '', groups: [], tenants: [], roles: [], admin: false, method: 'none', provider: 'none' };

export function registerAdminApi(app: FastifyInstance, deps: AdminDeps): void {
  const routes = adminRoutes(deps);
  const authenticate = apiAuthenticator(deps);
  const sameOrigin = sameOriginCheck(deps.config.server.publicOrigins);

  function sendError(reply: FastifyReply, err: unknown): FastifyReply {
    return sendMlflowError(reply, err, (detail) => deps.log.error({ err: detail }, 'admin API error'));
  }

  function handlerOf(r: RouteSpec) {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const requestId = randomUUID();
      reply.header('x-request-id', requestId);
      try {
        if (!SAFE_METHODS.has(req.method) && req.headers.origin !== undefined && !sameOrigin(req.raw)) {
          throw new GatehouseError('GATEHOUSE_REQUEST_FOREIGN_ORIGIN', `origin ${req.headers.origin.slice(0, 100)}`);
        }
        let principal = ANONYMOUS;
        if (r.access !== 'public') {
          principal = await authenticate(req);
          if (r.access === 'admin' && isAdmin(deps.policy(), principal) === undefined) throw callerError('GATEHOUSE_AUTHZ_DENIED', 'platform administrators only');
        }
        const query = r.query ? parse(r.query, req.query ?? {}, 'query') : {};
        const body = r.body ? parse(r.body, req.body ?? {}, 'body') : undefined;
        const params = (req.params ?? {}) as Record<string, string>;
        const door = principal.method === SESSION_PROVIDER_METHOD ? 'console' : 'api';
        const client = { address: req.raw.socket.remoteAddress ?? '', userAgent: req.headers['user-agent'] };
        const actor = principalActor(principal, door, { requestId, client });
        const result = await r.handler({ principal, actor, body, query, params, req, reply });
        if (result === reply || reply.sent) return reply;
        reply.header('cache-control', 'no-store');
        if (result === undefined) return reply.code(r.status ?? 204).send();
        return reply.code(r.status ?? 200).send(result);
      } catch (err) {
        return sendError(reply, err);
      }
    };
  }

  void app.register(
    async (api) => {
      // Fastify's own refusals (malformed JSON, unsupported media type, body too large) in MLflow's shape.
      api.setErrorHandler((err, _req, reply) => sendError(reply, fastifyRefusal(err)));
      api.setNotFoundHandler((req, reply) =>
        sendError(reply, callerError('GATEHOUSE_ADMIN_ENDPOINT_NOT_FOUND', `no admin API endpoint ${req.method} ${req.url.split('?')[0]} (see ${API_PREFIX}/openapi.json)`)),
      );
      for (const r of routes) if (!r.external) api.route({ method: r.method, url: r.path, handler: handlerOf(r) });
    },
    { prefix: API_PREFIX },
  );
}
