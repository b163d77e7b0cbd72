/** What the admin API's route families are given by the composition root (through ServerDeps). */
import type { Config } from '../config/schema.ts';
import type { IdentityProvider } from '../identity/principal.ts';
import type { Logger } from '../lib/logger.ts';
import type { PolicySnapshot } from '../policy/snapshot.ts';
import type { RateLimits } from '../ratelimit/limits.ts';
import type { Services } from '../services/index.ts';
import type { Store } from '../store/store.ts';
import type { Upstreams } from '../upstream/upstreams.ts';

export interface AdminDeps {
  readonly config: Readonly<Config>;
  readonly providers: readonly IdentityProvider[];
  readonly store: Store;
  readonly upstreams: Upstreams;
  /** The policy in force (config + store). */
  readonly policy: () => PolicySnapshot;
  /** Every change goes through these (src/services/): the rules are theirs, the routes only translate. */
  readonly services: Services;
  readonly rateLimits?: RateLimits | undefined;
  readonly log: Logger;
}
