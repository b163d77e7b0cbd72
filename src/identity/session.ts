/**
 * Browser sessions as an identity provider: the `gatehouse_session` cookie set by the login
 * page (src/web/login.ts) names a server-side session holding the principal that logged in.
 * Built in (appended after `auth.providers` by the composition root), so explicit credentials
 * (Basic, bearer) win when a request carries both.
 *
 * No cookie, or an unknown, expired or revoked session: "not mine" without a reason, so
 * browser navigation is sent back to the login page. A state-changing request riding on the
 * cookie must carry a same-origin `Origin` or `Referer` (CSRF, src/web/origin.ts); one that
 * does not is refused ("invalid", reason `session-no-origin`). Foreign origins were already
 * refused by the check-origin stage.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import type { SessionRepository } from '../store/sessions.ts';
import { readCookie, SESSION_COOKIE } from '../web/cookies.ts';
import { SAFE_METHODS, sameOriginCheck } from '../web/origin.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { asLocalName } from './local-names.ts';

export const SESSION_PROVIDER_ID = 'session';
/** The `method` of a principal whose request rode on the session cookie (the console's calls). */
export const SESSION_PROVIDER_METHOD = 'session';

export interface SessionProviderOptions {
  readonly sessions: SessionRepository;
  readonly publicOrigins: readonly string[];
  readonly log: Logger;
  /**
   * Ids of the local providers (`local`, `token`): a session they opened before principals had a
   * `localName` gets the local name back from its user name, so an upgrade keeps it working.
   */
  readonly localProviders?: readonly string[];
}

export function sessionProvider(options: SessionProviderOptions): IdentityProvider {
  const { sessions, log } = options;
  const sameOrigin = sameOriginCheck(options.publicOrigins);
  return {
    id: SESSION_PROVIDER_ID,
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (id === undefined) return { kind: 'not-mine' };
      let session;
      try {
        session = await sessions.get(id, 'user');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'session store unavailable: request denied');
        return { kind: 'unavailable', reason: 'session-store-unavailable' };
      }
      if (!session?.principal) return { kind: 'not-mine' };
      if (!SAFE_METHODS.has(req.method ?? '') && !sameOrigin(req)) return { kind: 'invalid', reason: 'session-no-origin' };
      // The id and provider stay those of the login (bindings and audit name the same person);
      // the method says this request rode on the session.
      const p = session.principal;
      const legacy = p.localName === undefined && options.localProviders?.includes(p.provider) ? asLocalName(p.name) : undefined;
      return { kind: 'principal', principal: { ...p, ...(legacy !== undefined && { localName: legacy }), method: SESSION_PROVIDER_METHOD } };
    },
  };
}
