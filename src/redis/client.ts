/**
 * The Redis connections of one gateway process: one for commands (rate-limit scripts,
 * PUBLISH) and one in subscriber mode (a subscribed connection can run nothing else).
 * Commands never queue while disconnected (`enableOfflineQueue: false`) and time out after
 * `commandTimeoutMs`: a Redis outage turns into an immediate error that the caller decides
 * about (fail closed by default), never into requests piling up. Reconnects forever, backing off.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import type { RedisConfig } from './config.ts';

/** The ioredis client class, loaded on first use: a gateway without Redis does not load it at start (cold start, docs/performance.md). */
const RedisClient = (): typeof Redis => (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;

export interface RedisConnections {
  readonly command: Redis;
  readonly subscriber: Redis;
  readonly keyPrefix: string;
  /** Readiness: resolves when Redis answers PING, rejects otherwise. */
  ping(): Promise<void>;
  /** Resolves once connected, or after `ms` anyway (a gateway starts with Redis down; readiness says so). */
  connected(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The URL from `url` or `urlFile` (read once at start). */
export function redisUrl(config: RedisConfig): string {
  if (config.url !== undefined) return config.url;
  const url = readFileSync(config.urlFile!, 'utf8').replace(/\r?\n$/, '');
  if (!/^rediss?:\/\//.test(url)) throw new Error(`redis.urlFile: ${config.urlFile} does not hold a redis:// or rediss:// URL`);
  return url;
}

/** One message from a short-lived process (the CLI): connect, publish, quit. Never throws; says why on `warn`. */
export async function publishOnce(config: RedisConfig, channelSuffix: string, message: string, warn: (text: string) => void): Promise<void> {
  const r = new (RedisClient())(redisUrl(config), { connectTimeout: config.connectTimeoutMs, commandTimeout: config.commandTimeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.publish(`${config.keyPrefix}${channelSuffix}`, message);
    await r.quit();
  } catch (err) {
    warn(`redis: change notification not sent (${(err as Error).message}); gateways pick the change up by polling within a second`);
    r.disconnect();
  }
}

export function connectRedis(config: RedisConfig, log: Logger): RedisConnections {
  const url = redisUrl(config);
  let lastLogged = 0;
  const options = {
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
  };
  const open = (role: string, extra: Record<string, unknown> = {}) => {
    const r = new (RedisClient())(url, { ...options, ...extra, connectionName: `gatehouse-${role}` });
    r.on('error', (err: Error) => {
      // At most one line per 10 s: an outage must not flood the log. The URL (it may hold a password) is never logged.
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      log.warn({ err: err.message, role }, 'redis connection error');
    });
    return r;
  };
  const command = open('command');
  // The subscriber re-subscribes on reconnect; its offline queue lets SUBSCRIBE wait for the first connection.
  const subscriber = open('subscriber', { enableOfflineQueue: true, commandTimeout: undefined });
  return {
    command,
    subscriber,
    keyPrefix: config.keyPrefix,
    async ping() {
      if (command.status !== 'ready') throw new Error(`redis ${command.status}`);
      await command.ping();
    },
    connected(ms) {
      if (command.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          command.off('ready', onReady);
          resolve(false);
        }, ms);
        command.once('ready', onReady);
      });
    },
    async close() {
      await Promise.allSettled([command.quit(), subscriber.quit()]);
      command.disconnect();
      subscriber.disconnect();
    },
  };
}
