/**
 * The gate in front of a PostgreSQL store opened while the server is down (`startWhileDown`,
 * src/store/store.ts): until this process has checked (or migrated) the schema, every query is
 * refused at once, so nothing reads or writes a database whose schema it has not seen; the
 * check is retried with backoff until it succeeds.
 */
import type { Dialect } from 'kysely';

/** The store was opened with `startWhileDown` and its schema is not checked yet. */
export class StoreNotReadyError extends Error {
  override readonly name = 'StoreNotReadyError';
}

/** Whether the schema has been checked; queries are refused until it has. */
export interface SchemaGate {
  /** Throws StoreNotReadyError while closed. */
  check(): void;
  open(): void;
  /** Tries `prepare` again with backoff (0.25 s doubling to 5 s) until it succeeds or the store closes. */
  retry(prepare: () => Promise<void>, first: Error, onFailure?: (err: Error) => void): void;
  whenReady(): Promise<void>;
  close(): void;
}

export const READY: SchemaGate = { check() {}, open() {}, retry() {}, whenReady: () => Promise.resolve(), close() {} };

export function schemaGate(): SchemaGate {
  let reason: Error | undefined = new Error('not checked yet');
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let opened!: () => void;
  const ready = new Promise<void>((r) => (opened = r));
  const open = () => {
    reason = undefined;
    opened();
  };
  return {
    check() {
      if (reason) throw new StoreNotReadyError(`the store is not ready: ${reason.message}`);
    },
    open,
    retry(prepare, first, onFailure) {
      let delay = 250;
      const fail = (err: Error) => {
        reason = err;
        onFailure?.(err);
        if (closed) return;
        timer = setTimeout(attempt, delay);
        delay = Math.min(delay * 2, 5_000);
      };
      const attempt = () => void prepare().then(open, fail);
      fail(first);
    },
    whenReady: () => ready,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

/** `dialect` whose connections are handed out only while `check` passes (kysely asks for one per query or transaction). */
export function gated(dialect: Dialect, check: () => void): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver() {
      const driver = dialect.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      driver.acquireConnection = () => {
        check();
        return acquire();
      };
      return driver;
    },
  };
}
