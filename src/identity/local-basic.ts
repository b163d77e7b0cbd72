/**
 * Local users over HTTP Basic (`MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD` in the
 * MLflow client). A scrypt check costs tens of milliseconds, so successful checks are
 * remembered for `cacheTtlMs`, keyed by an HMAC of the credentials under a per-process key:
 * the cache never holds a password or anything that could be tested offline.
 *
 * A remembered check does not outlive a change to its user on any replica: this process
 * forgets the user at once (`forgetUser`, also called on Redis change notifications), and once
 * the store's users version moves (polled every second, src/identity/users-version.ts) each
 * remembered check is confirmed against the user's row — one indexed read, no scrypt — before it
 * is used again: a disabled, deleted or re-passworded user is refused at its next request. While
 * the store cannot be read, remembered checks stay usable until they expire.
 */
import { createHash, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { NO_METRICS, type CacheMetrics } from '../metrics/definitions.ts';
import type { Store, User } from '../store/store.ts';
import { watchUsersVersion } from './users-version.ts';
import { verifyPassword, hashPassword, needsRehash } from './password.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { readBasicCredentials, withBasicCredentials } from './basic-request.ts';
import { looksLikeToken } from './token-format.ts';
import { asLocalName } from './local-names.ts';
import type { Principal } from '../model/principal.ts';

export const localBasicSchema = z
  .strictObject({
    type: z.literal('local'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('local').describe('Provider id, used in principal ids, audit and metrics.'),
    scrypt: z
      .strictObject({
        cost: z.number().int().min(1024).default(32768).describe('scrypt N (CPU/memory cost, a power of two).'),
        blockSize: z.number().int().min(1).default(8).describe('scrypt r.'),
        parallelization: z.number().int().min(1).default(1).describe('scrypt p.'),
      })
      .prefault({})
      .describe('Password hashing parameters for new hashes. Existing hashes keep the parameters they were made with.'),
    cacheTtlMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe('How long a successful password check is remembered, keyed by an HMAC of the credentials (never the password) (milliseconds).'),
  })
  .describe("Local users with HTTP Basic authentication (the MLflow client's MLFLOW_TRACKING_USERNAME/PASSWORD).");

export type LocalBasicConfig = z.infer<typeof localBasicSchema>;

export interface LocalBasicOptions {
  readonly config: LocalBasicConfig;
  readonly store: Store;
  readonly realm: string;
  readonly now?: () => number;
  /** Cache lookups (`local-password`); default: not counted. */
  readonly metrics?: CacheMetrics;
  /** How often the store's users version is polled (milliseconds); default 1000. */
  readonly usersPollMs?: number;
}

const MAX_CACHE = 10_000;

interface Remembered {
  principal: Principal;
  readonly expires: number;
  /** The user row's id and password hash, digested: a deleted-and-recreated or re-passworded user differs. */
  readonly stamp: string;
  /** The users version this check was last confirmed at. */
  version: number | undefined;
}

const stampOf = (user: User) => createHash('sha256').update(user.id).update('\0').update(user.passwordHash ?? '').digest('base64url');

export function localBasicProvider(options: LocalBasicOptions): IdentityProvider {
  const { config, store } = options;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? NO_METRICS;
  // A KeyObject, made once: a raw Buffer key is re-imported on every createHmac (≈ 13 µs against 2 µs).
  const cacheKey = createSecretKey(randomBytes(32));
  const cache = new Map<string, Remembered>();
  const users = watchUsersVersion(store, options.usersPollMs ?? 1000);
  // Unknown users cost the same as known ones: no user-existence oracle through timing.
  const dummyHash = hashPassword(randomBytes(16).toString('hex'), config.scrypt);

  /** A remembered check from before the users version moved: still the same enabled user with the same password? */
  async function confirm(key: string, hit: Remembered, username: string, version: number | undefined): Promise<Principal | undefined> {
    let user: User | undefined;
    try {
      user = await store.findUserByName(username);
    } catch {
      return hit.principal; // the store is down: remembered checks stay usable until they expire
    }
    if (!user || user.disabled || stampOf(user) !== hit.stamp) {
      cache.delete(key);
      return undefined;
    }
    if (user.admin !== hit.principal.admin) hit.principal = { ...hit.principal, admin: user.admin };
    hit.version = version;
    return hit.principal;
  }

  return {
    id: config.id,
    challenge: `Basic realm="${options.realm}", charset="UTF-8"`,
    forgetUser(username: string) {
      for (const [key, entry] of cache) if (entry.principal.name === username) cache.delete(key);
    },
    // The login page's form: the same check as a Basic header (basic-request.ts).
    verifyPassword(username: string, password: string, req: IncomingMessage): Promise<AuthResult> {
      return this.authenticate(withBasicCredentials(req, username, password));
    },
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const basic = readBasicCredentials(req, looksLikeToken);
      if (basic.kind === 'not-basic') return { kind: 'not-mine' };
      if (basic.kind === 'malformed') return { kind: 'invalid', reason: 'malformed-basic' };
      const { username, password } = basic;
      const key = createHmac('sha256', cacheKey).update(username).update('\0').update(password).digest('base64url');
      const hit = cache.get(key);
      const fresh = hit !== undefined && hit.expires > now();
      if (config.cacheTtlMs > 0) metrics.lookup('local-password', fresh);
      // Read before the user row: a change after this point moves the version past what is remembered.
      const version = users.current();
      if (fresh) {
        const principal = hit.version === version ? hit.principal : await confirm(key, hit, username, version);
        if (principal) return { kind: 'principal', principal };
      }
      let user: User | undefined;
      try {
        user = await store.findUserByName(username);
      } catch {
        // The store is down: fail closed (503), never fall through to another provider.
        return { kind: 'unavailable', reason: 'store-unavailable' };
      }
      if (!user || user.passwordHash === null) {
        await verifyPassword(password, await dummyHash);
        // Not mine: a later Basic provider (LDAP) may know this user. If none does, the
        // authenticate stage answers 401 invalid with this reason. A user the store knows is
        // owned here: a wrong password ends the request and is never tried elsewhere.
        return { kind: 'not-mine', reason: 'unknown-user' };
      }
      if (!(await verifyPassword(password, user.passwordHash))) return { kind: 'invalid', reason: 'bad-password' };
      if (user.disabled) return { kind: 'invalid', reason: 'user-disabled' };
      if (user.passwordExpiresAt !== null && now() >= user.passwordExpiresAt) return { kind: 'invalid', reason: 'password-expired' };
      // An imported MLflow (werkzeug) hash is replaced by Gatehouse's own on the first good login.
      if (needsRehash(user.passwordHash)) {
        await hashPassword(password, config.scrypt)
          .then((h) => store.setPassword(user.username, h, user.passwordExpiresAt))
          .catch(() => {});
      }
      const local = asLocalName(user.username);
      const principal: Principal = {
        id: `${config.id}:${user.username}`,
        kind: 'user',
        name: user.username,
        ...(local !== undefined && { localName: local }),
        groups: [],
        tenants: [],
        roles: [],
        admin: user.admin,
        method: 'basic',
        provider: config.id,
      };
      if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value!);
      // A remembered check never outlives the password (a break-glass password expires).
      cache.set(key, { principal, expires: Math.min(now() + config.cacheTtlMs, user.passwordExpiresAt ?? Infinity), stamp: stampOf(user), version });
      return { kind: 'principal', principal };
    },
    async close() {
      users.close();
    },
  };
}
