/**
 * No import cycles in src/ (issue 19, step 7): a module's dependencies can be read, loaded and
 * tested without the modules that use it. The check reads the import graph with TypeScript's own
 * scanner (`ts.preProcessFile`: every `import`, `import type`, `export … from` and dynamic
 * `import()`), resolves the relative specifiers, and fails on every strongly connected component
 * of more than one module, printed as a cycle. Type-only imports count: a cycle through types
 * still means two modules that cannot be understood apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../harness/paths.ts';

const SRC = join(ROOT, 'src');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? modules(join(dir, e.name)) : /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []));
}

/** The src/ modules each module imports. */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const targets = importedFiles.map((i) => i.fileName).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
      return [file, [...new Set(targets.filter((t) => known.has(t)))]];
    }),
  );
}

/** Strongly connected components of more than one module (Tarjan), each as a cycle through it. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('the cycle finder finds a cycle, and none where there is none', () => {
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
});

test('src/ has no import cycle', () => {
  const graph = importGraph(modules(SRC));
  assert.ok(graph.size > 100, `read ${graph.size} modules`);
  const found = cycles(graph).map((c) => c.map((f) => relative(ROOT, f)));
  assert.deepEqual(found, [], `import cycles in src/:\n${found.map((c) => `- ${c.join(', ')}`).join('\n')}`);
});
