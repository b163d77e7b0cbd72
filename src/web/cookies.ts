/**
 * The gateway's own cookies. Both are HttpOnly and SameSite=Lax (sent on top-level navigation
 * back from the IdP, never on cross-site subresource or form POST requests), Secure when the
 * request came over TLS or `auth.browser.secureCookies` says so. MLflow never sees them: the
 * rewrite stage drops the whole `Cookie` header (src/upstream/headers.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The logged-in session; Path=/ so every MLflow UI request carries it. */
export const SESSION_COOKIE = 'gatehouse_session';
/** A login in progress (CSRF token, OIDC state); only the login endpoints need it. */
export const LOGIN_COOKIE = 'gatehouse_login';
export const LOGIN_COOKIE_PATH = '/_gatehouse/';
/**
 * A SAML sign-in in progress (request id, relay state): the IdP posts the response back from its
 * own site, and a SameSite=Lax cookie is not sent on a cross-site POST, so this one is
 * SameSite=None (which browsers accept only with Secure: over plain http it stays Lax, enough when
 * IdP and gateway share a site, as in tests). Only the assertion consumer service needs it.
 */
export const SAML_COOKIE = 'gatehouse_saml';
export const SAML_COOKIE_PATH = '/_gatehouse/saml/';

/** The first cookie of that name (RFC 6265 §5.4 sorts longer paths first), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

export function isTls(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

export interface CookieOptions {
  readonly path: string;
  readonly secure: boolean;
  /** Seconds; 0 deletes the cookie; undefined makes a browser-session cookie. */
  readonly maxAge?: number;
  /** Default `Lax`; `None` only with `secure` (browsers drop it otherwise). */
  readonly sameSite?: 'Lax' | 'None';
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  return [
    `${name}=${value}`,
    `Path=${o.path}`,
    'HttpOnly',
    `SameSite=${o.sameSite === 'None' && o.secure ? 'None' : 'Lax'}`,
    ...(o.secure ? ['Secure'] : []),
    ...(o.maxAge !== undefined ? [`Max-Age=${o.maxAge}`] : []),
  ].join('; ');
}
