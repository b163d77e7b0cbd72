/**
 * Browser sessions: listed and revoked by administrators, and — from the login door — the admin
 * events of signing in, signing out and failing to sign in. A session is named by its handle (the
 * SHA-256 the store keeps), never by the cookie value.
 */
import { sessionHandle, type SessionInfo, type SessionRepository } from '../store/sessions.ts';
import { recordChange, type Actor, type ServiceDeps } from './context.ts';
import { notFound } from './errors.ts';
import type { Principal } from '../model/principal.ts';

export interface SessionView {
  readonly handle: string;
  readonly principal: { readonly id: string; readonly name: string; readonly kind: string; readonly provider: string };
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const view = (s: SessionInfo): SessionView => ({
  handle: s.handle,
  principal: { id: s.principal.id, name: s.principal.name, kind: s.principal.kind, provider: s.principal.provider },
  createdAt: iso(s.createdAt),
  lastSeenAt: iso(s.lastSeenAt),
  expiresAt: iso(s.expiresAt),
});

/** Where a sign-in attempt came from (the login door's request). */
export type LoginRequest = Pick<Actor, 'requestId' | 'client'>;

export function sessionsService(deps: ServiceDeps & { readonly sessions: Pick<SessionRepository, 'list' | 'revokeHandle'> }) {
  const login = (principal: Principal, http: LoginRequest): Actor => ({ id: principal.id, door: 'login', principal, ...http });
  return {
    async list(filter: { readonly user?: string | undefined; readonly principal?: string | undefined } = {}): Promise<SessionView[]> {
      return (await deps.sessions.list())
        .filter((s) => (filter.user === undefined || s.principal.name === filter.user) && (filter.principal === undefined || s.principal.id === filter.principal))
        .map(view);
    },

    /** Ends a session: the next request with its cookie is signed out. */
    async revoke(actor: Actor, handle: string): Promise<void> {
      const session = (await deps.sessions.list()).find((s) => s.handle === handle);
      if (!session || !(await deps.sessions.revokeHandle(handle))) throw notFound(`session ${handle}`);
      await recordChange(deps, actor, { action: 'session.revoke', target: { kind: 'session', id: handle }, changes: { principal: { before: session.principal.id, after: null } } });
    },

    /** A browser session began (password form or OIDC). */
    signedIn(principal: Principal, sessionId: string, http: LoginRequest): Promise<void> {
      return recordChange(deps, login(principal, http), {
        action: 'session.signIn',
        target: { kind: 'session', id: sessionHandle(sessionId) },
        changes: { principal: { before: null, after: principal.id } },
      });
    },

    /** A browser session ended by its owner. */
    signedOut(principal: Principal, sessionId: string, http: LoginRequest): Promise<void> {
      return recordChange(deps, login(principal, http), {
        action: 'session.signOut',
        target: { kind: 'session', id: sessionHandle(sessionId) },
        changes: { principal: { before: principal.id, after: null } },
      });
    },

    /** The identity provider ended a principal's sessions (SAML single logout it started): how many ended. */
    signedOutByIdp(principalId: string, provider: string, ended: number, http: LoginRequest): Promise<void> {
      return recordChange(deps, { id: provider, door: 'login', ...http }, {
        action: 'session.signOut',
        target: { kind: 'user', id: principalId },
        changes: { sessions: { before: ended, after: 0 } },
      });
    },

    /** A sign-in was refused: the name typed (never the password), the provider that refused and why. */
    signInFailed(attempt: { readonly username: string; readonly provider: string | undefined; readonly reason: string }, http: LoginRequest): Promise<void> {
      return recordChange(deps, { id: 'anonymous', door: 'login', ...http }, {
        action: 'session.signInFailed',
        target: { kind: 'user', id: attempt.username },
        changes: {},
        outcome: 'denied',
        reason: attempt.provider === undefined ? attempt.reason : `${attempt.provider}: ${attempt.reason}`,
      });
    },
  };
}

export type SessionsService = ReturnType<typeof sessionsService>;
