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
import { asLocalName, providerOf } from './local-names.ts';
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

/**
 * Provider ids are the first half of every principal id (`<provider id>:<subject>`), so two
 * providers with one id would share one namespace of identities: the same `sub` at two issuers
 * would be one principal. Ids must differ; a login-page OIDC entry may share the id of the
 * bearer provider of the same issuer (the same people, the same ids either way).
 */
export function providerIdProblems(
  providers: readonly ProviderConfig[],
  browserOidc: readonly { id: string; issuer: string; link?: string }[],
  saml: readonly { id: string }[] = [],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const byId = new Map<string, ProviderConfig>();
  providers.forEach((p, i) => {
    if (byId.has(p.id)) problems.push({ path: ['auth', 'providers', i, 'id'], message: `duplicate provider id ${p.id}: principal ids (<provider id>:<subject>) of two providers would collide; give each its own id` });
    else byId.set(p.id, p);
  });
  browserOidc.forEach((b, i) => {
    const same = byId.get(b.id);
    if (same && !(same.type === 'oidc' && same.issuer === b.issuer)) {
      problems.push({ path: ['auth', 'browser', 'oidc', i, 'id'], message: `provider id ${b.id} is taken by an auth.providers entry that is not the oidc provider of issuer ${b.issuer}; principal ids would collide` });
    } else if (same?.type === 'oidc' && b.link !== undefined && same.link !== b.link) {
      // One id, one set of principals: their binding to local users (src/identity/link.ts) cannot depend on the door.
      problems.push({ path: ['auth', 'browser', 'oidc', i, 'link'], message: `provider ${b.id} links by ${same.link} in auth.providers but by ${b.link} here; give both the same link` });
    }
  });
  // A SAML provider's principals are `<id>:<NameID>`: its id is its own, shared with nobody.
  const oidcIds = new Set(browserOidc.map((b) => b.id));
  saml.forEach((s, i) => {
    if (byId.has(s.id) || oidcIds.has(s.id)) problems.push({ path: ['auth', 'browser', 'saml', i, 'id'], message: `provider id ${s.id} is taken by another provider; principal ids (<id>:<NameID>) would collide` });
  });
  return problems;
}

/** Ids of the providers whose principals are local accounts: `local` (passwords) and `token` (API tokens). */
export function localAccountProviders(providers: readonly ProviderConfig[], types: readonly ('local' | 'token')[] = ['local', 'token']): string[] {
  return providers.flatMap((p) => ((types as readonly string[]).includes(p.type) ? [p.id] : []));
}

/**
 * The local name an identity `ref` (`corp:8f2c…`) with user name `name` would carry: `name`
 * when its provider (in `auth.providers` or `auth.browser.oidc`) is configured with
 * `assertsLocalNames`, else undefined (src/identity/local-names.ts).
 */
export function assertedLocalName(
  auth: {
    readonly providers: readonly ProviderConfig[];
    readonly browser: { readonly oidc: readonly { id: string; assertsLocalNames: boolean }[]; readonly saml?: readonly { id: string; assertsLocalNames: boolean }[] };
  },
  ref: string,
  name: string | undefined,
): string | undefined {
  const id = providerOf(ref);
  const asserts = [...auth.providers, ...auth.browser.oidc, ...(auth.browser.saml ?? [])].some((p) => p.id === id && 'assertsLocalNames' in p && p.assertsLocalNames);
  return asserts ? asLocalName(name) : undefined;
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
