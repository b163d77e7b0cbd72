/**
 * The process-level guard of `gatehouse serve` (src/lib/dependency-errors.ts), in a child Node
 * process of its own: an error a dependency's connection emitted with nobody listening is logged
 * and the process keeps serving; any other uncaught error still ends the process with code 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../harness/paths.ts';

/** Runs a module script that emits an unhandled `error` event, then says it is still serving. */
function run(opts: { guard: boolean; marked: boolean }) {
  const lib = (f: string) => JSON.stringify(join(ROOT, 'src/lib', f));
  const script = `
    import { EventEmitter } from 'node:events';
    import { guardProcess, markDependencyError } from ${lib('dependency-errors.ts')};
    import { createLogger } from ${lib('logger.ts')};
    if (${opts.guard}) guardProcess(createLogger('info'));
    const err = new Error('Connection terminated unexpectedly');
    // No 'error' listener: EventEmitter throws, from a socket callback, as pg's Client did while a query held it.
    setImmediate(() => new EventEmitter().emit('error', ${opts.marked} ? markDependencyError(err, 'store') : err));
    setTimeout(() => console.log('still serving'), 50);
  `;
  return spawnSync(process.execPath, ['--input-type=module', '--disable-warning=ExperimentalWarning', '-e', script], { encoding: 'utf8', timeout: 20_000 });
}

test('with the guard, a store connection\'s unhandled error is logged and the process keeps serving', () => {
  const r = run({ guard: true, marked: true });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /still serving/);
  const line = JSON.parse(r.stdout.split('\n').find((l) => l.includes('dependency'))!) as { dependency: string; err: string; level: number };
  assert.equal(line.dependency, 'store');
  assert.equal(line.err, 'Error: Connection terminated unexpectedly');
});

test('without the guard the same error ends the process (what the guard prevents)', () => {
  const r = run({ guard: false, marked: true });
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stdout, /still serving/);
  assert.match(r.stderr, /Connection terminated unexpectedly/);
});

test('with the guard, any other uncaught error still ends the process with code 1, printed as Node prints it', () => {
  const r = run({ guard: true, marked: false });
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stdout, /still serving/);
  assert.match(r.stderr, /Error: Connection terminated unexpectedly/);
});
