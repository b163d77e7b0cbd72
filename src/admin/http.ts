/**
 * How an admin API route is declared: method, path, who may call it, and zod schemas for its
 * query and body. The same declarations register the Fastify routes (src/admin/api.ts) and
 * generate the OpenAPI document (src/admin/openapi.ts), so the two cannot drift apart.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ERRORS, type ErrorCode } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';

export const API_PREFIX = '/_gatehouse/api/v1';

/** `admin`: platform administrators; `self`: any authenticated principal (its own things); `public`: no authentication. */
export type Access = 'admin' | 'self' | 'public';

export interface Call<B, Q> {
  readonly principal: Principal;
  readonly body: B;
  readonly query: Q;
  readonly params: Readonly<Record<string, string>>;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
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

export interface FieldProblem {
  /** Dotted path of the field (`experiment.id`); empty for the body as a whole. */
  readonly path: string;
  readonly message: string;
}

/** An admin API error whose message is meant for the (authenticated) caller. Never put a secret in it. */
export class AdminError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly FieldProblem[] | undefined;
  constructor(code: ErrorCode, message?: string, details?: readonly FieldProblem[]) {
    super(message ?? ERRORS[code].message);
    this.name = 'AdminError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AdminError('GATEHOUSE_ADMIN_NOT_FOUND', `${what} does not exist`);
export const conflict = (message: string) => new AdminError('GATEHOUSE_ADMIN_CONFLICT', message);
export const declared = (what: string) => new AdminError('GATEHOUSE_ADMIN_DECLARED', `${what} is declared in the configuration file (source: config); change it there`);
export const invalid = (path: string, message: string) => new AdminError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `${path}: ${message}`, [{ path, message }]);

/** Parses `value` with `schema`, or throws a 400 naming every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = details[0]!;
  return raise(new AdminError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `invalid ${where}: ${first.path ? `${first.path}: ` : ''}${first.message}`, details));
}

function raise(err: AdminError): never {
  throw err;
}

export function errorBody(code: ErrorCode, message: string, details?: readonly FieldProblem[]): Record<string, unknown> {
  return { error_code: ERRORS[code].mlflowCode, message, gatehouse_code: code, ...(details && { details }) };
}
