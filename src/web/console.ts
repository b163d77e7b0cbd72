/**
 * The web console at `/_gatehouse/`: a single page (plain ES modules and CSS in
 * src/web/console/, no framework, no build step, nothing from another origin) that drives the
 * admin API (`/_gatehouse/api/v1`) with the login page's session cookie. The browser adds a
 * same-origin `Origin` to the console's state-changing fetches, which the session provider
 * requires (src/web/origin.ts).
 *
 * The page itself is served only to an authenticated caller; anyone else is sent to the login
 * page, which comes back here. The files are read once at start and served from memory, under a
 * Content-Security-Policy that allows scripts, styles and fetches from this origin only.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { apiAuthenticator, type AuthDeps } from '../admin/auth.ts';
import { toGatehouseError } from '../errors.ts';
import { sendPlainTextError } from '../http/error-response.ts';
import { LOGIN_PATH } from './next.ts';

export const CONSOLE_PATH = '/_gatehouse/';
const ASSET_PREFIX = '/_gatehouse/console/';

const TYPES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'ui.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

function load(name: string): string {
  return readFileSync(new URL(`./console/${name}`, import.meta.url), 'utf8');
}

export function registerConsole(app: FastifyInstance, deps: AuthDeps): void {
  const authenticate = apiAuthenticator(deps);
  const index = load('index.html');
  const assets = new Map(Object.keys(TYPES).map((name) => [name, load(name)]));

  app.get(CONSOLE_PATH, async (req, reply) => {
    try {
      await authenticate(req);
    } catch (err) {
      const g = toGatehouseError(err);
      if (g.spec.status === 401) return reply.code(303).headers({ location: `${LOGIN_PATH}?next=${encodeURIComponent(CONSOLE_PATH)}`, 'cache-control': 'no-store' }).send();
      return sendPlainTextError(reply, g);
    }
    return reply.code(200).headers({ ...HEADERS, 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' }).send(index);
  });

  app.get(`${ASSET_PREFIX}:file`, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const body = assets.get(file);
    if (body === undefined) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found\n');
    return reply.code(200).headers({ ...HEADERS, 'content-type': TYPES[file]! }).send(body);
  });
}
