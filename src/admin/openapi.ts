/**
 * The OpenAPI 3.1 document of `/_gatehouse/api/v1`, generated from the route declarations and
 * their zod schemas (JSON Schema 2020-12, which OpenAPI 3.1 uses as is). A test checks that every
 * route Fastify serves under the prefix is documented here and the other way round.
 */
import { z } from 'zod';
import { API_PREFIX, type RouteSpec } from './http.ts';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error_code', 'message'],
  properties: {
    error_code: { type: 'string', description: "MLflow's error code (INVALID_PARAMETER_VALUE, PERMISSION_DENIED, ...)." },
    message: { type: 'string' },
    gatehouse_code: { type: 'string', description: 'Stable Gatehouse code (docs/errors.md).' },
    details: {
      type: 'array',
      description: 'Validation errors: one per bad field.',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

export const openApiPath = (path: string): string => API_PREFIX + path.replace(/:([A-Za-z_]+)/g, '{$1}');
export const operationId = (r: Pick<RouteSpec, 'method' | 'path'>): string =>
  [r.method.toLowerCase(), ...r.path.split('/').filter(Boolean).map((s) => s.replace(/^:/, 'by_').replace(/[^A-Za-z0-9]+/g, '_'))].join('_');

export function openApiDocument(routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  for (const r of routes) {
    const parameters: unknown[] = [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.query) {
      const q = jsonSchema(r.query);
      const required = new Set((q.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries((q.properties as Record<string, JsonSchema> | undefined) ?? {})) {
        parameters.push({ name, in: 'query', required: required.has(name), schema, ...(typeof schema.description === 'string' && { description: schema.description }) });
      }
    }
    const status = String(r.status ?? 200);
    const success =
      status === '204'
        ? { description: 'Done.' }
        : { description: 'Success.', content: { [r.produces ?? 'application/json']: { schema: r.response ? jsonSchema(r.response) : {} } } };
    const responses: Record<string, unknown> = { [status]: success, '400': error('Invalid request: `details` names each bad field.') };
    if (r.access !== 'public') Object.assign(responses, { '401': error('Not authenticated.'), '403': error('Not allowed.') });
    if (r.path.includes(':')) responses['404'] = error('Not found.');
    if (r.method !== 'GET') responses['409'] = error('Conflict (exists, still referenced, or declared in the configuration file).');
    (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = {
      operationId: operationId(r),
      summary: r.summary,
      tags: [r.tag],
      ...(r.access === 'public' ? { security: [] } : {}),
      ...(r.access !== 'public' && { 'x-gatehouse-access': r.access === 'admin' ? 'platform administrators' : 'any authenticated principal (own resources)' }),
      ...(parameters.length > 0 && { parameters }),
      ...(r.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version: '1',
      description:
        'Administration of Gatehouse: users, service accounts and tokens, tenants, groups, roles, grants, sessions, audit, usage, policy explain and "who can access this". Platform administrators only, except /me. Errors use MLflow\'s shape.',
    },
    servers: [{ url: '/' }],
    security: [{ basic: [] }, { bearer: [] }, { session: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'Local or LDAP user name and password, or any name and an API token as the password.' },
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (gth_pat_..., gth_sat_...) or an OIDC access token.' },
        session: { type: 'apiKey', in: 'cookie', name: 'gatehouse_session', description: 'The login page session; state-changing calls need a same-origin Origin header.' },
      },
    },
  };
}
