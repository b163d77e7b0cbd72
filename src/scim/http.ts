/**
 * The SCIM 2.0 service provider at `/_gatehouse/scim/v2` (RFC 7644): a door onto the services
 * (src/services/scim.ts), like the admin API, with its own credential (src/scim/auth.ts) and
 * SCIM's own wire format — `application/scim+json`, the RFC 7644 §3.12 error body
 * (`{"schemas": [...Error], "status": "409", "scimType": "uniqueness", "detail": "…"}`), ETags.
 * Every change is the services' admin event with door `scim` and actor = the token's name.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Services } from '../services/index.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../lib/logger.ts';
import { callerError, GatehouseError, toGatehouseError } from '../errors.ts';
import { fastifyRefusal, scimError, sendScimError, type ScimError } from '../http/error-response.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import { scimAuthenticator, SCIM_CHALLENGE } from './auth.ts';
import { applyPatch, groupInput, groupResource, ifMatchVersion, projection, resourceFilter, scimBadRequest, userInput, userResource } from './resources.ts';
import { resourceTypes, SCHEMAS, SCIM_JSON, schemaResource, serviceProviderConfig, URN } from './schemas.ts';
import type { ScimConfig } from './config.ts';
import type { ScimObserver } from './health.ts';

export const SCIM_PREFIX = '/_gatehouse/scim/v2';

export interface ScimDoorDeps {
  readonly config: ScimConfig;
  readonly services: Services;
  readonly store: Store;
  readonly log: Logger;
  readonly now: () => number;
  /** Per-client budgets (`reads` for GET and searches, `writes` for changes) and failed-token lockouts; absent when rate limits are off. */
  readonly rateLimits?: RateLimits | undefined;
  /** Told of every answer: provisioning health and metrics (src/scim/health.ts). */
  readonly observer?: ScimObserver | undefined;
}

interface Call {
  readonly actor: Actor;
  readonly base: string;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | undefined>;
}

type Handler = (call: Call) => Promise<{ status?: number; body?: unknown; etag?: string } | undefined>;

/** The query parameters, each given once: a repeated one (`?filter=a&filter=b`) is ambiguous and refused. */
function singleQuery(query: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw scimBadRequest('invalidSyntax', `the query parameter ${k.slice(0, 50)} is given more than once`);
    out[k] = v;
  }
  return out;
}

/** Pagination (RFC 7644 §3.4.2.4): 1-based `startIndex` (below 1 is 1), `count` capped at `maxResults` (below 0 is 0). */
function page<T>(items: readonly T[], query: Record<string, string | undefined>, maxResults: number) {
  const int = (s: string | undefined, d: number) => {
    if (s === undefined) return d;
    if (!/^-?\d+$/.test(s)) throw scimBadRequest('invalidValue', 'startIndex and count are integers');
    return Number(s);
  };
  const start = Math.max(1, int(query.startIndex, 1));
  const count = Math.min(maxResults, Math.max(0, int(query.count, maxResults)));
  const slice = items.slice(start - 1, start - 1 + count);
  return { schemas: [URN.list], totalResults: items.length, startIndex: start, itemsPerPage: slice.length, Resources: slice };
}

