/**
 * Errors that a dependency's connection emits (a PostgreSQL client whose server went away) are
 * the dependency's outage, never the gateway's end. Each such connection gets a listener for
 * its whole life (src/store/postgres.ts), and its errors are marked with the dependency's name
 * as they are emitted. `guardProcess` is the last line behind those listeners: should a marked
 * error still reach the top of the stack (a library removed the listener), the gateway logs it
 * and keeps serving; the failed connection is dropped and the next query opens another.
 * Everything else stays fatal, exactly as without the guard: an unknown error means an unknown
 * state, and a supervisor restarts the process.
 */
import type { Logger } from './logger.ts';

const DEPENDENCY = Symbol.for('gatehouse.dependency');

/** Marks `err` as emitted by a connection to `dependency` (e.g. `store`); returns it. */
export function markDependencyError<E>(err: E, dependency: string): E {
  if (typeof err === 'object' && err !== null && Object.isExtensible(err)) {
    Object.defineProperty(err, DEPENDENCY, { value: dependency, enumerable: false, configurable: true });
  }
  return err;
}

/** The dependency whose connection emitted `err`, if it was marked. */
export function dependencyOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const d = (err as { [DEPENDENCY]?: unknown })[DEPENDENCY];
  return typeof d === 'string' ? d : undefined;
}

/**
 * Installs the process-level guard (`gatehouse serve` only: it owns the process). Returns a
 * function that removes it.
 */
export function guardProcess(log: Logger, proc: NodeJS.Process = process): () => void {
  const onUncaught = (err: Error) => {
    const dependency = dependencyOf(err);
    if (dependency !== undefined) {
      log.error({ dependency, err: `${err.name}: ${err.message}` }, 'unhandled error of a dependency connection; the connection is dropped, the gateway keeps serving');
      return;
    }
    // Not ours to judge: Node's own behaviour (print the error, exit 1), as if the guard were not there.
    proc.off('uncaughtException', onUncaught);
    proc.nextTick(() => {
      throw err;
    });
  };
  proc.on('uncaughtException', onUncaught);
  return () => proc.off('uncaughtException', onUncaught);
}
