/**
 * The one error writer: every door renders a GatehouseError (src/errors.ts) here, in its own
 * shape, with the status, MLflow code and public message from the one registry.
 * - MLflow's error JSON (`mlflow/exceptions.py` serialize_as_json) plus `gatehouse_code`: the
 *   request pipeline, the admin API (with `details` for invalid fields), the MLflow-compat API and
 *   usage analytics;
 * - RFC 7644 §3.12's SCIM error (src/scim/);
 * - plain text for a browser page (the console's entry);
 * - an HTML page for a browser (the sign-in page showing the refusal's message).
 * Anything that is not a GatehouseError is answered as GATEHOUSE_INTERNAL_ERROR; its text stays private.
 */
import type { FastifyReply } from 'fastify';
import { callerError, ERRORS, GatehouseError, toGatehouseError, type ErrorCode, type ErrorSpec, type ScimType } from '../errors.ts';
import { SCIM_JSON, URN } from '../scim/schemas.ts';

/** MLflow's error JSON, as the Python client expects. */
export function mlflowErrorBody(code: ErrorCode, message?: string): string {
  return JSON.stringify(mlflowErrorJson(code, message));
}

function mlflowErrorJson(code: ErrorCode, message?: string, details?: GatehouseError['details']): Record<string, unknown> {
  return { error_code: ERRORS[code].mlflowCode, message: message ?? ERRORS[code].message, gatehouse_code: code, ...(details && { details }) };
}

/** The status an error is answered with; one carrying a Location (browser navigation to log in) is a redirect. */
export function errorStatus(err: GatehouseError): number {
  return err.headers?.location !== undefined ? 302 : ERRORS[err.code].status;
}

/** The head and body of the pipeline's answer (src/pipeline/runner.ts writes them, lingering on an unread body). */
export function mlflowErrorAnswer(err: GatehouseError, closeConnection: boolean): { status: number; headers: Record<string, string>; body: string } {
  const body = mlflowErrorBody(err.code, err.message);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...err.headers,
  };
  // An unread request body would be taken for the next request on this connection.
  if (closeConnection) headers.connection = 'close';
  return { status: errorStatus(err), headers, body };
}

/** A request head over the parser's limit, answered on the raw socket before any handler runs. */
export function headerOverflowAnswer(): string {
  const code = 'GATEHOUSE_REQUEST_HEADERS_TOO_LARGE';
  const body = mlflowErrorBody(code);
  return `HTTP/1.1 ${ERRORS[code].status} Request Header Fields Too Large\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * MLflow's error JSON on a Fastify reply (the admin API, the MLflow-compat API, usage analytics).
 * `onInternal` hears what an unexpected error was (for the log; never sent).
 */
export function sendMlflowError(reply: FastifyReply, err: unknown, onInternal?: (detail: string) => void): FastifyReply {
  const g = toGatehouseError(err);
  if (g.code === 'GATEHOUSE_INTERNAL_ERROR' && g !== err) onInternal?.(g.detail ?? '');
  if (g.headers) reply.headers(g.headers);
  return reply
    .code(ERRORS[g.code].status)
    .header('content-type', 'application/json')
    .header('cache-control', 'no-store')
    .send(mlflowErrorJson(g.code, g.message, g.details));
}

/** The SCIM door's shape of an error (RFC 7644 §3.12): status, scimType where one applies, detail. */
export interface ScimError {
  readonly status: number;
  readonly detail: string;
  readonly scimType: ScimType | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
}

export function scimError(err: GatehouseError): ScimError {
  const scimType =
    err.code === 'GATEHOUSE_ADMIN_CONFLICT' && /already taken|already exists/.test(err.message)
      ? 'uniqueness'
      : err.code === 'GATEHOUSE_ADMIN_INVALID_PARAMETER'
        ? 'invalidValue'
        : (ERRORS[err.code] as ErrorSpec).scimType;
  return { status: ERRORS[err.code].status, detail: err.message, scimType, headers: err.headers };
}

/** The SCIM door's error body (RFC 7644 §3.12) on a Fastify reply, under SCIM's media type. */
export function sendScimError(reply: FastifyReply, e: ScimError): FastifyReply {
  if (e.headers) reply.headers(e.headers);
  return reply
    .code(e.status)
    .header('content-type', SCIM_JSON)
    .header('cache-control', 'no-store')
    .send({ schemas: [URN.error], status: String(e.status), ...(e.scimType !== undefined && { scimType: e.scimType }), detail: e.detail });
}

/**
 * Fastify's own refusals before a handler runs (a body that is not JSON or has a wrong length, too
 * large, of a media type no parser reads) as registry errors, Fastify's message kept; a
 * GatehouseError thrown by a body parser passes through; anything else is internal.
 */
export function fastifyRefusal(err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return toGatehouseError(err);
  const code = status === 413 ? 'GATEHOUSE_HTTP_BODY_TOO_LARGE' : status === 415 ? 'GATEHOUSE_HTTP_UNSUPPORTED_MEDIA_TYPE' : 'GATEHOUSE_HTTP_BAD_BODY';
  return callerError(code, (err as Error).message);
}

/** A plain-text page for a browser (the console's entry when its caller cannot be authenticated). */
export function sendPlainTextError(reply: FastifyReply, err: GatehouseError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  return reply
    .code(ERRORS[err.code].status)
    .headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    .send(`${err.message}\n`);
}

/**
 * An HTML page for a browser answering a refusal: the registry's status, the page rendered with
 * the error's public message (the sign-in page shows it), under the page's own headers.
 */
export function sendHtmlError(reply: FastifyReply, err: GatehouseError, page: (message: string) => string, headers: Readonly<Record<string, string>>): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  return reply.code(ERRORS[err.code].status).headers(headers).send(page(err.message));
}
