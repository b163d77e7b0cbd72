/**
 * The identity providers Gatehouse knows: one config sub-schema and one factory per provider
 * type. Adding a provider is one schema in the union and one case in `buildProvider`.
 */
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import type { CacheMetrics, JwksMetrics } from '../metrics/definitions.ts';
import type { Store } from '../store/store.ts';
import { apiTokenProvider, apiTokenSchema } from './api-token.ts';
import { devHeadersProvider, devHeadersSchema } from './dev-headers.ts';
import { ldapProvider, ldapSchema } from './ldap.ts';
import { localBasicProvider, localBasicSchema } from './local-basic.ts';
import { mtlsProvider, mtlsSchema } from './mtls.ts';
import { oidcBearerProvider, oidcBearerSchema } from './oidc-bearer.ts';
import type { IdentityProvider } from './principal.ts';
import { trustedProxyProvider, trustedProxySchema } from './trusted-proxy.ts';

export const providerSchema = z.discriminatedUnion('type', [localBasicSchema, oidcBearerSchema, ldapSchema, mtlsSchema, apiTokenSchema, trustedProxySchema, devHeadersSchema]);
export type ProviderConfig = z.infer<typeof providerSchema>;

/** What factories may use; everything is passed in, nothing is global. */
export interface ProviderDeps {
  readonly store: Store;
  readonly log: Logger;
  /** Realm for HTTP challenges. */
  readonly realm: string;
  readonly now: () => number;
  /** Cache lookups and JWKS refreshes (src/metrics/); default: not counted. */
  readonly metrics?: CacheMetrics & JwksMetrics;
}

export function buildProvider(config: ProviderConfig, deps: ProviderDeps): IdentityProvider {
  switch (config.type) {
    case 'local':
      return localBasicProvider({ config, store: deps.store, realm: deps.realm, now: deps.now, ...(deps.metrics && { metrics: deps.metrics }) });
    case 'oidc':
      return oidcBearerProvider(config, deps);
    case 'ldap':
      return ldapProvider({ config, realm: deps.realm, log: deps.log, now: deps.now, ...(deps.metrics && { metrics: deps.metrics }) });
    case 'mtls':
      return mtlsProvider(config, { now: deps.now });
    case 'token':
      return apiTokenProvider(config, deps);
    case 'trusted-proxy':
      return trustedProxyProvider(config);
    case 'dev-headers':
      return devHeadersProvider(config);
  }
}
