/**
 * The identity providers Gatehouse knows: one config sub-schema and one factory per provider
 * type. Adding a provider is one schema in the union and one case in `buildProvider`.
 */
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import { ldapProvider, ldapSchema } from './ldap.ts';
import { localBasicProvider, localBasicSchema } from './local-basic.ts';
import { oidcBearerProvider, oidcBearerSchema } from './oidc-bearer.ts';
import type { IdentityProvider } from './principal.ts';

export const providerSchema = z.discriminatedUnion('type', [localBasicSchema, oidcBearerSchema, ldapSchema]);
export type ProviderConfig = z.infer<typeof providerSchema>;

/** What factories may use; everything is passed in, nothing is global. */
export interface ProviderDeps {
  readonly store: Store;
  readonly log: Logger;
  /** Realm for HTTP challenges. */
  readonly realm: string;
  readonly now: () => number;
}

export function buildProvider(config: ProviderConfig, deps: ProviderDeps): IdentityProvider {
  switch (config.type) {
    case 'local':
      return localBasicProvider({ config, store: deps.store, realm: deps.realm, now: deps.now });
    case 'oidc':
      return oidcBearerProvider(config, deps);
    case 'ldap':
      return ldapProvider({ config, realm: deps.realm, log: deps.log, now: deps.now });
  }
}
