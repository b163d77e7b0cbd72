/**
 * The login page and browser sessions for the MLflow UI, served under `/_gatehouse/` (never
 * forwarded to MLflow):
 *
 *   GET  /_gatehouse/login?next=/path     the page: password form + one button per OIDC IdP
 *   POST /_gatehouse/login                username/password against the Basic providers
 *   GET  /_gatehouse/oidc/start/:id       to the IdP (authorization code + PKCE + state + nonce)
 *   GET  /_gatehouse/oidc/callback/:id    back from the IdP
 *   GET  /_gatehouse/saml/start/:id       to a SAML IdP; POST .../saml/acs/:id back (src/web/saml-login.ts)
 *   GET  /_gatehouse/logout               a confirmation form (logout is a POST)
 *   POST /_gatehouse/logout               ends the session, and the IdP's where it can
 *
 * A login in progress is a `pending` session (cookie `gatehouse_login`) holding the form's CSRF
 * token, where to go next and the OIDC state; success deletes it and mints a fresh `user`
 * session (cookie `gatehouse_session`): a pre-login id is never promoted (no fixation).
 *
 * Every sign-in, sign-out and refused sign-in is an admin audit event (door `login`,
 * src/services/sessions.ts): who, which session (its handle), from where, and for a refusal the
 * name typed and the reason — never the password.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthResult, IdentityProvider } from '../identity/principal.ts';
import { passwordVerifier } from '../identity/authenticate.ts';
import type { Logger } from '../lib/logger.ts';
import type { SessionRepository } from '../store/sessions.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import type { LoginRequest, SessionsService } from '../services/sessions.ts';
import type { BrowserConfig } from './config.ts';
import { isTls, LOGIN_COOKIE, LOGIN_COOKIE_PATH, readCookie, serializeCookie, SESSION_COOKIE } from './cookies.ts';
import { LOGIN_PATH, safeNext, withFragment } from './next.ts';
import { oidcLogin, type OidcFlow, type OidcLogin } from './oidc-login.ts';
import { registerSamlLogin, samlProviders } from './saml-login.ts';
import type { LoginKit, PendingData, UserData } from './login-kit.ts';
import { sameOriginCheck } from './origin.ts';
import { loginPage, logoutPage, pageHeaders } from './pages.ts';
import { callerError, ERRORS, type GatehouseError } from '../errors.ts';
import { sendHtmlError } from '../http/error-response.ts';
import type { Principal } from '../model/principal.ts';

export interface LoginDeps {
  readonly browser: BrowserConfig;
  /** `server.publicOrigins`: origins besides the request's own Host that may post forms. */
  readonly publicOrigins: readonly string[];
  readonly providers: readonly IdentityProvider[];
  readonly sessions: SessionRepository;
  readonly log: Logger;
  /** Brute-force lockouts shared with HTTP Basic (src/ratelimit/limits.ts); absent when rate limits are off. */
  readonly rateLimits?: RateLimits | undefined;
  /** Records sign-ins, sign-outs and refused sign-ins (admin audit events). */
  readonly audit: Pick<SessionsService, 'signedIn' | 'signedOut' | 'signInFailed' | 'signedOutByIdp'>;
  /** The gateway's clock (SAML conditions, the replay cache). */
  readonly now: () => number;
  /** SAML assertion ids already used (src/store/saml-replay.ts). */
  readonly firstUse: (assertionId: string, expiresAt: number) => Promise<boolean>;
  /** The link rule (src/identity/link.ts): an IdP sign-in it refuses opens no session. */
  readonly link: (result: AuthResult) => Promise<AuthResult>;
}

const token = (): string => randomBytes(32).toString('base64url');
const sameToken = (a: unknown, b: string): boolean =>
  typeof a === 'string' && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const MAX_FORM_BYTES = 16 * 1024;

