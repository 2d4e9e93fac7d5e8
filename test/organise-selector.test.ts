import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { validateLabels, type Labels } from '../src/labels.js';
import {
  EVERYTHING,
  MAX_SELECTOR_LENGTH,
  MAX_SELECTOR_REQUIREMENTS,
  MAX_SELECTOR_SET_VALUES,
  SelectorError,
  isSelectorError,
  parseSelector,
} from '../src/selector.js';

const prodDb = validateLabels({ env: 'prod', team: 'db', tier: 'a' });
const devWeb = validateLabels({ env: 'dev', team: 'web', canary: '' });
const none: Labels = validateLabels(undefined);

function selects(selector: string, labels: Labels | undefined): boolean {
  return parseSelector(selector).matches(labels);
}

function selectorError(text: string): SelectorError {
  try {
    parseSelector(text);
  } catch (error) {
    assert.equal(isSelectorError(error), true, String(error));
    return error as SelectorError;
  }
  assert.fail(`expected ${JSON.stringify(text)} not to parse`);
}

describe('parseSelector: matching (Kubernetes semantics)', () => {
  it('equality, both spellings', () => {
    assert.equal(selects('env=prod', prodDb), true);
    assert.equal(selects('env==prod', prodDb), true);
    assert.equal(selects('env=prod', devWeb), false);
    assert.equal(selects('env=prod', none), false);
  });

  it('inequality: a missing label is not equal', () => {
    assert.equal(selects('team!=db', prodDb), false);
    assert.equal(selects('team!=db', devWeb), true);
    assert.equal(selects('team!=db', none), true);
  });

  it('in and notin', () => {
    assert.equal(selects('tier in (a,b)', prodDb), true);
    assert.equal(selects('tier in (b, c)', prodDb), false);
    assert.equal(selects('tier in (a,b)', devWeb), false);
    assert.equal(selects('tier notin (a,b)', prodDb), false);
    assert.equal(selects('tier notin (a,b)', devWeb), true);
  });

  it('exists and does-not-exist (an empty value exists)', () => {
    assert.equal(selects('canary', devWeb), true);
    assert.equal(selects('canary', prodDb), false);
    assert.equal(selects('!canary', prodDb), true);
    assert.equal(selects('!canary', devWeb), false);
    assert.equal(selects('canary=', devWeb), true);
  });

  it('all requirements must hold', () => {
    assert.equal(selects('env=prod,team!=web,tier in (a,b),!canary', prodDb), true);
    assert.equal(selects('env=prod,team!=db', prodDb), false);
  });

  it('the empty selector selects everything, even no labels', () => {
    for (const text of ['', '   ']) {
      assert.equal(parseSelector(text).empty, true);
      assert.equal(selects(text, none), true);
      assert.equal(selects(text, undefined), true);
    }
    assert.equal(EVERYTHING.matches(prodDb), true);
  });

  it('never matches inherited members of a plain labels object', () => {
    const plain = { env: 'prod' };
    assert.equal(parseSelector('constructor').matches(plain), false);
    assert.equal(parseSelector('!toString').matches(plain), true);
    assert.equal(parseSelector('hasOwnProperty!=x').matches(plain), true);
  });

  it('set lookups give the same answer above the linear-scan size', () => {
    const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
    const selector = parseSelector(`k in (${values.join(',')})`);
    for (const v of values) assert.equal(selector.matches({ k: v }), true);
    assert.equal(selector.matches({ k: 'v20' }), false);
  });
});

describe('parseSelector: canonical form', () => {
  it('sorts requirements by key and set values, spells = and keeps spaces only around sets', () => {
    const selector = parseSelector('  tier  notin ( c , a,a ) ,env==prod, !canary,team != db, zone ');
    assert.equal(selector.toString(), '!canary,env=prod,team!=db,tier notin (a,c),zone');
    assert.equal(
      JSON.stringify({ selector }),
      '{"selector":"!canary,env=prod,team!=db,tier notin (a,c),zone"}',
    );
    assert.deepEqual(
      selector.requirements.map((r) => [r.key, r.operator, r.values]),
      [
        ['canary', 'doesNotExist', []],
        ['env', 'equals', ['prod']],
        ['team', 'notEquals', ['db']],
        ['tier', 'notIn', ['a', 'c']],
        ['zone', 'exists', []],
      ],
    );
    assert.equal(Object.isFrozen(selector.requirements), true);
  });

  it('prefixed keys and a key spelt like an operator', () => {
    assert.equal(parseSelector('app.kubernetes.io/name=web').toString(), 'app.kubernetes.io/name=web');
    assert.equal(parseSelector('in').toString(), 'in');
    assert.equal(parseSelector('in in (in)').matches({ in: 'in' }), true);
  });
});

