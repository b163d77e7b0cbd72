/**
 * Follows the store's users version (src/store/store.ts `usersVersion`, bumped with every change
 * to a local user) by polling, like the policy version: so a replica learns within one poll that
 * some local user changed — disabled, deleted, re-passworded — with or without Redis, and what it
 * remembers about users can be checked again (src/identity/local-basic.ts). A failed poll keeps
 * the last version seen (the store is down: nothing can change there either).
 */
import type { Store } from '../store/store.ts';

export interface UsersVersion {
  /** The version at the last successful poll; undefined before the first one. */
  current(): number | undefined;
  close(): void;
}

export function watchUsersVersion(store: Pick<Store, 'usersVersion'>, pollMs: number): UsersVersion {
  let version: number | undefined;
  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    store
      .usersVersion()
      .then((v) => (version = v), () => undefined)
      .finally(() => (polling = false));
  };
  poll();
  const timer = setInterval(poll, pollMs);
  timer.unref();
  return { current: () => version, close: () => clearInterval(timer) };
}
