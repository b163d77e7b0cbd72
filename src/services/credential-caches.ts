/**
 * Credential caches (a local provider's remembered password checks) follow changes made by
 * another process — the CLI, or a replica when Redis is not configured — through the store.
 */
import { createHash } from 'node:crypto';
import type { Store, User } from '../store/store.ts';

/**
 * Another process (the CLI, another replica without Redis) changed users in the store: each time
 * the policy version moves (users' changes move it too), the users whose flags, password or
 * existence differ from the last look are handed to `forget` (credential caches). What is kept of
 * a password hash is a digest of it, never the hash.
 */
export function userChangeWatcher(store: Store, forget: (name: string) => void): () => Promise<void> {
  let last: Map<string, string> | undefined;
  const stampOf = (u: User) => createHash('sha256').update(`${u.admin}|${u.disabled}|${u.passwordHash ?? ''}`).digest('base64url');
  return async () => {
    const now = new Map((await store.listUsers()).map((u) => [u.username, stampOf(u)]));
    if (last) {
      for (const [name, stamp] of last) if (now.get(name) !== stamp) forget(name);
    }
    last = now;
  };
}
