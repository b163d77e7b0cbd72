/**
 * Writes the generated references: docs/routes.md (route table), docs/config.md (config
 * schema), docs/errors.md (error registry). `--check` exits 1 when a committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generatedDocs } from '../src/docs/generated.ts';

const root = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, content] of Object.entries(generatedDocs())) {
  const path = resolve(root, file);
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    /* missing */
  }
  if (current === content) continue;
  if (check) {
    console.error(`${file} is stale: run npm run gen:docs`);
    stale++;
  } else {
    writeFileSync(path, content);
    console.log(`wrote ${file}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
