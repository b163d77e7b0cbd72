/**
 * Which test files the fast loop runs (`./scripts/test --unit`, `npm run test:fast`): the unit
 * tests and the feature suites against the recording stub upstream, nothing that starts a service
 * (MLflow, PostgreSQL, Redis, slapd, an OIDC provider, Chromium, the Python client). Every folder
 * of test/ is classified here; test/unit/suites.test.ts fails on a folder that is not, and on a
 * fast file that imports a service's harness. `node test/suites.ts --fast` prints the fast files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const TEST = import.meta.dirname;

/** Folders whose files need no service: the fast loop runs them. */
export const FAST_FOLDERS = ['unit', 'feature'] as const;
/** Folders whose files need a service, or are slow enough to belong to the full run only. */
export const FULL_FOLDERS = ['admin', 'adversarial', 'audit', 'cli', 'compat', 'e2e', 'faults', 'identity', 'metrics', 'ratelimit', 'replicas', 'routes', 'scim', 'services', 'store', 'web'] as const;
/** Folders of helpers and data, not tests. */
export const SUPPORT_FOLDERS = ['harness', 'fixtures'] as const;

/** A harness that starts a real service: a file importing one is never fast. */
export const SERVICE_HARNESS = /from '\.\.\/harness\/(mlflow|postgres|redis|slapd|oidc-idp|python-client|fault-proxy|tenant-resources)\.ts'/;

/** Every *.test.ts under test/, relative to the checkout (test/unit/x.test.ts), sorted. */
export function testFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.test.ts')) files.push(join('test', relative(TEST, join(dir, e.name))));
    }
  };
  walk(TEST);
  return files.sort();
}

const folderOf = (file: string) => file.split('/')[1]!;

/** The fast loop's files: in a fast folder and importing no service harness. */
export function fastFiles(): string[] {
  return testFiles().filter((f) => (FAST_FOLDERS as readonly string[]).includes(folderOf(f)) && !SERVICE_HARNESS.test(readFileSync(join(TEST, '..', f), 'utf8')));
}

if (process.argv[2] === '--fast') process.stdout.write(`${fastFiles().join('\n')}\n`);
