/**
 * LDAP / Active Directory users over HTTP Basic. Two bind modes: a user DN template, or
 * search-then-bind with a service account. Groups come from a group search or `memberOf`, and
 * group DNs map to roles, tenants and the admin flag.
 *
 * Verdicts: wrong password → invalid (401); a user the search does not find → not mine (so the
 * stage answers 401 when nobody else knows the user); the directory down, slow or refusing the
 * service bind → unavailable (503) — never an allow, never "unknown user". Successful checks
 * are remembered for `cacheTtlMs`, keyed by an HMAC of the credentials under a per-process key.
 * Connection handling is described in `ldap-conn.ts`.
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Filter, FilterParser, type Client, type Entry } from 'ldapts';
import type { Logger } from '../lib/logger.ts';
import { NO_METRICS, type CacheMetrics } from '../metrics/definitions.ts';
import { close, connector, deadline, isCredentialsRejection, LdapUnavailable, readBindPassword, serviceConnection, unavailable } from './ldap-conn.ts';
import { escapeDnValue, firstRdnValue, normalizeDn } from './ldap-dn.ts';
import type { LdapConfig } from './ldap-schema.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { readBasicCredentials, withBasicCredentials } from './basic-request.ts';
import { looksLikeToken } from './token-format.ts';
import { asLocalName } from './local-names.ts';
import type { Principal } from '../model/principal.ts';

export { ldapSchema, type LdapConfig } from './ldap-schema.ts';

export interface LdapOptions {
  readonly config: LdapConfig;
  readonly realm: string;
  readonly log: Logger;
  readonly now?: () => number;
  /** Cache lookups (`ldap`); default: not counted. */
  readonly metrics?: CacheMetrics;
}

const MAX_CACHE = 10_000;
const first = (v: Entry[string] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.toString();
const all = (v: Entry[string] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));
const filter = (template: string, values: Record<string, string>) =>
  FilterParser.parseString(Object.entries(values).reduce((f, [k, v]) => f.replaceAll(`{${k}}`, Filter.escape(v)), template));

