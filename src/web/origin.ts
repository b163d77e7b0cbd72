/**
 * Same-origin checks for cookie-authenticated requests. A browser sends `Origin` on every
 * state-changing fetch and form POST (Fetch standard, "append a request Origin header"); a
 * request riding on a cookie without a same-origin `Origin` or `Referer` is not a request the
 * MLflow UI made (OWASP CSRF Cheat Sheet, "Verifying Origin With Standard Headers").
 */
import type { IncomingMessage } from 'node:http';

export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin the request claims to come from: `Origin`, else the `Referer`'s origin. */
export function claimedOrigin(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin;
  const referer = req.headers.referer;
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/** A check for "this request came from a page of this gateway (or a configured public origin)". */
export function sameOriginCheck(publicOrigins: readonly string[]): (req: IncomingMessage) => boolean {
  const allowed = new Set(publicOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  return (req) => {
    const o = claimedOrigin(req)?.toLowerCase();
    if (o === undefined || o === 'null') return false;
    if (allowed.has(o)) return true;
    const host = req.headers.host?.toLowerCase();
    return host !== undefined && (o === `http://${host}` || o === `https://${host}`);
  };
}
