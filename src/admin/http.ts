/**
 * How an admin API route is declared: method, path, who may call it, and zod schemas for its
 * query and body. The same declarations register the Fastify routes (src/admin/api.ts) and
 * generate the OpenAPI document (src/admin/openapi.ts), so the two cannot drift apart.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { callerError, type FieldProblem } from '../errors.ts';
import type { Actor } from '../services/context.ts';
import type { Principal } from '../model/principal.ts';

export { conflict, invalid, notFound } from '../services/errors.ts';
export type { FieldProblem };

export const API_PREFIX = '/_gatehouse/api/v1';

/** `admin`: platform administrators; `self`: any authenticated principal (its own things); `public`: no authentication. */
export type Access = 'admin' | 'self' | 'public';

export interface Call<B, Q> {
  readonly principal: Principal;
  /** The caller as the services see it: door `console` when it rode on the console's session cookie, else `api`. */
  readonly actor: Actor;
  readonly body: B;
  readonly query: Q;
  readonly params: Readonly<Record<string, string>>;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below API_PREFIX, Fastify syntax (`/users/:name`). */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: B;
  readonly query?: Q;
  /** Success status (default 200). */
  readonly status?: 200 | 201 | 204;
  /** Documented success body (OpenAPI only). */
  readonly response?: z.ZodType;
  /** Documented success media type when not JSON. */
  readonly produces?: string;
  /** Served by another module (documented here only). */
  readonly external?: boolean;
  /** The value is sent as JSON; undefined sends nothing (204). A handler may answer through `reply` itself. */
  handler(call: Call<z.output<B>, z.output<Q>>): Promise<unknown>;
}

/** Identity for declarations: keeps the body and query types of one route together. */
export function route<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType>(spec: RouteSpec<B, Q>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** Parses `value` with `schema`, or throws a 400 naming every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = details[0]!;
  throw callerError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `invalid ${where}: ${first.path ? `${first.path}: ` : ''}${first.message}`, details);
}
