/**
 * Browser sessions over the shared schema (table `sessions`, migration 0005_sessions).
 *
 * A session id is 256 random bits, handed to the browser once and stored only as its SHA-256,
 * so a copy of the store cannot be replayed as cookies. Two kinds of rows share the table:
 * `pending` (a login in progress: the form's CSRF token, the OIDC state, nonce and PKCE
 * verifier) and `user` (a logged-in principal). A pending id is never turned into a user id:
 * login deletes it and mints a fresh one (no session fixation, OWASP Session Management §
 * "Renew the Session ID After Any Privilege Level Change").
 *
 * User sessions end at the first of: the absolute timeout (from login), the idle timeout (from
 * the last request), logout, or revocation. Expired rows are deleted lazily.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Principal } from '../model/principal.ts';

export type SessionKind = 'pending' | 'user';

export interface Session<D> {
  readonly kind: SessionKind;
  readonly principal?: Principal;
  readonly data: D;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
}

export interface SessionTimeouts {
  /** A user session ends this long after its last request. */
  readonly idleMs: number;
  /** A user session ends this long after login, however active. */
  readonly absoluteMs: number;
  /** A pending login ends this long after the login page was shown. */
  readonly pendingMs: number;
}

export interface SessionRepository {
  /** Stores a new session and returns its id (the only time the id exists in clear). */
  create<D>(kind: SessionKind, data: D, principal?: Principal): Promise<string>;
  /** The live session of that kind with that id, or undefined; a user session's idle clock restarts. */
  get<D>(id: string, kind: SessionKind): Promise<Session<D> | undefined>;
  update<D>(id: string, data: D): Promise<void>;
  delete(id: string): Promise<void>;
  /** Ends every session of a principal (password change, account disabled). */
  revokePrincipal(principalId: string): Promise<number>;
  /** Live user sessions (admin API), newest first; `handle` is the id's hash, never the id itself. */
  list(): Promise<SessionInfo[]>;
  /** Ends the session with this handle (from `list`); false when there is none. */
  revokeHandle(handle: string): Promise<boolean>;
}

/** A user session as an administrator sees it: who and when, never the cookie value. */
export interface SessionInfo {
  /** The SHA-256 of the session id in hex (`sessionHandle`): names the session, cannot be replayed as a cookie. */
  readonly handle: string;
  readonly principal: Principal;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
}

/** Record last-seen at most this often: one write per request would be wasteful. */
const TOUCH_EVERY_MS = 5_000;

export const newSessionId = (): string => randomBytes(32).toString('base64url');
const hash = (id: string): string => createHash('sha256').update(id).digest('base64url');
/**
 * The handle of a session id: its SHA-256 in hex, what an administrator sees and admin events name.
 * It cannot be replayed as a cookie (a cookie is hashed again), and unlike the stored base64url form
 * it never starts with `-`, so a command line cannot read it as an option.
 */
export const sessionHandle = (id: string): string => createHash('sha256').update(id).digest('hex');
const handleOfHash = (idHash: string): string => Buffer.from(idHash, 'base64url').toString('hex');
const HANDLE = /^[0-9a-f]{64}$/;
/** Session ids are 43 base64url characters; anything else is not ours (no store round trip). */
const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

/** Ends every session of these principals (also inside a transaction: `db` may be one); returns how many. */
export async function revokeSessionsOf(db: Kysely<Database>, principalIds: readonly string[]): Promise<number> {
  if (principalIds.length === 0) return 0;
  const r = await db.deleteFrom('sessions').where('principal_id', 'in', principalIds).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export function createSessionRepository(db: Kysely<Database>, timeouts: SessionTimeouts, now: () => number): SessionRepository {
  let lastSweep = 0;
  async function sweep(t: number): Promise<void> {
    if (t - lastSweep < 60_000) return;
    lastSweep = t;
    await db.deleteFrom('sessions').where('expires_at', '<=', t).execute();
  }
  return {
    async create(kind, data, principal) {
      const t = now();
      await sweep(t);
      const id = newSessionId();
      await db
        .insertInto('sessions')
        .values({
          id_hash: hash(id),
          kind,
          principal_id: principal?.id ?? null,
          principal: principal ? JSON.stringify(principal) : null,
          data: JSON.stringify(data),
          created_at: t,
          last_seen_at: t,
          expires_at: t + (kind === 'user' ? timeouts.absoluteMs : timeouts.pendingMs),
        })
        .execute();
      return id;
    },
    async get(id, kind) {
      if (!WELL_FORMED.test(id)) return undefined;
      const row = await db.selectFrom('sessions').selectAll().where('id_hash', '=', hash(id)).executeTakeFirst();
      if (!row || row.kind !== kind) return undefined;
      const t = now();
      const expires = Number(row.expires_at);
      const lastSeen = Number(row.last_seen_at);
      if (t >= expires || (kind === 'user' && t - lastSeen >= timeouts.idleMs)) {
        await db.deleteFrom('sessions').where('id_hash', '=', row.id_hash).execute();
        return undefined;
      }
      if (kind === 'user' && t - lastSeen >= TOUCH_EVERY_MS) {
        await db.updateTable('sessions').set({ last_seen_at: t }).where('id_hash', '=', row.id_hash).execute();
      }
      return {
        kind,
        ...(row.principal !== null && { principal: JSON.parse(row.principal) as Principal }),
        data: JSON.parse(row.data),
        createdAt: Number(row.created_at),
        lastSeenAt: kind === 'user' && t - lastSeen >= TOUCH_EVERY_MS ? t : lastSeen,
        expiresAt: expires,
      };
    },
    async update(id, data) {
      await db.updateTable('sessions').set({ data: JSON.stringify(data) }).where('id_hash', '=', hash(id)).execute();
    },
    async delete(id) {
      await db.deleteFrom('sessions').where('id_hash', '=', hash(id)).execute();
    },
    async list() {
      const t = now();
      const rows = await db.selectFrom('sessions').selectAll().where('kind', '=', 'user').where('expires_at', '>', t).orderBy('created_at', 'desc').execute();
      return rows
        .filter((r) => r.principal !== null && t - Number(r.last_seen_at) < timeouts.idleMs)
        .map((r) => ({ handle: handleOfHash(r.id_hash), principal: JSON.parse(r.principal!) as Principal, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at) }));
    },
    async revokeHandle(handle) {
      if (!HANDLE.test(handle)) return false;
      const r = await db.deleteFrom('sessions').where('id_hash', '=', Buffer.from(handle, 'hex').toString('base64url')).where('kind', '=', 'user').executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    revokePrincipal: (principalId) => revokeSessionsOf(db, [principalId]),
  };
}