export function registerLogin(app: FastifyInstance, deps: LoginDeps): void {
  const { browser, sessions, log } = deps;
  const passwords = passwordVerifier(deps.providers);
  const idps = new Map<string, OidcLogin>(browser.oidc.map((c) => [c.id, oidcLogin(c, log)]));
  const buttons = [...idps.values()].map((i) => ({ id: i.id, label: i.label }));
  const sps = samlProviders(browser.saml, { now: deps.now, firstUse: deps.firstUse });
  const samlButtons = [...sps.values()].map((i) => ({ id: i.id, label: i.label }));
  const sameOrigin = sameOriginCheck(deps.publicOrigins);

  const secure = (req: IncomingMessage) => browser.secureCookies || isTls(req);
  const sessionCookie = (req: IncomingMessage, id: string, maxAge = browser.absoluteTimeoutSeconds) =>
    serializeCookie(SESSION_COOKIE, id, { path: '/', secure: secure(req), maxAge });
  const loginCookie = (req: IncomingMessage, id: string, maxAge = browser.loginTimeoutSeconds) =>
    serializeCookie(LOGIN_COOKIE, id, { path: LOGIN_COOKIE_PATH, secure: secure(req), maxAge });
  const origin = (req: IncomingMessage) => `${isTls(req) ? 'https' : 'http'}://${req.headers.host}`;
  /** The request as the admin event records it (a fresh request id, echoed as X-Request-ID). */
  const attempt = (req: FastifyRequest, reply: FastifyReply): LoginRequest => {
    const requestId = randomUUID();
    reply.header('x-request-id', requestId);
    return { requestId, client: { address: req.raw.socket.remoteAddress ?? '', userAgent: req.headers['user-agent'] } };
  };
  const failed = (req: FastifyRequest, reply: FastifyReply, username: string, provider: string | undefined, reason: string) =>
    deps.audit.signInFailed({ username: username.slice(0, 256), provider, reason }, attempt(req, reply));

  function html(reply: FastifyReply, status: number, body: string, cookies: string[] = [], formActions: string[] = []): FastifyReply {
    reply.code(status).headers(pageHeaders(formActions));
    if (cookies.length > 0) reply.header('set-cookie', cookies);
    return reply.send(body);
  }

  /** Shows the login page with a fresh pending login (the previous one, if any, is dropped), with the refusal's message if any. */
  async function showLogin(req: FastifyRequest, reply: FastifyReply, next: string, refusal?: GatehouseError, username?: string) {
    const old = readCookie(req.headers.cookie, LOGIN_COOKIE);
    if (old !== undefined) await sessions.delete(old);
    const csrf = token();
    const id = await sessions.create<PendingData>('pending', { csrf, next });
    const page = (error?: string) => loginPage({ csrf, next, passwordForm: passwords.enabled, oidc: buttons, saml: samlButtons, error, username });
    if (refusal === undefined) return html(reply, 200, page(), [loginCookie(req.raw, id)]);
    reply.header('set-cookie', [loginCookie(req.raw, id)]);
    return sendHtmlError(reply, refusal, page, pageHeaders());
  }

  /** Ends the pending login and starts the user session under a new id. */
  async function signIn(req: FastifyRequest, reply: FastifyReply, principal: Principal, next: string, data: Omit<UserData, 'csrf'> = {}, extraCookies: string[] = []) {
    // A disabled linked user, or an unprovisioned sign-in (scim.requireProvisioned), would open a
    // session every request then refuses: refuse the sign-in itself, audited with the reason.
    const linked = await deps.link({ kind: 'principal', principal });
    if (linked.kind !== 'principal') {
      await failed(req, reply, principal.name, principal.provider, linked.kind === 'not-mine' ? 'not-mine' : linked.reason);
      return showLogin(req, reply, next, callerError(linked.kind === 'unavailable' ? 'GATEHOUSE_LOGIN_UNAVAILABLE' : 'GATEHOUSE_LOGIN_NOT_ALLOWED', ERRORS.GATEHOUSE_LOGIN_NOT_ALLOWED.message));
    }
    const pending = readCookie(req.headers.cookie, LOGIN_COOKIE);
    if (pending !== undefined) await sessions.delete(pending);
    const previous = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (previous !== undefined) await sessions.delete(previous);
    const id = await sessions.create<UserData>('user', { csrf: token(), ...data }, principal);
    log.info({ principal: principal.id, provider: principal.provider, method: principal.method }, 'browser login');
    await deps.audit.signedIn(principal, id, attempt(req, reply));
    reply.code(303).header('location', next).header('cache-control', 'no-store');
    reply.header('set-cookie', [sessionCookie(req.raw, id), loginCookie(req.raw, '', 0), ...extraCookies]);
    return reply.send();
  }

  registerSamlLogin(app, { sessions, log, sps }, { showLogin, signIn, failed, attempt, secure, sessionCookie, signedOutByIdp: deps.audit.signedOutByIdp });

  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_req, body, done) => {
      const form: Record<string, string> = {};
      // The first value of a repeated field counts, as in every other reader of this form.
      for (const [k, v] of new URLSearchParams(body as string)) if (!Object.hasOwn(form, k)) form[k] = v;
      done(null, form);
    });

    scope.get(LOGIN_PATH, async (req, reply) => {
      const next = safeNext((req.query as Record<string, unknown>).next);
      const current = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (current !== undefined && (await sessions.get(current, 'user'))) return reply.code(303).header('location', next).send();
      return showLogin(req, reply, next);
    });

    scope.post(LOGIN_PATH, async (req, reply) => {
      const form = (req.body ?? {}) as Record<string, string | undefined>;
      const pendingId = readCookie(req.headers.cookie, LOGIN_COOKIE);
      const pending = pendingId === undefined ? undefined : await sessions.get<PendingData>(pendingId, 'pending');
      if (!sameOrigin(req.raw) || !pending || !sameToken(form.csrf, pending.data.csrf)) {
        return showLogin(req, reply, safeNext(form.next), callerError('GATEHOUSE_LOGIN_FORM_EXPIRED'));
      }
      const { username = '', password = '' } = form;
      const next = withFragment(pending.data.next, form.fragment);
      if (!passwords.enabled) return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_PASSWORD_DISABLED'));
      // Locked out (too many failures from this address or for this name): refused before any password check.
      const peer = req.raw.socket.remoteAddress ?? '';
      const name = username === '' ? undefined : username.slice(0, 256);
      const locked = await deps.rateLimits?.lockedOut(peer, name);
      if (locked) {
        await failed(req, reply, username, undefined, 'locked-out');
        reply.headers(deps.rateLimits!.rejection(locked.kind, 'failed-auth', locked.retryAfterMs).headers ?? {});
        return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_RATE_LIMITED'), name);
      }
      const bad = async (provider: string | undefined, reason: string) => {
        await deps.rateLimits?.failed(peer, name);
        await failed(req, reply, username, provider, reason);
        return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_INVALID_CREDENTIALS'), name);
      };
      if (username === '' || password === '' || username.length > 256 || password.length > 1024 || username.includes(':')) return bad(undefined, 'malformed');
      const verdict = await passwords.verify(username, password, req.raw);
      if (verdict.kind === 'principal') return signIn(req, reply, verdict.principal, next);
      log.info({ provider: verdict.provider, reason: verdict.reason, verdict: verdict.kind }, 'browser login refused');
      if (verdict.kind === 'unavailable') {
        await failed(req, reply, username, verdict.provider, verdict.reason);
        return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_UNAVAILABLE', 'The directory could not be reached. Please try again shortly.'), username);
      }
      return bad(verdict.provider, verdict.reason);
    });

    scope.get('/_gatehouse/oidc/start/:id', async (req, reply) => {
      const idp = idps.get((req.params as { id: string }).id);
      const next = safeNext((req.query as Record<string, unknown>).next);
      if (!idp) return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_UNKNOWN_PROVIDER'));
      const configured = browser.oidc.find((c) => c.id === idp.id)!.redirectUri;
      let started;
      try {
        started = await idp.start(configured ?? `${origin(req.raw)}/_gatehouse/oidc/callback/${idp.id}`);
      } catch (err) {
        log.warn({ provider: idp.id, err: (err as Error).message }, 'OIDC discovery failed');
        return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_UNAVAILABLE', `${idp.label} could not be reached. Please try again shortly.`));
      }
      const old = readCookie(req.headers.cookie, LOGIN_COOKIE);
      if (old !== undefined) await sessions.delete(old);
      const id = await sessions.create<PendingData>('pending', { csrf: token(), next, oidc: started.flow });
      reply.code(302).header('location', started.url).header('cache-control', 'no-store').header('set-cookie', loginCookie(req.raw, id));
      return reply.send();
    });

    scope.get('/_gatehouse/oidc/callback/:id', async (req, reply) => {
      const idp = idps.get((req.params as { id: string }).id);
      const pendingId = readCookie(req.headers.cookie, LOGIN_COOKIE);
      const pending = pendingId === undefined ? undefined : await sessions.get<PendingData>(pendingId, 'pending');
      // One use only: whatever happens next, this state cannot be replayed.
      if (pendingId !== undefined) await sessions.delete(pendingId);
      const next = pending?.data.next ?? '/';
      // The pending login binds the flow to the provider that started it: a response brought to
      // another provider's callback (an IdP mix-up) is refused before any code is exchanged.
      const flow = pending?.data.oidc;
      if (!idp || !flow || flow.provider !== idp.id) {
        if (idp) await failed(req, reply, '', idp.id, flow ? 'provider-mismatch' : 'no-pending-login');
        return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_ATTEMPT_EXPIRED'));
      }
      const query = (req.raw.url ?? '').split('?')[1] ?? '';
      try {
        const result = await idp.finish(flow, query);
        if (!result) {
          await failed(req, reply, '', idp.id, 'no-user');
          return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_FAILED', `${idp.label} did not identify a user.`));
        }
        return signIn(req, reply, result.principal, next, { oidc: idp.id, ...(result.idToken !== undefined && { idToken: result.idToken }) });
      } catch (err) {
        const e = err as { name?: string; code?: string; error?: string };
        log.info({ provider: idp.id, err: e.name, code: e.code, error: e.error }, 'OIDC login failed');
        await failed(req, reply, '', idp.id, String(e.error ?? e.code ?? e.name ?? 'failed'));
        return showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_FAILED', `Sign-in with ${idp.label} failed. Please try again.`));
      }
    });

    scope.get('/_gatehouse/logout', async (req, reply) => {
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      const session = id === undefined ? undefined : await sessions.get<UserData>(id, 'user');
      if (!session?.principal) return reply.code(303).header('location', LOGIN_PATH).send();
      const idp = session.data.oidc === undefined ? undefined : idps.get(session.data.oidc);
      const endSession = idp && (await idp.endSessionUrl(undefined, `${origin(req.raw)}${LOGIN_PATH}`).catch(() => undefined));
      const samlSlo = session.data.saml && sps.get(session.data.saml.provider)?.idp.sloUrl;
      const leaving = [endSession, samlSlo].flatMap((u) => (u ? [new URL(u).origin] : []));
      return html(reply, 200, logoutPage({ csrf: session.data.csrf, name: session.principal.name }), [], leaving);
    });

    scope.post('/_gatehouse/logout', async (req, reply) => {
      const form = (req.body ?? {}) as Record<string, string | undefined>;
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      const session = id === undefined ? undefined : await sessions.get<UserData>(id, 'user');
      let location = LOGIN_PATH;
      if (session) {
        if (!sameOrigin(req.raw) || !sameToken(form.csrf, session.data.csrf)) {
          return html(reply, 403, logoutPage({ csrf: session.data.csrf, name: session.principal?.name ?? '' }));
        }
        await sessions.delete(id!);
        log.info({ principal: session.principal?.id }, 'browser logout');
        if (session.principal) await deps.audit.signedOut(session.principal, id!, attempt(req, reply));
        const idp = session.data.oidc === undefined ? undefined : idps.get(session.data.oidc);
        if (idp) {
          location = (await idp.endSessionUrl(session.data.idToken, `${origin(req.raw)}${LOGIN_PATH}`).catch((err: Error) => {
              log.warn({ provider: idp.id, err: err.message }, 'IdP logout URL unavailable: local logout only');
              return undefined;
            })) ?? LOGIN_PATH;
        }
        const sp = session.data.saml && sps.get(session.data.saml.provider);
        if (sp) {
          // SP-initiated single logout: the IdP ends its session and sends a LogoutResponse to our SLO endpoint.
          location = (await sp.logoutUrl(session.data.saml!, token()).catch((err: Error) => {
              log.warn({ provider: sp.id, err: err.message }, 'SAML logout request failed: local logout only');
              return undefined;
            })) ?? LOGIN_PATH;
        }
      }
      reply.code(303).header('location', location).header('cache-control', 'no-store').header('set-cookie', sessionCookie(req.raw, '', 0));
      return reply.send();
    });
  });
}
