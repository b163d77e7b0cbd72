/**
 * Connections to the directory for the LDAP provider: TLS set-up, a guard against silent
 * reconnects, the one reused service-account connection, and the escaping rules.
 *
 * Connection use (the "pool"): searches run on ONE long-lived connection bound as the service
 * account (LDAP multiplexes operations on a connection by message id, RFC 4511 §4.1.1), opened
 * lazily and replaced when it breaks. User binds each get a fresh short-lived connection: a bind
 * changes a connection's identity and must not overlap other operations on it (RFC 4511
 * §4.2.1), and the positive cache keeps the rate of binds low.
 */
import { readFileSync } from 'node:fs';
import { isIP, Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError } from 'ldapts';
import { Secret } from '../lib/logger.ts';
import type { LdapConfig } from './ldap-schema.ts';

/** The directory could not be asked (down, timeout, TLS failure, service bind refused). */
export class LdapUnavailable extends Error {
  override readonly name = 'LdapUnavailable';
}

/**
 * ldapts transparently reconnects a closed client on its next operation, in plain text and
 * unbound (a StartTLS upgrade is not replayed). Each client may therefore connect once; a second
 * attempt fails, and the caller opens a fresh client that goes through TLS and bind again.
 */
function once<F extends (...args: never[]) => Socket>(factory: F): F {
  let used = false;
  return ((...args: Parameters<F>) => {
    if (!used) {
      used = true;
      return factory(...args);
    }
    const s = new Socket();
    process.nextTick(() => s.destroy(new LdapUnavailable('connection lost; not reconnecting on a used client')));
    return s;
  }) as F;
}

export interface Connector {
  /** A connected client (TLS established when configured), not yet bound. */
  open(): Promise<Client>;
  tlsVerification: boolean;
}

export function connector(config: LdapConfig): Connector {
  const { hostname } = new URL(config.url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const tls: ConnectionOptions = {
    host,
    ...(isIP(host) === 0 && { servername: host }),
    ...(config.tlsCaFile !== undefined && { ca: readFileSync(config.tlsCaFile) }),
    rejectUnauthorized: config.tlsVerification,
    minVersion: 'TLSv1.2',
  };
  return {
    tlsVerification: config.tlsVerification,
    async open() {
      const client = new Client({
        url: config.url,
        connectTimeout: config.connectTimeoutMs,
        timeout: config.timeoutMs,
        // Only for ldaps://: given to a StartTLS client, ldapts breaks the upgrade handshake.
        ...(config.url.startsWith('ldaps://') && { tlsOptions: tls }),
        createConnection: once(netConnect as (...args: never[]) => Socket) as unknown as typeof netConnect,
        createSecureConnection: once(tlsConnect as (...args: never[]) => Socket) as unknown as typeof tlsConnect,
      });
      try {
        // StartTLS before anything else: no credential or query ever crosses in plain text.
        if (config.startTls) await deadline(client.startTLS({ ...tls }), config.connectTimeoutMs + config.timeoutMs);
        return client;
      } catch (err) {
        await close(client);
        throw unavailable(err);
      }
    },
  };
}

/** Bounds a step that ldapts does not time out itself (the StartTLS handshake). */
export function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new LdapUnavailable(`no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function close(client: Client): Promise<void> {
  await client.unbind().catch(() => undefined);
}

/** Any failure that is not the directory's verdict on the user's own credentials. */
export function unavailable(err: unknown): LdapUnavailable {
  if (err instanceof LdapUnavailable) return err;
  const e = err as Error & { code?: unknown };
  return new LdapUnavailable(err instanceof ResultCodeError ? `${e.name} (${String(e.code)})` : `${e.name ?? 'Error'}: ${e.message}`);
}

/**
 * How a user bind failed: wrong password (or no such DN) is the user's fault; "inappropriate
 * authentication" (48), "insufficient access" (50) and "unwilling to perform" (53, e.g. a
 * disabled or expired account) too. Everything else means the directory could not answer.
 */
export function isCredentialsRejection(err: unknown): boolean {
  return err instanceof InvalidCredentialsError || (err instanceof ResultCodeError && [48, 50, 53].includes(err.code));
}

/**
 * The service-account connection, reused for every search and re-opened (once per call) when
 * it broke since the last use.
 */
export function serviceConnection(conn: Connector, bindDn: string | undefined, password: Secret | undefined) {
  let current: Promise<Client> | undefined;
  const openBound = async () => {
    const c = await conn.open();
    try {
      if (bindDn !== undefined) await c.bind(bindDn, password!.reveal());
      return c;
    } catch (err) {
      await close(c);
      throw unavailable(err);
    }
  };
  const get = async (): Promise<Client> => {
    if (current) {
      const c = await current.catch(() => undefined);
      if (c?.isConnected) return c;
    }
    const opening = openBound();
    current = opening;
    opening.catch(() => (current === opening ? (current = undefined) : undefined));
    return opening;
  };
  return {
    async use<T>(fn: (c: Client) => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        const c = await get();
        try {
          return await fn(c);
        } catch (err) {
          if (err instanceof ResultCodeError) throw unavailable(err);
          // A broken connection: drop it, retry once on a fresh one.
          if (current && (await current.catch(() => undefined)) === c) current = undefined;
          await close(c);
          if (attempt >= 1) throw unavailable(err);
        }
      }
    },
    async close() {
      const c = await current?.catch(() => undefined);
      current = undefined;
      if (c) await close(c);
    },
  };
}

export function readBindPassword(search: NonNullable<LdapConfig['search']>): Secret | undefined {
  if (search.bindPassword !== undefined) return new Secret(search.bindPassword);
  if (search.bindPasswordFile !== undefined) return new Secret(readFileSync(search.bindPasswordFile, 'utf8').replace(/\r?\n$/, ''));
  return undefined;
}
