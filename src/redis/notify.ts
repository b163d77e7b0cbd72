/**
 * Change notification between replicas over Redis pub/sub: a process that changes the policy,
 * a user, a token or a session publishes one message on `<keyPrefix>changes`; every replica
 * (itself included) reacts at once: the policy snapshot reloads, identity caches forget the
 * user. Pub/sub is fire-and-forget, so the store's `policy_version` and `users_version` polls
 * (1 s) stay as the fallback for a missed message or a change made while Redis was down.
 *
 * Tokens and sessions are not cached by any replica (every request reads the store), so their
 * messages need no reaction today; they are published so a future cache has its signal.
 */
import type { Logger } from '../lib/logger.ts';
import type { RedisConfig } from './config.ts';
import { publishOnce, type RedisConnections } from './client.ts';

const CHANNEL = 'changes';

/** From the CLI (a process without a bus): tells running gateways about a change it made in the store. */
export function announceChange(config: RedisConfig | undefined, change: Change, warn: (text: string) => void): Promise<void> {
  return config ? publishOnce(config, CHANNEL, JSON.stringify(change), warn) : Promise.resolve();
}

export type Change =
  | { readonly kind: 'policy' }
  | { readonly kind: 'user'; readonly name: string }
  | { readonly kind: 'token'; readonly id: string }
  | { readonly kind: 'session' }
  /** The CLI journaled an admin event: move it into the audit chains now (src/audit/journal.ts). */
  | { readonly kind: 'audit' };

export interface ChangeBus {
  /** Tells every replica; never throws (a lost message is caught up by polling). */
  publish(change: Change): Promise<void>;
  close(): Promise<void>;
}

export async function startChangeBus(redis: RedisConnections, log: Logger, onChange: (change: Change) => void): Promise<ChangeBus> {
  const channel = `${redis.keyPrefix}${CHANNEL}`;
  redis.subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    let change: Change;
    try {
      change = JSON.parse(message) as Change;
    } catch {
      return;
    }
    try {
      onChange(change);
    } catch (err) {
      log.error({ err: (err as Error).message, kind: change.kind }, 'change notification handler failed');
    }
  });
  // Not awaited: with Redis down at start the gateway still starts (readiness says why); the
  // subscription is made once the connection is up and renewed on every reconnect.
  redis.subscriber.subscribe(channel).catch((err: Error) => log.warn({ err: err.message }, 'redis subscribe failed; relying on polling'));
  return {
    async publish(change) {
      try {
        await redis.command.publish(channel, JSON.stringify(change));
      } catch (err) {
        log.warn({ err: (err as Error).message, kind: change.kind }, 'change notification not sent; other replicas catch up by polling');
      }
    },
    async close() {
      await redis.subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
