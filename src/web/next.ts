/**
 * Where a browser goes after login: only a path on this gateway. Anything that a browser could
 * read as another origin is refused (no open redirect): `//host`, `/\host`, schemes, control
 * characters, and Gatehouse's own endpoints (the login ones would loop) except the console, `/_gatehouse/`.
 */
import type { IncomingMessage } from 'node:http';

export const LOGIN_PATH = '/_gatehouse/login';
const MAX_NEXT = 2048;

/** `next` if it is a safe local path, else `/`. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_NEXT) return '/';
  // One leading slash followed by neither slash nor backslash; no control characters or spaces
  // (browsers strip tabs and newlines, turning `/\t/evil` into `//evil`); no backslashes at all.
  if (!/^\/(?![/\\])/.test(next) || /[\u0000-\u0020\u007f\\]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, 'http://gatehouse.invalid');
  } catch {
    return '/';
  }
  if (url.origin !== 'http://gatehouse.invalid') return '/';
  // The console (`/_gatehouse/`) is a fine destination; the login endpoints under it would loop.
  if (url.pathname.startsWith('/_gatehouse/') && url.pathname !== '/_gatehouse/') return '/';
  return url.pathname + url.search + url.hash;
}

/**
 * `next` with the browser's `location.hash` in place of its own fragment (the login page's script
 * sends it: browsers never send fragments, and MLflow's UI lives after `#`). The joined target
 * passes `safeNext` or the fragment is ignored.
 */
export function withFragment(next: string, fragment: unknown): string {
  if (typeof fragment !== 'string' || !fragment.startsWith('#') || fragment.length < 2) return next;
  const joined = safeNext(next.split('#')[0] + fragment);
  return joined.includes('#') ? joined : next;
}

/**
 * Top-level browser navigation (GET, `Accept` names text/html, not an API path) is sent to the
 * login page rather than answered with a 401 a person cannot act on. API clients (the MLflow
 * client, the UI's own fetches under /ajax-api/) keep the 401 and its challenge.
 */
export function loginRedirect(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return undefined;
  if (!/\btext\/html\b/i.test(req.headers.accept ?? '')) return undefined;
  const url = req.url ?? '/';
  if (url.startsWith('/api/') || url.startsWith('/ajax-api/')) return undefined;
  return `${LOGIN_PATH}?${new URLSearchParams({ next: safeNext(url) }).toString()}`;
}
