/** What the admin API's route families are given by the composition root (through ServerDeps). */
import type { Config } from '../config/schema.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import { localAccountProviders } from '../identity/providers.ts';
import type { Logger } from '../lib/logger.ts';
import type { PolicySnapshot, PolicySources } from '../policy/snapshot.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import type { SessionRepository } from '../store/sessions.ts';
import type { Store } from '../store/store.ts';
import type { Upstreams } from '../upstream/upstreams.ts';
import { policyRepository, type PolicyRepository, type StoredPolicy } from '../store/policy.ts';

export interface AdminDeps {
  readonly config: Readonly<Config>;
  readonly providers: readonly IdentityProvider[];
  readonly store: Store;
  readonly sessions: SessionRepository;
  readonly upstreams: Upstreams;
  /** The policy in force (config + store). */
  readonly policy: () => PolicySnapshot;
  /** Reloads the snapshot now, after a change made here (other processes follow by polling). */
  readonly reloadPolicy?: (() => Promise<void>) | undefined;
  /** The declared policy in force (it follows configuration reloads); default: `config`'s. */
  readonly declared?: (() => PolicySources) | undefined;
  readonly rateLimits?: RateLimits | undefined;
  readonly log: Logger;
  /** Milliseconds clock (token expiry). */
  readonly now?: (() => number) | undefined;
}

/** The declared (config-file) policy, as the policy service merges it. */
export const declaredPolicy = (config: Readonly<Config>): PolicySources => ({ ...config, defaultTenant: config.tenancy.defaultTenant });

export interface PolicyState {
  readonly repo: PolicyRepository;
  readonly stored: StoredPolicy;
  readonly declared: PolicySources;
}

export async function policyState(deps: AdminDeps): Promise<PolicyState> {
  const repo = policyRepository(deps.store.db);
  return { repo, stored: await repo.load(), declared: deps.declared?.() ?? declaredPolicy(deps.config) };
}

/** After a change: this process sees it at once (the gateway's own poll would take up to a second). */
export async function changed(deps: AdminDeps): Promise<void> {
  await deps.reloadPolicy?.();
}

/** Ids of the identity providers whose principals are local users (passwords, personal tokens). */
export function localProviderIds(config: Readonly<Config>): { local: string[]; token: string[] } {
  return { local: localAccountProviders(config.auth.providers, ['local']), token: localAccountProviders(config.auth.providers, ['token']) };
}