export function ldapProvider(options: LdapOptions): IdentityProvider {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const metrics = options.metrics ?? NO_METRICS;
  const conn = connector(config);
  if (!config.tlsVerification) {
    log.warn({ provider: config.id }, `!!! auth provider ${config.id}: tlsVerification is false — the LDAP server certificate is NOT checked; anyone on the path can read every password. Tests only. !!!`);
  } else if (config.url.startsWith('ldap://') && !config.startTls) {
    log.warn({ provider: config.id }, `auth provider ${config.id}: ${config.url} without startTls sends passwords in plain text`);
  }
  const service = serviceConnection(conn, config.search?.bindDn, config.search && readBindPassword(config.search));
  const opDeadline = config.connectTimeoutMs + 4 * config.timeoutMs;
  const cacheKey = createSecretKey(randomBytes(32)); // a KeyObject: a Buffer key is re-imported per createHmac
  const cache = new Map<string, { principal: Principal; expires: number }>();
  const inflight = new Map<string, Promise<AuthResult>>();
  const mappings = config.groupMappings.map((m) => ({ ...m, dn: normalizeDn(m.group) }));
  const identityAttribute = config.identityAttribute ?? config.usernameAttribute;
  const attributes = [
    ...new Set([config.usernameAttribute, config.emailAttribute, ...(identityAttribute === 'dn' ? [] : [identityAttribute]), ...(config.groups?.source === 'memberOf' ? ['memberOf'] : [])]),
  ];

  /** Groups as (dn, name) pairs, read with `c` (the service connection, or the user's own). */
  async function groupsOf(c: Client, entry: Entry, username: string): Promise<{ dn: string; name: string }[]> {
    const g = config.groups;
    if (!g) return [];
    if (g.source === 'memberOf') return all(entry.memberOf).map((dn) => ({ dn, name: firstRdnValue(dn) }));
    const { searchEntries } = await c.search(g.base!, { scope: 'sub', filter: filter(g.filter, { dn: entry.dn, username }), attributes: [g.nameAttribute] });
    return searchEntries.map((e) => ({ dn: e.dn, name: first(e[g.nameAttribute]) ?? firstRdnValue(e.dn) }));
  }

  function principalOf(entry: Entry, username: string, groups: { dn: string; name: string }[]): Principal {
    const dns = new Set(groups.map((g) => normalizeDn(g.dn)));
    const matched = mappings.filter((m) => dns.has(m.dn));
    const name = first(entry[config.usernameAttribute]) ?? username;
    const email = first(entry[config.emailAttribute]);
    // The identity comes from the directory's entry, never from what the client typed.
    const identity = (identityAttribute === 'dn' ? undefined : first(entry[identityAttribute])) ?? normalizeDn(entry.dn);
    const localName = config.assertsLocalNames ? asLocalName(first(entry[config.usernameAttribute])) : undefined;
    return {
      id: `${config.id}:${identity}`,
      kind: 'user',
      name,
      ...(localName !== undefined && { localName }),
      // The directory's own attribute: the operator's directory vouches for it (link: email).
      ...(email !== undefined && { email, emailVerified: true }),
      groups: [...new Set(groups.map((g) => g.name))],
      tenants: [...new Set(matched.flatMap((m) => m.tenants))],
      roles: [...new Set(matched.flatMap((m) => m.roles))],
      admin: matched.some((m) => m.admin),
      method: 'basic',
      provider: config.id,
    };
  }

  /** Binds as the user on a fresh connection; `then` runs on that connection while it is bound. */
  async function asUser<T>(dn: string, password: string, then: (c: Client) => Promise<T>): Promise<T | 'rejected'> {
    const c = await conn.open();
    try {
      try {
        await c.bind(dn, password);
      } catch (err) {
        if (isCredentialsRejection(err)) return 'rejected';
        throw unavailable(err);
      }
      return await then(c);
    } catch (err) {
      throw unavailable(err);
    } finally {
      await close(c);
    }
  }

  async function check(username: string, password: string): Promise<AuthResult> {
    if (config.search) {
      const search = config.search;
      const found = await service.use((c) => c.search(search.base, { scope: 'sub', filter: filter(search.filter, { username }), attributes, sizeLimit: 2 }));
      if (found.searchEntries.length === 0) return { kind: 'not-mine', reason: 'unknown-user' };
      if (found.searchEntries.length > 1) return { kind: 'invalid', reason: 'ambiguous-user' };
      const entry = found.searchEntries[0]!;
      const bound = await asUser(entry.dn, password, async () => true);
      if (bound === 'rejected') return { kind: 'invalid', reason: 'bad-password' };
      const groups = await service.use((c) => groupsOf(c, entry, username));
      return { kind: 'principal', principal: principalOf(entry, username, groups) };
    }
    // DN template: the user's own connection reads its entry and groups (the directory cannot
    // tell an unknown DN from a wrong password here, so both are "invalid").
    const dn = config.userDnTemplate!.replaceAll('{username}', escapeDnValue(username));
    const result = await asUser(dn, password, async (c) => {
      const { searchEntries } = await c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes });
      const entry = searchEntries[0] ?? { dn };
      return principalOf(entry, username, await groupsOf(c, entry, username));
    });
    return result === 'rejected' ? { kind: 'invalid', reason: 'bad-password' } : { kind: 'principal', principal: result };
  }

  return {
    id: config.id,
    challenge: `Basic realm="${options.realm}", charset="UTF-8"`,
    // The login page's form: the same check as a Basic header (basic-request.ts).
    verifyPassword(username: string, password: string, req: IncomingMessage): Promise<AuthResult> {
      return this.authenticate(withBasicCredentials(req, username, password));
    },
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const basic = readBasicCredentials(req, looksLikeToken);
      if (basic.kind === 'not-basic') return { kind: 'not-mine' };
      if (basic.kind === 'malformed') return { kind: 'invalid', reason: 'malformed-basic' };
      const { username, password } = basic;
      // An empty password is an "unauthenticated bind" that directories accept (RFC 4513 §5.1.2).
      if (password === '') return { kind: 'invalid', reason: 'empty-password' };
      if (username.length > 256 || /[\p{Cc}]/u.test(username)) return { kind: 'not-mine', reason: 'unknown-user' };
      const key = createHmac('sha256', cacheKey).update(username).update('\0').update(password).digest('base64url');
      const hit = cache.get(key);
      const fresh = hit !== undefined && hit.expires > now();
      if (config.cacheTtlMs > 0) metrics.lookup('ldap', fresh);
      if (fresh) return { kind: 'principal', principal: hit.principal };
      let pending = inflight.get(key);
      if (!pending) {
        pending = deadline(check(username, password), opDeadline)
          .catch((err: unknown): AuthResult => {
            const reason = err instanceof LdapUnavailable ? err.message : unavailable(err).message;
            log.warn({ provider: config.id, reason }, 'LDAP directory unavailable: request denied');
            return { kind: 'unavailable', reason: 'directory-unavailable' };
          })
          .finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      const result = await pending;
      if (result.kind === 'principal' && config.cacheTtlMs > 0) {
        if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value!);
        cache.set(key, { principal: result.principal, expires: now() + config.cacheTtlMs });
      }
      return result;
    },
    async ready() {
      try {
        const rootDse = (c: Client) => c.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['supportedLDAPVersion'] });
        if (config.search) await deadline(service.use(rootDse), opDeadline);
        else {
          const c = await conn.open();
          try {
            await deadline(rootDse(c), opDeadline);
          } finally {
            await close(c);
          }
        }
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: unavailable(err).message };
      }
    },
    async close() {
      await service.close();
    },
  };
}
