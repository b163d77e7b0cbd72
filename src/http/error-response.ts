/**
 * The one error writer: every door renders a GatehouseError (src/errors.ts) here, in its own
 * shape, with the status, MLflow code and public message from the one registry.
 * - MLflow's error JSON (`mlflow/exceptions.py` serialize_as_json) plus `gatehouse_code`: the
 *   request pipeline, the admin API (with `details` for invalid fields), the MLflow-compat API and
 *   usage analytics;
 * - RFC 7644 §3.12's SCIM error (src/scim/);
 * - plain text for a browser page (the console's entry).
 * Anything that is not a GatehouseError is answered as GATEHOUSE_INTERNAL_ERROR; its text stays private.
 */
import type { FastifyReply } from 'fastify';
import { ERRORS, toGatehouseError, type ErrorCode, type GatehouseError } from '../errors.ts';

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
  readonly scimType: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
}

export function scimError(err: GatehouseError): ScimError {
  const scimType =
    err.code === 'GATEHOUSE_ADMIN_CONFLICT' && /already taken|already exists/.test(err.message)
      ? 'uniqueness'
      : err.code === 'GATEHOUSE_SCIM_INVALID' || err.code === 'GATEHOUSE_ADMIN_INVALID_PARAMETER'
        ? 'invalidValue'
        : undefined;
  return { status: ERRORS[err.code].status, detail: err.message, scimType, headers: err.headers };
}

/** A plain-text page for a browser (the console's entry when its caller cannot be authenticated). */
export function sendPlainTextError(reply: FastifyReply, err: GatehouseError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  return reply
    .code(ERRORS[err.code].status)
    .headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    .send(`${err.message}\n`);
}
