/**
 * One call of the MLflow-compat door (src/compat/mlflow-auth.ts): who calls, as whom the services
 * record it, and MLflow's way of reading parameters (query for GET, JSON body otherwise).
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../services/context.ts';
import type { Principal } from '../model/principal.ts';
import { callerError } from '../errors.ts';

export interface Call {
  readonly principal: Principal;
  /** The caller as the services record it (door `compat`). */
  readonly actor: Actor;
  readonly admin: boolean;
  param(name: string): unknown;
  /** A required non-empty string parameter (MLflow's `_get_request_param`). */
  str(name: string): string;
  /** A required integer parameter (MLflow's `_get_int_request_param`). */
  int(name: string): number;
  readonly req: FastifyRequest;
}

// MLflow's own messages, never a secret; one error class with the services.
export const invalid = (m: string) => callerError('GATEHOUSE_COMPAT_INVALID_PARAMETER', m);
export const notFound = (m: string) => callerError('GATEHOUSE_COMPAT_NOT_FOUND', m);
export const denied = () => callerError('GATEHOUSE_AUTHZ_DENIED', 'Permission denied');

export const missing = (name: string) => invalid(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);

/**
 * MLflow reads ids with Python's int(), which also takes `" 5"`, `"+5"`, `5.9` and `true`: only a
 * JSON integer or a string of ASCII digits is read here, the rest refused in MLflow's words.
 */
export function intParam(name: string, raw: unknown): number {
  if (raw === undefined) throw missing(name);
  const n = typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : undefined;
  if (n === undefined) throw invalid(`Parameter '${name}' must be an integer. Got: ${typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw)}`);
  return n;
}
