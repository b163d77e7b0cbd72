/**
 * SAML sign-in for the login page's buttons (the SP is src/identity/saml.ts):
 *
 *   GET  /_gatehouse/saml/start/:id       a pending login (request id, relay state) and 302 to the IdP
 *   POST /_gatehouse/saml/acs/:id         the IdP's Response (HTTP-POST binding)
 *   GET  /_gatehouse/saml/slo/:id         single logout (HTTP-Redirect): the IdP's LogoutRequest, or its
 *                                         LogoutResponse to ours (sign-out itself is POST /_gatehouse/logout)
 *   GET  /_gatehouse/saml/metadata/:id    this SP's metadata for the IdP
 *
 * The pending login is bound to the browser by its own cookie (`gatehouse_saml`) and to the
 * provider that started it: a response is accepted only at that provider's endpoint, with the
 * relay state and `InResponseTo` of that login, once (login CSRF and IdP mix-up defence). A
 * refusal shows the login page and is an admin event `session.signInFailed` with the reason id.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { callerError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { SessionRepository } from '../store/sessions.ts';
import { samlServiceProvider, type SamlDeps, type SamlServiceProvider } from '../identity/saml.ts';
import type { SamlIdpConfig } from '../identity/saml-config.ts';
import { SAML_REASONS } from '../identity/saml-reasons.ts';
import { readCookie, SAML_COOKIE, SAML_COOKIE_PATH, serializeCookie, SESSION_COOKIE } from './cookies.ts';
import { LOGIN_PATH, safeNext } from './next.ts';
import type { LoginKit, PendingData, SamlFlow } from './login-kit.ts';

/** What a pending SAML login remembers between the redirect to the IdP and the response. */
const token = (): string => randomBytes(32).toString('base64url');
/** An xsd:ID (NCName) for the AuthnRequest: `_` and 40 hex digits. */
const requestId = (): string => `_${randomBytes(20).toString('hex')}`;

export function samlProviders(configs: readonly SamlIdpConfig[], deps: SamlDeps): Map<string, SamlServiceProvider> {
  return new Map(configs.map((c) => [c.id, samlServiceProvider(c, deps)]));
}

export function registerSamlLogin(
  app: FastifyInstance,
  deps: { readonly sessions: SessionRepository; readonly log: Logger; readonly sps: ReadonlyMap<string, SamlServiceProvider> },
  kit: LoginKit,
): void {
  const { sessions, log, sps } = deps;
  if (sps.size === 0) return;
  const samlCookie = (req: Parameters<LoginKit['secure']>[0], id: string, maxAge?: number) =>
    serializeCookie(SAML_COOKIE, id, { path: SAML_COOKIE_PATH, secure: kit.secure(req), sameSite: 'None', ...(maxAge !== undefined && { maxAge }) });
  // Base64 of the largest response accepted, plus the relay state.
  const bodyLimit = Math.ceil((Math.max(...[...sps.values()].map((s) => s.maxResponseBytes)) * 4) / 3) + 16 * 1024;

  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
      const form: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) if (!Object.hasOwn(form, k)) form[k] = v;
      done(null, form);
    });

    scope.get('/_gatehouse/saml/metadata/:id', async (req, reply) => {
      const sp = sps.get((req.params as { id: string }).id);
      if (!sp) return reply.code(404).type('text/plain').send('unknown SAML provider');
      return reply.type('application/samlmetadata+xml').header('cache-control', 'no-store').send(sp.metadata());
    });

    scope.get('/_gatehouse/saml/start/:id', async (req, reply) => {
      const sp = sps.get((req.params as { id: string }).id);
      const next = safeNext((req.query as Record<string, unknown>).next);
      if (!sp) return kit.showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_UNKNOWN_PROVIDER'));
      const flow: SamlFlow = { provider: sp.id, requestId: requestId(), relayState: token() };
      const url = await sp.start(flow.requestId, flow.relayState);
      const old = readCookie(req.headers.cookie, SAML_COOKIE);
      if (old !== undefined) await sessions.delete(old);
      const id = await sessions.create<PendingData>('pending', { csrf: token(), next, saml: flow });
      return reply.code(302).header('location', url).header('cache-control', 'no-store').header('set-cookie', samlCookie(req.raw, id)).send();
    });

    scope.post('/_gatehouse/saml/acs/:id', async (req, reply) => {
      const sp = sps.get((req.params as { id: string }).id);
      const form = (req.body ?? {}) as Record<string, string | undefined>;
      const pendingId = readCookie(req.headers.cookie, SAML_COOKIE);
      const pending = pendingId === undefined ? undefined : await sessions.get<PendingData>(pendingId, 'pending');
      // One use only: whatever happens next, this login cannot be completed twice.
      if (pendingId !== undefined) await sessions.delete(pendingId);
      const next = pending?.data.next ?? '/';
      const clear = samlCookie(req.raw, '', 0);
      if (!sp) return kit.showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_UNKNOWN_PROVIDER'));
      const flow = pending?.data.saml;
      const refuse = async (reason: keyof typeof SAML_REASONS, detail?: string) => {
        log.info({ provider: sp.id, reason, detail }, 'SAML sign-in refused');
        await kit.failed(req, reply, '', sp.id, reason);
        reply.header('set-cookie', clear);
        return kit.showLogin(req, reply, next, callerError('GATEHOUSE_LOGIN_FAILED', `Sign-in with ${sp.label} failed. Please try again.`));
      };
      if (typeof form.SAMLResponse !== 'string') return refuse('malformed');
      // A login started with another provider is not this one's to finish (mix-up defence).
      if (flow !== undefined && flow.provider !== sp.id) return refuse('no-pending-login', `started with ${flow.provider}`);
      if (flow !== undefined && form.RelayState !== flow.relayState) return refuse('relay-state-mismatch');
      const outcome = await sp.finish(form.SAMLResponse, flow?.requestId);
      if (outcome.kind === 'refused') return refuse(outcome.reason, outcome.detail);
      return kit.signIn(req, reply, outcome.principal, next, { saml: outcome.session }, [clear]);
    });

    scope.get('/_gatehouse/saml/slo/:id', async (req, reply) => {
      const sp = sps.get((req.params as { id: string }).id);
      if (!sp) return reply.code(404).type('text/plain').send('unknown SAML provider');
      const rawQuery = (req.raw.url ?? '').split('?')[1] ?? '';
      const query = Object.fromEntries(new URLSearchParams(rawQuery));
      const message = await sp.logoutMessage(query, rawQuery);
      const signedOut = serializeCookie(SESSION_COOKIE, '', { path: '/', secure: kit.secure(req.raw), maxAge: 0 });
      if (message.kind === 'refused') {
        log.warn({ provider: sp.id, reason: message.reason, detail: message.detail }, 'SAML logout message refused');
        return reply.code(400).type('text/plain').send(`SAML logout refused: ${message.reason}`);
      }
      if (message.kind === 'response') return reply.code(303).header('location', LOGIN_PATH).header('set-cookie', signedOut).send();
      // IdP-initiated: every gateway session of that principal ends, here and on every replica (the store).
      const ended = await sessions.revokePrincipal(message.principalId);
      log.info({ provider: sp.id, principal: message.principalId, ended }, 'SAML single logout from the IdP');
      await kit.signedOutByIdp(message.principalId, sp.id, ended, kit.attempt(req, reply));
      return reply.code(302).header('location', await message.respond(query.RelayState ?? '')).header('set-cookie', signedOut).send();
    });
  });
}