describe('parseSelector: errors name the position', () => {
  const cases: [string, number, RegExp][] = [
    ['tier in (', 9, /expected a value after "in \(" at position 9$/],
    ['env=prod,tier in (a,', 20, /expected a value after "," at position 20/],
    ['tier in ()', 9, /expected a value after "in \("/],
    ['tier in (a b)', 11, /expected "," or "\)", got "b"/],
    ['tier in (a', 10, /expected "," or "\)", got the end/],
    ['tier in a', 8, /expected "\(" after "in", got "a"/],
    ['env=prod,', 9, /expected a label key, got the end at position 9/],
    [',env', 0, /expected a label key, got ","/],
    ['env=prod)', 8, /expected "," or the end, got "\)"/],
    ['env prod', 4, /expected "=", "==", "!=", "in", "notin", "," or the end after key "env"/],
    ['!', 1, /expected a label key after "!", got the end/],
    ['!canary=1', 7, /expected "," or the end, got "="/],
    ['-env=prod', 0, /invalid label key "-env" \(a key name must/],
    ['env=-prod', 4, /invalid value "-prod"/],
    ['Upper/x=1', 0, /a key prefix must be a lower-case DNS subdomain/],
    ['env=pr od', 7, /expected "," or the end, got "o"/],
    ['env=prod;x', 8, /got ";"/],
    ['env=prød', 6, /got "ø"/],
  ];
  for (const [text, position, message] of cases) {
    it(JSON.stringify(text), () => {
      const error = selectorError(text);
      assert.equal(error.position, position);
      assert.match(error.message, message);
      assert.match(error.message, new RegExp(`^selector: .* at position ${position}$`));
      assert.equal(error.name, 'SelectorError');
    });
  }

  it('refuses a non-string with a TypeError', () => {
    assert.throws(() => parseSelector(42 as unknown as string), TypeError);
  });

  it(`bounds: ${MAX_SELECTOR_LENGTH} characters, ${MAX_SELECTOR_REQUIREMENTS} requirements, ${MAX_SELECTOR_SET_VALUES} set values`, () => {
    assert.equal(selectorError('a'.repeat(MAX_SELECTOR_LENGTH + 1)).position, MAX_SELECTOR_LENGTH);
    const requirements = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`).join(',');
    assert.equal(
      parseSelector(requirements(MAX_SELECTOR_REQUIREMENTS)).requirements.length,
      MAX_SELECTOR_REQUIREMENTS,
    );
    assert.match(
      selectorError(requirements(MAX_SELECTOR_REQUIREMENTS + 1)).message,
      /more than 64 requirements/,
    );
    const set = (n: number) => `k in (${Array.from({ length: n }, (_, i) => `v${i}`).join(',')})`;
    assert.equal(
      parseSelector(set(MAX_SELECTOR_SET_VALUES)).requirements[0]!.values.length,
      MAX_SELECTOR_SET_VALUES,
    );
    assert.match(selectorError(set(MAX_SELECTOR_SET_VALUES + 1)).message, /more than 256 values in a set/);
  });

  it('parses the longest selector quickly', () => {
    const text = Array.from({ length: 64 }, (_, i) => `key${i} in (${'v'.repeat(50)})`).join(',');
    const start = performance.now();
    for (let i = 0; i < 100; i++) parseSelector(text.slice(0, MAX_SELECTOR_LENGTH).replace(/,[^,]*$/, ''));
    assert.ok(performance.now() - start < 2_000);
  });
});

// Arbitraries for the round-trip property: valid keys, values and requirements.
const alnum = fc.constantFrom(...'abcXYZ019'.split(''));
const inner = fc.constantFrom(...'ab9._-'.split(''));
const name = fc
  .tuple(alnum, fc.string({ unit: inner, maxLength: 4 }), alnum)
  .map(([a, mid, b]) => `${a}${mid}${b}`)
  .filter((s) => s.length <= 63);
const key = fc.oneof(
  name,
  fc.tuple(fc.constantFrom('example.com', 'a.b-c'), name).map(([p, n]) => `${p}/${n}`),
);
const value = fc.oneof(fc.constant(''), name);
const requirement = fc.oneof(
  fc.tuple(key, value).map(([k, v]) => `${k}=${v}`),
  fc.tuple(key, value).map(([k, v]) => `${k} == ${v}`),
  fc.tuple(key, value).map(([k, v]) => `${k}!=${v}`),
  fc
    .tuple(key, fc.array(name, { minLength: 1, maxLength: 4 }))
    .map(([k, vs]) => `${k} in (${vs.join(', ')})`),
  fc
    .tuple(key, fc.array(name, { minLength: 1, maxLength: 4 }))
    .map(([k, vs]) => `${k} notin (${vs.join(',')})`),
  key,
  key.map((k) => `!${k}`),
);
const selectorText = fc.array(requirement, { maxLength: 6 }).map((rs) => rs.join(','));
const labelSet = fc.dictionary(fc.oneof(name, fc.constantFrom('a', 'b', 'example.com/a')), value, {
  maxKeys: 5,
});

describe('parseSelector: properties', () => {
  it('toString parses back to the same selector (same text, same matches)', () => {
    fc.assert(
      fc.property(selectorText, fc.array(labelSet, { maxLength: 5 }), (text, labelSets) => {
        const selector = parseSelector(text);
        const again = parseSelector(selector.toString());
        assert.equal(again.toString(), selector.toString());
        for (const labels of labelSets) assert.equal(again.matches(labels), selector.matches(labels));
      }),
      { numRuns: 500 },
    );
  });

  it('a conjunction matches exactly when each of its requirements matches', () => {
    fc.assert(
      fc.property(fc.array(requirement, { minLength: 1, maxLength: 5 }), labelSet, (requirements, labels) => {
        const all = parseSelector(requirements.join(',')).matches(labels);
        assert.equal(
          all,
          requirements.every((r) => parseSelector(r).matches(labels)),
        );
      }),
    );
  });

  it('any string either parses or throws a SelectorError inside the text (never anything else)', () => {
    const unit = fc.constantFrom(...'a=!,() in notin-._/ xé'.split(''));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        try {
          parseSelector(text);
        } catch (error) {
          assert.equal(isSelectorError(error), true);
          assert.ok(
            (error as SelectorError).position >= 0 && (error as SelectorError).position <= text.length,
          );
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
