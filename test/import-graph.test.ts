// The import graph of src/: no cycles anywhere, and the core (the files directly
// in src/, plus src/testing) imports only node: built-ins and itself.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../src/', import.meta.url));
// Static imports and re-exports (`import … from`, `export … from`, `import '…'`) and dynamic `import('…')`.
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Imports of a file, as written; comments are dropped first so that examples in docs do not count. */
function importsOf(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(IMPORT)].map((match) => (match[1] ?? match[2] ?? match[3]) as string);
}

const files = sourceFiles(root);
const graph = new Map<string, string[]>(
  files.map((file) => [
    file,
    importsOf(file)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))),
  ]),
);
const name = (file: string): string => relative(root, file);

/** Every cycle found by a depth-first search, each as a path of file names. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].map(name));
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('import graph of src/', () => {
  it('finds the files and their imports', () => {
    assert.ok(files.length > 20, `${files.length} files`);
    assert.ok(graph.get(join(root, 'health-cache.ts'))!.includes(join(root, 'status-store.ts')));
  });

  it('has no import cycle', () => {
    assert.deepEqual(cycles(), []);
  });

  it('would report a cycle (the search works)', () => {
    const a = join(root, 'a.ts');
    const b = join(root, 'b.ts');
    graph.set(a, [b]);
    graph.set(b, [a]);
    try {
      assert.deepEqual(cycles(), [['a.ts', 'b.ts', 'a.ts']]);
    } finally {
      graph.delete(a);
      graph.delete(b);
    }
  });

  it('keeps the core on node: built-ins and itself', () => {
    const core = files.filter(
      (file) => dirname(file) === root.replace(/\/$/, '') || name(file).startsWith('testing/'),
    );
    assert.ok(core.length >= 15, `${core.length} core files`);
    const outside: string[] = [];
    for (const file of core) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('node:')) continue;
        const target = specifier.startsWith('.') ? resolve(dirname(file), specifier) : undefined;
        const inCore =
          target !== undefined &&
          (dirname(target) === root.replace(/\/$/, '') || name(target).startsWith('testing/'));
        if (!inCore) outside.push(`${name(file)} imports ${specifier}`);
      }
    }
    assert.deepEqual(outside, []);
  });
});
