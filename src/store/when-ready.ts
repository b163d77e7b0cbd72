/**
 * What a gateway reads from the store before it can decide anything (the first administrator,
 * the stored policy, ownership), run as soon as the store is usable — at start when it is
 * reachable, later when it comes back (a gateway starts while PostgreSQL is down) — and retried
 * with backoff while it fails. Each step must be safe to run again: a retry repeats them all.
 * Until every step has succeeded the gateway is not ready (`check` rejects, naming the reason).
 */
import type { Store } from './store.ts';

export interface StoreStartup {
  /** True once every step has succeeded. */
  readonly done: boolean;
  /** Settles after the first attempt (succeeded or not): what a start waits for. */
  readonly firstAttempt: Promise<void>;
  /** Readiness: resolves once done, rejects with the reason before. */
  check(): Promise<void>;
  close(): void;
}

export function whenStoreReady(
  store: Pick<Store, 'whenReady'>,
  steps: ReadonlyArray<() => Promise<void>>,
  onError: (err: Error) => void,
): StoreStartup {
  let done = false;
  let reason: Error | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = 250;
  const attempt = async (): Promise<void> => {
    try {
      for (const step of steps) await step();
      done = true;
      reason = undefined;
    } catch (err) {
      reason = err as Error;
      onError(reason);
      if (closed) return;
      timer = setTimeout(() => void store.whenReady().then(() => (closed ? undefined : attempt())), delay);
      delay = Math.min(delay * 2, 5_000);
    }
  };
  return {
    get done() {
      return done;
    },
    firstAttempt: attempt(),
    async check() {
      if (!done) throw new Error(`waiting for the store (first administrator, stored policy, ownership)${reason ? `: ${reason.message}` : ''}`);
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
