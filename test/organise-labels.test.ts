import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isOptionError } from '../src/errors.js';
import {
  MAX_LABELS,
  NO_LABELS,
  checkDependencies,
  isDependencyError,
  isLabelKey,
  isLabelValue,
  validateDependsOn,
  validateLabels,
  type DependencyError,
} from '../src/labels.js';

describe('label keys and values (Kubernetes rules)', () => {
  it('accepts names, prefixed names and the edge lengths', () => {
    for (const key of ['env', 'a', 'A1', 'app.kubernetes.io/name', 'x/y', 'a_b.c-d', 'k'.repeat(63)]) {
      assert.equal(isLabelKey(key), true, key);
    }
    assert.equal(isLabelKey(`${'p'.repeat(253)}/name`), true);
  });

  it('rejects bad keys', () => {
    const bad = [
      '',
      '/name',
      'prefix/',
      'a/b/c',
      '-env',
      'env-',
      '.env',
      'en v',
      'k'.repeat(64),
      `${'p'.repeat(254)}/name`,
      'Upper.Case/name',
      'pre_fix/name',
      '__proto__',
      'é',
    ];
    for (const key of bad) assert.equal(isLabelKey(key), false, key);
  });

  it('accepts empty values and rejects bad ones', () => {
    for (const value of ['', 'prod', 'v1.2.3', 'a-b_c', 'v'.repeat(63)])
      assert.equal(isLabelValue(value), true);
    for (const value of ['-x', 'x-', 'a b', 'v'.repeat(64), 'a/b', 'ü'])
      assert.equal(isLabelValue(value), false);
  });
});

describe('validateLabels', () => {
  it('returns a frozen, null-prototype copy, keys sorted', () => {
    const input = { team: 'db', env: 'prod' };
    const labels = validateLabels(input);
    assert.equal(Object.isFrozen(labels), true);
    assert.equal(Object.getPrototypeOf(labels), null);
    assert.deepEqual(Object.keys(labels), ['env', 'team']);
    assert.notEqual(labels, input);
    input.env = 'dev';
    assert.equal(labels.env, 'prod');
  });

  it('gives the shared empty set for undefined', () => {
    assert.equal(validateLabels(undefined), NO_LABELS);
    assert.equal(Object.isFrozen(NO_LABELS), true);
  });

  it('names the bad label as labels.<key> in a TypeError or RangeError', () => {
    assert.throws(
      () => validateLabels({ env: 'prod', 'bad key': 'x' }),
      (error: Error & { option?: string }) =>
        error instanceof RangeError &&
        isOptionError(error) &&
        error.option === 'labels.bad key' &&
        /labels\.bad key/.test(error.message),
    );
    assert.throws(
      () => validateLabels({ env: '-prod' }),
      (error: Error & { option?: string }) =>
        error instanceof RangeError && error.option === 'labels.env' && /"-prod"/.test(error.message),
    );
    assert.throws(
      () => validateLabels({ env: 3 }),
      (error: Error & { option?: string }) => error instanceof TypeError && error.option === 'labels.env',
    );
    assert.throws(() => validateLabels(['a']), TypeError);
    assert.throws(() => validateLabels('env=prod'), TypeError);
    assert.throws(() => validateLabels(null), TypeError);
    assert.throws(
      () => validateLabels({ x: 'y!' }, 'providers.db.labels'),
      (error: Error & { option?: string }) =>
        error.option === 'providers.db.labels.x' && /`providers\.db\.labels\.x`/.test(error.message),
    );
  });

  it(`refuses more than ${MAX_LABELS} labels`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v']));
    assert.throws(() => validateLabels(many), /at most 64 labels, got 65/);
    delete many[`k${MAX_LABELS}`];
    assert.equal(Object.keys(validateLabels(many)).length, MAX_LABELS);
  });

  it('keeps a label named constructor as an own value', () => {
    const labels = validateLabels({ constructor: 'x' });
    assert.equal(labels.constructor, 'x');
  });

  it('accepts exactly what isLabelKey/isLabelValue accept (property)', () => {
    const chars = fc.constantFrom(...'aZ09._-/ é'.split(''));
    fc.assert(
      fc.property(
        fc.string({ unit: chars, maxLength: 12 }),
        fc.string({ unit: chars, maxLength: 12 }),
        (key, value) => {
          const valid = isLabelKey(key) && isLabelValue(value);
          let accepted = true;
          try {
            validateLabels({ [key]: value });
          } catch (error) {
            assert.equal(isOptionError(error), true);
            accepted = false;
          }
          assert.equal(accepted, valid);
        },
      ),
    );
  });
});

