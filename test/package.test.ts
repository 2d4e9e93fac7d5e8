// The published package: what `npm test` built into dist/ is what users get.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every file reachable through static and dynamic imports from `entry`, and every bare specifier met. */
function importGraph(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else external.add(specifier);
    }
  }
  return { files, external };
}

describe('package', () => {
  it('the core imports only node: built-ins and none of the optional parts', () => {
    assert.ok(existsSync(join(dist, 'index.js')), 'run `npm run build` first (npm test does)');
    const { files, external } = importGraph(join(dist, 'index.js'));
    assert.deepEqual(
      [...external].filter((specifier) => !specifier.startsWith('node:')),
      [],
      'no runtime dependency in the core',
    );
    const parts = [...files]
      .map((file) => relative(dist, file))
      .filter((file) => /^(checkers|http|metrics|cli|redis)\//.test(file));
    assert.deepEqual(parts, []);
  });

  it('has no runtime dependency beyond the CLI’s, and optional peers for the heavy parts', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['croner', 'yaml', 'zod']);
    for (const peer of ['@kubernetes/client-node', 'ioredis', 'prom-client']) {
      assert.equal(pkg.peerDependenciesMeta[peer]?.optional, true, peer);
    }
  });

  it('is clean under publint and are-the-types-wrong', { timeout: 240_000 }, async () => {
    const publint = await run('npx', ['publint', '--strict'], { cwd: root });
    assert.match(publint.stdout, /All good/);
    // Exits non-zero on any problem; ESM-only, so CommonJS resolutions are out of scope.
    await run('npx', ['attw', '--pack', '.', '--profile', 'esm-only'], { cwd: root });
  });
});
