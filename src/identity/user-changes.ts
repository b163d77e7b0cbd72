/**
 * What follows a change to a local user — its password, admin or disabled flag, or existence —
 * whatever door made it (admin API, MLflow auth API, CLI). The store bumped its users version in
 * the same transaction, so every replica confirms what it remembers of the user within one poll
 * (src/identity/local-basic.ts). Here, at once: this process's providers forget the user (the
 * composition root also announces that on the Redis change bus, so other replicas forget it in
 * milliseconds), and, for a new password, a disabled account or a deletion, the user's browser
 * sessions end. API tokens need nothing: every request reads their owner.
 */
import type { IdentityProvider } from './principal.ts';

export interface UserChangeDeps {
  /** The running providers (none in the CLI, which has no caches). */
  readonly providers: readonly Pick<IdentityProvider, 'forgetUser'>[];
  readonly sessions: { revokePrincipal(principalId: string): Promise<number> };
  /** Ids of the `local` providers: a local user's sessions carry `<id>:<name>`. */
  readonly localProviders: readonly string[];
}

export async function localUserChanged(deps: UserChangeDeps, name: string, endSessions: boolean): Promise<void> {
  for (const p of deps.providers) p.forgetUser?.(name);
  if (endSessions) await Promise.all(deps.localProviders.map((id) => deps.sessions.revokePrincipal(`${id}:${name}`)));
}