describe('validateDependsOn', () => {
  it('returns a frozen copy', () => {
    const deps = validateDependsOn(['a', 'b'], 'c');
    assert.deepEqual(deps, ['a', 'b']);
    assert.equal(Object.isFrozen(deps), true);
    assert.deepEqual(validateDependsOn(undefined, 'c'), []);
  });

  it('names the bad entry', () => {
    assert.throws(() => validateDependsOn('a', 'c'), /`dependsOn` to be an array/);
    assert.throws(
      () => validateDependsOn(['a', 1], 'c'),
      (e: Error & { option?: string }) => e.option === 'dependsOn[1]',
    );
    assert.throws(() => validateDependsOn(['a', ''], 'c'), /dependsOn\[1\]/);
    assert.throws(() => validateDependsOn(['a', 'a'], 'c'), /`dependsOn\[1\]`: listed twice/);
    assert.throws(() => validateDependsOn(['c'], 'c'), /cannot depend on itself/);
    assert.throws(
      () =>
        validateDependsOn(
          Array.from({ length: 65 }, (_, i) => `p${i}`),
          'c',
        ),
      /at most 64/,
    );
  });
});

function graph(entries: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(entries));
}

function dependencyError(fn: () => void): DependencyError {
  try {
    fn();
  } catch (error) {
    assert.equal(isDependencyError(error), true);
    return error as DependencyError;
  }
  assert.fail('expected a DependencyError');
}

describe('checkDependencies', () => {
  it('accepts a forest and a diamond', () => {
    checkDependencies(graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }));
    checkDependencies(new Map());
  });

  it('names an unknown dependency and who needs it', () => {
    const error = dependencyError(() => checkDependencies(graph({ a: [], b: ['a', 'cluster-eu'] })));
    assert.equal(error.kind, 'unknown');
    assert.equal(error.provider, 'b');
    assert.equal(error.dependency, 'cluster-eu');
    assert.match(error.message, /"b" depends on "cluster-eu", which is not registered/);
  });

  it('names the whole cycle', () => {
    const error = dependencyError(() =>
      checkDependencies(graph({ app: ['db'], db: ['net'], net: ['app'], web: ['app'], other: [] })),
    );
    assert.equal(error.kind, 'cycle');
    assert.deepEqual(error.cycle, ['app', 'db', 'net', 'app']);
    assert.equal(error.message, 'Dependency cycle: "app" → "db" → "net" → "app"');
  });

  it('finds a cycle reached through a non-cycle prefix, without its prefix', () => {
    const error = dependencyError(() => checkDependencies(graph({ a: ['b'], b: ['c'], c: ['d'], d: ['b'] })));
    assert.deepEqual(error.cycle, ['b', 'c', 'd', 'b']);
  });

  it('handles a 20,000-long chain without a stack overflow', () => {
    const chain = new Map<string, string[]>();
    for (let i = 0; i < 20_000; i++) chain.set(`p${i}`, i === 0 ? [] : [`p${i - 1}`]);
    checkDependencies(chain);
    chain.set('p0', ['p19999']);
    assert.equal(dependencyError(() => checkDependencies(chain)).cycle.length, 20_001);
  });

  it('finds a cycle exactly when one exists (property, against a reference)', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    fc.assert(
      fc.property(fc.array(fc.subarray(names), { minLength: 5, maxLength: 5 }), (deps) => {
        const g = new Map(names.map((name, i) => [name, deps[i] ?? []]));
        let cycle: readonly string[] | undefined;
        try {
          checkDependencies(g);
        } catch (error) {
          cycle = (error as DependencyError).cycle;
        }
        assert.equal(cycle !== undefined, hasCycle(g));
        if (cycle !== undefined) {
          // Each step of the reported cycle is an edge, and it closes on itself.
          assert.equal(cycle[0], cycle.at(-1));
          for (let i = 0; i + 1 < cycle.length; i++) assert.ok(g.get(cycle[i]!)!.includes(cycle[i + 1]!));
        }
      }),
    );
  });
});

/** Reference: a graph has a cycle iff repeatedly removing nodes without dependencies leaves some. */
function hasCycle(g: Map<string, string[]>): boolean {
  const left = new Map(g);
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, deps] of left) {
      if (deps.every((d) => !left.has(d))) {
        left.delete(name);
        changed = true;
      }
    }
  }
  return left.size > 0;
}