export function registerScim(app: FastifyInstance, deps: ScimDoorDeps): void {
  if (!deps.config.enabled) return;
  const authenticate = scimAuthenticator(deps.store, deps.now);
  const { scim } = deps.services;
  const maxResults = deps.config.maxResults;

  const list = <R>(all: readonly R[], toJson: (r: R) => Record<string, unknown>, query: Record<string, string | undefined>) => {
    const matches = resourceFilter(query.filter);
    const project = projection(query.attributes, query.excludedAttributes);
    const resources = all.map(toJson).filter(matches);
    const p = page(resources, query, maxResults);
    return { ...p, Resources: p.Resources.map(project) };
  };
  /** A SearchRequest body (RFC 7644 §3.4.3) as the query parameters of a GET. */
  const searchQuery = (body: unknown): Record<string, string | undefined> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw scimBadRequest('invalidSyntax', 'a SearchRequest body');
    const b = body as Record<string, unknown>;
    const list = (v: unknown) => (Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : undefined);
    const text = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
    return { filter: text(b.filter), startIndex: text(b.startIndex), count: text(b.count), attributes: list(b.attributes), excludedAttributes: list(b.excludedAttributes) };
  };
  const one = (r: Record<string, unknown>, status = 200) => ({ status, body: r, etag: (r.meta as { version: string }).version });
  const ifMatch = (req: FastifyRequest) => ifMatchVersion(typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined);

  const routes: [method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, handler: Handler][] = [
    ['GET', '/ServiceProviderConfig', async ({ base }) => ({ body: serviceProviderConfig(base, maxResults) })],
    ['GET', '/ResourceTypes', async ({ base, query }) => ({ body: page(resourceTypes(base), query, maxResults) })],
    [
      'GET', '/ResourceTypes/:id',
      async ({ base, params }) => {
        const t = resourceTypes(base).find((x) => x.id === params.id);
        if (!t) throw callerError('GATEHOUSE_SCIM_NOT_FOUND', `no resource type ${params.id}`);
        return { body: t };
      },
    ],
    ['GET', '/Schemas', async ({ base, query }) => ({ body: page(SCHEMAS.map((s) => schemaResource(base, s)), query, maxResults) })],
    [
      'GET', '/Schemas/:id',
      async ({ base, params }) => {
        const s = SCHEMAS.find((x) => x.id === params.id);
        if (!s) throw callerError('GATEHOUSE_SCIM_NOT_FOUND', `no schema ${params.id}`);
        return { body: schemaResource(base, s) };
      },
    ],
    ['GET', '/Users', async ({ base, query }) => ({ body: list(await scim.users.list(), (u) => userResource(base, u), query) })],
    ['POST', '/Users/.search', async ({ base, req }) => ({ body: list(await scim.users.list(), (u) => userResource(base, u), searchQuery(req.body)) })],
    [
      'POST', '/.search',
      async ({ base, req }) => {
        const all = [...(await scim.users.list()).map((u) => userResource(base, u)), ...(await scim.groups.list()).map((g) => groupResource(base, g))];
        return { body: list(all, (r) => r, searchQuery(req.body)) };
      },
    ],
    ['POST', '/Users', async ({ actor, base, req }) => one(userResource(base, await scim.users.create(actor, userInput(req.body))), 201)],
    ['GET', '/Users/:id', async ({ base, params, query }) => one(projection(query.attributes, query.excludedAttributes)(userResource(base, await scim.users.get(params.id!))))],
    ['PUT', '/Users/:id', async ({ actor, base, params, req }) => one(userResource(base, await scim.users.replace(actor, params.id!, userInput(req.body), ifMatch(req))))],
    [
      'PATCH', '/Users/:id',
      async ({ actor, base, params, req }) => {
        const patched = applyPatch(userResource(base, await scim.users.get(params.id!)), req.body);
        return one(userResource(base, await scim.users.replace(actor, params.id!, userInput(patched), ifMatch(req))));
      },
    ],
    [
      'DELETE', '/Users/:id',
      async ({ actor, params, req }) => {
        await scim.users.delete(actor, params.id!, ifMatch(req));
        return { status: 204 };
      },
    ],
    ['GET', '/Groups', async ({ base, query }) => ({ body: list(await scim.groups.list(), (g) => groupResource(base, g), query) })],
    ['POST', '/Groups/.search', async ({ base, req }) => ({ body: list(await scim.groups.list(), (g) => groupResource(base, g), searchQuery(req.body)) })],
    ['POST', '/Groups', async ({ actor, base, req }) => one(groupResource(base, await scim.groups.create(actor, groupInput(req.body))), 201)],
    ['GET', '/Groups/:id', async ({ base, params, query }) => one(projection(query.attributes, query.excludedAttributes)(groupResource(base, await scim.groups.get(params.id!))))],
    ['PUT', '/Groups/:id', async ({ actor, base, params, req }) => one(groupResource(base, await scim.groups.replace(actor, params.id!, groupInput(req.body), ifMatch(req))))],
    [
      'PATCH', '/Groups/:id',
      async ({ actor, base, params, req }) => {
        const patched = applyPatch(groupResource(base, await scim.groups.get(params.id!)), req.body);
        return one(groupResource(base, await scim.groups.replace(actor, params.id!, groupInput(patched), ifMatch(req))));
      },
    ],
    [
      'DELETE', '/Groups/:id',
      async ({ actor, params, req }) => {
        await scim.groups.delete(actor, params.id!, ifMatch(req));
        return { status: 204 };
      },
    ],
  ];

  // The discovery endpoints are read-only (RFC 7644 §4): any other method is 405, not 404.
  for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:id', '/Schemas', '/Schemas/:id']) {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      routes.push([method, path, async ({ reply }) => {
        reply.header('allow', 'GET');
        throw callerError('GATEHOUSE_SCIM_READ_ONLY', `${path} is read-only`);
      }]);
    }
  }

  /** The SCIM shape of any error; what is not a GatehouseError is logged and answered as internal. */
  function answerOf(err: unknown): ScimError {
    const g = toGatehouseError(err);
    if (g !== err) deps.log.error({ err: g.detail }, 'SCIM error');
    return scimError(g);
  }

  function handlerOf(method: string, path: string, h: Handler) {
    const resource = path.replace(':id', '{id}');
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const requestId = randomUUID();
      reply.header('x-request-id', requestId);
      let client: string | null = null;
      const peer = req.raw.socket.remoteAddress ?? '';
      const limits = deps.rateLimits;
      try {
        // Guessing tokens locks the address out like failed passwords do (rateLimits.failedAuth).
        const locked = await limits?.lockedOut(peer, undefined);
        if (locked) throw limits!.rejection(locked.kind, 'failed-auth', locked.retryAfterMs);
        const auth = await authenticate(req.raw);
        if (!auth.ok) {
          if (auth.reason !== 'no-credentials') await limits?.failed(peer, undefined);
          throw new GatehouseError('GATEHOUSE_AUTHN_REQUIRED', auth.reason, { 'www-authenticate': SCIM_CHALLENGE }, `a SCIM bearer token is required (${auth.reason})`);
        }
        client = auth.client;
        const verdict = await limits?.take('principal', method === 'GET' || path.endsWith('.search') ? 'reads' : 'writes', `scim:${auth.client}`);
        if (verdict && !verdict.allowed) throw limits!.rejection('principal', method === 'GET' ? 'reads' : 'writes', verdict.retryAfterMs);
        const base = `${req.protocol}://${req.headers.host ?? 'localhost'}${SCIM_PREFIX}`;
        const actor: Actor = { id: auth.client, door: 'scim', requestId, client: { address: req.raw.socket.remoteAddress ?? '', userAgent: req.headers['user-agent'] } };
        const out = await h({ actor, base, req, reply, params: (req.params ?? {}) as Record<string, string>, query: singleQuery(req.query) });
        const status = out?.status ?? 200;
        await deps.observer?.answered({ method, resource, status, client });
        reply.code(status).header('cache-control', 'no-store');
        if (out?.etag !== undefined) reply.header('etag', out.etag);
        if (out?.body === undefined) return reply.send();
        if (status === 201) reply.header('location', (out.body as { meta: { location: string } }).meta.location);
        return reply.header('content-type', SCIM_JSON).send(out.body);
      } catch (err) {
        const a = answerOf(err);
        await deps.observer?.answered({ method, resource, status: a.status, client, scimType: a.scimType ?? null, detail: a.detail });
        return sendScimError(reply, a);
      }
    };
  }

  void app.register(
    async (scope) => {
      // SCIM bodies are JSON under their own media type (RFC 7644 §3.1); clients also send plain JSON.
      scope.addContentTypeParser(SCIM_JSON, { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, body === '' ? undefined : JSON.parse(body as string));
        } catch {
          done(scimBadRequest('invalidSyntax', 'the body is not JSON'), undefined);
        }
      });
      scope.setErrorHandler((err, _req, reply) => sendScimError(reply, answerOf(fastifyRefusal(err))));
      scope.setNotFoundHandler((req, reply) => sendScimError(reply, scimError(callerError('GATEHOUSE_SCIM_NOT_FOUND', `no SCIM endpoint ${req.method} ${req.url.split('?')[0]}`))));
      for (const [method, path, h] of routes) scope.route({ method, url: path, handler: handlerOf(method, path, h) });
    },
    { prefix: SCIM_PREFIX },
  );
}
