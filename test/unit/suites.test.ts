/** Every test file is classified for the fast loop (test/suites.ts), and the fast set starts no service. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/paths.ts';
import { FAST_FOLDERS, FULL_FOLDERS, SERVICE_HARNESS, SUPPORT_FOLDERS, fastFiles, testFiles } from '../suites.ts';

test('every folder of test/ is classified fast, full or support, and no folder twice', () => {
  const classified: string[] = [...FAST_FOLDERS, ...FULL_FOLDERS, ...SUPPORT_FOLDERS];
  assert.equal(new Set(classified).size, classified.length);
  const folders = readdirSync(join(ROOT, 'test'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !classified.includes(f)), [], 'add the folder to test/suites.ts');
  const misplaced = testFiles().filter((f) => f.split('/').length !== 3 || (SUPPORT_FOLDERS as readonly string[]).includes(f.split('/')[1]!));
  assert.deepEqual(misplaced, [], 'test files live one level down, in a fast or full folder');
});

test('the fast set: the unit tests and the stub-upstream feature suites, none importing a service harness', () => {
  const fast = fastFiles();
  assert.ok(fast.includes('test/unit/suites.test.ts') && fast.includes('test/feature/listeners.test.ts'), fast.join('\n'));
  assert.ok(!fast.includes('test/feature/tag-tenancy.test.ts'), 'it starts a real MLflow');
  for (const f of fast) assert.doesNotMatch(readFileSync(join(ROOT, f), 'utf8'), SERVICE_HARNESS, f);
  // (Spelled in two parts: this file's own text must not look like such an import.)
  assert.ok(SERVICE_HARNESS.test(`import { startMlflow } from '../harness/${'mlflow'}.ts';`));
});
