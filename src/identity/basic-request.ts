/**
 * The login page's password check goes through a provider's own Basic `authenticate`, so the
 * form and `MLFLOW_TRACKING_USERNAME`/`PASSWORD` share one code path: the same hashing,
 * caches, lockouts and verdicts. This builds that request: the login request (its socket, so
 * per-client-address limits still see the real peer) with an `Authorization: Basic` header.
 */
import type { IncomingMessage } from 'node:http';

export function withBasicCredentials(req: IncomingMessage, username: string, password: string): IncomingMessage {
  const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  return Object.create(req, { headers: { value: { ...req.headers, authorization }, enumerable: true } }) as IncomingMessage;
}

export type BasicCredentials = { readonly kind: 'credentials'; readonly username: string; readonly password: string } | { readonly kind: 'not-basic' } | { readonly kind: 'malformed' };

/**
 * Reads `Authorization: Basic` (RFC 7617) for the password providers. An API token sent as the
 * password (for tools that only speak Basic) is not a password: it is left to the token provider
 * whatever the provider order.
 */
export function readBasicCredentials(req: IncomingMessage, isToken: (password: string) => boolean): BasicCredentials {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return { kind: 'not-basic' };
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { kind: 'malformed' };
  const password = decoded.slice(colon + 1);
  if (isToken(password)) return { kind: 'not-basic' };
  return { kind: 'credentials', username: decoded.slice(0, colon), password };
}
