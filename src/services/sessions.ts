/**
 * Browser sessions: listed and revoked by administrators — all of them, or a local user's — and,
 * from the login door, the admin events of signing in, signing out and failing to sign in.
 *
 * A session is named by its handle: the SHA-256 of the cookie value, which is what the store keeps
 * and what the admin events `session.signIn` / `session.signOut` name as their target, so a revocation
 * can be matched with the sign-in it ends. The cookie value itself is never shown: a handle sent as a
 * cookie is hashed again and matches nothing.
 *
 * A local user's sessions are those of its principals (src/services/principals.ts
 * `userSessionOwners`), the same ones that end when it is disabled, demoted, re-passworded or deleted.
 * A principal that is no local user (an IdP's `<provider id>:<subject>`) has the same three
 * operations by its id (`gatehouse sessions ... --principal`).
 */
import { revokeSessionsOf, sessionHandle, type SessionInfo, type SessionRepository } from '../store/sessions.ts';
import { recordChange, type Actor, type ServiceDeps } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { IDENTITY } from '../identity/local-names.ts';
import { userSessionOwners } from './principals.ts';
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
  /** The live sessions of local user `name` (not found: no such user), and its principal ids. */
  async function ofUser(name: string): Promise<{ owners: string[]; sessions: SessionInfo[] }> {
    const user = await deps.store.findUserByName(name);
    if (!user) throw notFound(`user ${name}`);
    const owners = userSessionOwners(deps.providers, user);
    return { owners, sessions: (await deps.sessions.list()).filter((s) => owners.includes(s.principal.id)) };
  }
  /** The live sessions of principal `id` (an IdP identity `<provider id>:<subject>`, no local user needed). */
  async function ofPrincipal(id: string): Promise<{ owners: string[]; sessions: SessionInfo[] }> {
    if (!IDENTITY.test(id)) throw invalid('principal', 'an identity <provider id>:<subject>, as the audit log shows it');
    return { owners: [id], sessions: (await deps.sessions.list()).filter((s) => s.principal.id === id) };
  }
  /** Ends every session of `owners` (local user `target`, or a principal); one admin event lists the handles that were live. */
  async function endAll(actor: Actor, target: string, { owners, sessions }: { owners: string[]; sessions: SessionInfo[] }): Promise<{ revoked: number }> {
    const revoked = await revokeSessionsOf(deps.store.db, owners);
    await recordChange(deps, actor, { action: 'session.revoke', target: { kind: 'user', id: target }, changes: { sessions: { before: sessions.map((s) => s.handle).sort(), after: [] } } });
    return { revoked };
  }
  /** Ends a listed session (undefined: none to end) with its admin event. */
  async function end(actor: Actor, session: SessionInfo | undefined, what: string): Promise<void> {
    if (!session || !(await deps.sessions.revokeHandle(session.handle))) throw notFound(what);
    await recordChange(deps, actor, { action: 'session.revoke', target: { kind: 'session', id: session.handle }, changes: { principal: { before: session.principal.id, after: null } } });
  }
  return {
    async list(filter: { readonly user?: string | undefined; readonly principal?: string | undefined } = {}): Promise<SessionView[]> {
      return (await deps.sessions.list())
        .filter((s) => (filter.user === undefined || s.principal.name === filter.user) && (filter.principal === undefined || s.principal.id === filter.principal))
        .map(view);
    },

    /** Ends a session: the next request with its cookie is signed out. */
    async revoke(actor: Actor, handle: string): Promise<void> {
      await end(actor, (await deps.sessions.list()).find((s) => s.handle === handle), `session ${handle}`);
    },

    /** Local user `name`'s live browser sessions, newest first. */
    async listOfUser(name: string): Promise<SessionView[]> {
      return (await ofUser(name)).sessions.map(view);
    },

    /** Ends one of local user `name`'s sessions: not found unless the handle names a live one of its. */
    async revokeOfUser(actor: Actor, name: string, handle: string): Promise<void> {
      await end(actor, (await ofUser(name)).sessions.find((s) => s.handle === handle), `session ${handle} of user ${name}`);
    },

    /** Ends every session of local user `name`; one admin event lists the handles that were live. */
    async revokeAllOfUser(actor: Actor, name: string): Promise<{ revoked: number }> {
      return endAll(actor, name, await ofUser(name));
    },

    /**
     * The same three for a principal that is no local user (`corp:8f2c…`, `ldap:alice`): its live
     * sessions, newest first (none is not an error: the store cannot tell an unknown principal).
     */
    async listOfPrincipal(id: string): Promise<SessionView[]> {
      return (await ofPrincipal(id)).sessions.map(view);
    },
    async revokeOfPrincipal(actor: Actor, id: string, handle: string): Promise<void> {
      await end(actor, (await ofPrincipal(id)).sessions.find((s) => s.handle === handle), `session ${handle} of ${id}`);
    },
    async revokeAllOfPrincipal(actor: Actor, id: string): Promise<{ revoked: number }> {
      return endAll(actor, id, await ofPrincipal(id));
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
