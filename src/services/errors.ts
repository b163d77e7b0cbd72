/**
 * The refusals the services throw most, as GatehouseErrors (the one error class, src/errors.ts)
 * whose message is meant for the (authenticated) caller. Each door renders them through the one
 * writer (src/http/error-response.ts); the CLI prints the message on stderr with an exit code.
 * Never put a secret in one.
 */
import { callerError } from '../errors.ts';

export const notFound = (what: string) => callerError('GATEHOUSE_ADMIN_NOT_FOUND', `${what} does not exist`);
export const conflict = (message: string) => callerError('GATEHOUSE_ADMIN_CONFLICT', message);
export const invalid = (path: string, message: string) => callerError('GATEHOUSE_ADMIN_INVALID_PARAMETER', `${path}: ${message}`, [{ path, message }]);
export const lastAdmin = () => callerError('GATEHOUSE_ADMIN_LAST_ADMIN', 'this would leave no enabled platform administrator');
export const forbidden = (message: string) => callerError('GATEHOUSE_AUTHZ_DENIED', message);
export const managedByScim = (what: string) => callerError('GATEHOUSE_ADMIN_MANAGED_BY_SCIM', `${what} is managed by SCIM (its identity provider provisions it); change it there, or through /_gatehouse/scim/v2`);
