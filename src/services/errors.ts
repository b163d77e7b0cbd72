/**
 * The one error a service throws: a registry code (src/errors.ts), a message meant for the
 * (authenticated) caller, and, for invalid input, the fields. Each door turns it into its own
 * answer: the admin API and the console into MLflow's error JSON with `details`, the MLflow-compat
 * API into MLflow's shape, the CLI into a line on stderr and an exit code. Never put a secret in it.
 */
import { ERRORS, type ErrorCode } from '../errors.ts';

export interface FieldProblem {
  /** Dotted path of the field (`experiment.id`); empty for the input as a whole. */
  readonly path: string;
  readonly message: string;
}

export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly FieldProblem[] | undefined;
  constructor(code: ErrorCode, message?: string, details?: readonly FieldProblem[]) {
    super(message ?? ERRORS[code].message);
    this.name = 'ServiceError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new ServiceError('GATEHOUSE_ADMIN_NOT_FOUND', `${what} does not exist`);
export const conflict = (message: string) => new ServiceError('GATEHOUSE_ADMIN_CONFLICT', message);
export const invalid = (path: string, message: string) => new ServiceError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `${path}: ${message}`, [{ path, message }]);
export const lastAdmin = () => new ServiceError('GATEHOUSE_ADMIN_LAST_ADMIN', 'this would leave no enabled platform administrator');
export const forbidden = (message: string) => new ServiceError('GATEHOUSE_AUTHZ_DENIED', message);
export const managedByScim = (what: string) => new ServiceError('GATEHOUSE_ADMIN_MANAGED_BY_SCIM', `${what} is managed by SCIM (its identity provider provisions it); change it there, or through /_gatehouse/scim/v2`);
