import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isOptionError, type OptionError } from '../src/errors.js';
import {
  MAX_SILENCE_COMMENT_LENGTH,
  MAX_SILENCE_CREATED_BY_LENGTH,
  MAX_SILENCE_DURATION,
  MAX_SILENCE_NAMES,
  parseSilenceInput,
  parseStoredSilence,
  silenceToJSON,
} from '../src/quiet/silence.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const valid = {
  matchers: 'env=prod, team!=db',
  endsAt: '2026-03-01T14:00:00Z',
  comment: 'database upgrade',
  createdBy: 'alice',
};

function fieldError(input: unknown, now = NOW): OptionError {
  try {
    parseSilenceInput(input, now);
  } catch (error) {
    assert.equal(isOptionError(error), true, String(error));
    return error as OptionError;
  }
  assert.fail('expected the input to be refused');
}

describe('parseSilenceInput', () => {
  it('builds a frozen silence with a new UUID, a canonical selector and defaults', () => {
    const silence = parseSilenceInput(valid, NOW);
    assert.match(silence.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(parseSilenceInput(valid, NOW).id, silence.id);
    assert.equal(silence.matchers, 'env=prod,team!=db');
    assert.equal(silence.startsAt.getTime(), NOW);
    assert.equal(silence.endsAt.toISOString(), '2026-03-01T14:00:00.000Z');
    assert.equal(silence.endsOnRecovery, false);
    assert.equal(Object.isFrozen(silence), true);
  });

  it('takes a list of names (sorted, distinct), a duration, a future start and endsOnRecovery', () => {
    const silence = parseSilenceInput(
      {
        matchers: ['web', 'db', 'web'],
        startsAt: '2026-03-02T00:00:00+01:00',
        duration: 2 * HOUR,
        comment: 'c',
        createdBy: 'ci',
        endsOnRecovery: true,
      },
      NOW,
    );
    assert.deepEqual(silence.matchers, ['db', 'web']);
    assert.equal(silence.startsAt.toISOString(), '2026-03-01T23:00:00.000Z');
    assert.equal(silence.endsAt.toISOString(), '2026-03-02T01:00:00.000Z');
    assert.equal(silence.endsOnRecovery, true);
  });

  it('counts a start in the past from now', () => {
    const silence = parseSilenceInput({ ...valid, startsAt: '2026-03-01T00:00:00Z' }, NOW);
    assert.equal(silence.startsAt.getTime(), NOW);
  });

  it('accepts Date objects (library callers)', () => {
    const silence = parseSilenceInput({ ...valid, endsAt: new Date(NOW + HOUR) }, NOW);
    assert.equal(silence.endsAt.getTime(), NOW + HOUR);
  });

  const refused: [string, unknown, string, RegExp][] = [
    ['not an object', 'x', 'body', /silence: body must be an object/],
    ['an array', [], 'body', /body must be an object/],
    [
      'an unknown field (a typo)',
      { ...valid, endAt: 'x' },
      'endAt',
      /unknown field "endAt" \(known: matchers, /,
    ],
    ['an id (given by the server)', { ...valid, id: 'x' }, 'id', /unknown field "id"/],
    [
      '__proto__ in a JSON body',
      JSON.parse('{"__proto__": {"x": 1}}'),
      '__proto__',
      /unknown field "__proto__"/,
    ],
    [
      'no matchers',
      { ...valid, matchers: undefined },
      'matchers',
      /matchers must be a selector string or an array/,
    ],
    [
      'a bad selector',
      { ...valid, matchers: 'env in (' },
      'matchers',
      /silence: matchers: selector: expected a value after "in \(" at position 8/,
    ],
    ['an empty selector', { ...valid, matchers: '  ' }, 'matchers', /at least one requirement/],
    ['no names', { ...valid, matchers: [] }, 'matchers', /1 to 1000 provider names/],
    ['a bad name', { ...valid, matchers: ['a', 3] }, 'matchers[1]', /matchers\[1\] must be a provider name/],
    ['an empty name', { ...valid, matchers: [''] }, 'matchers[0]', /matchers\[0\]/],
    ['no end', { ...valid, endsAt: undefined }, 'endsAt', /exactly one of them/],
    ['both end and duration', { ...valid, duration: HOUR }, 'endsAt', /exactly one of them/],
    [
      'a time without a zone',
      { ...valid, endsAt: '2026-03-01T14:00:00' },
      'endsAt',
      /RFC 3339 time with a zone/,
    ],
    ['a date alone', { ...valid, endsAt: '2026-03-02' }, 'endsAt', /RFC 3339/],
    ['an impossible time', { ...valid, endsAt: '2026-02-30T99:00:00Z' }, 'endsAt', /RFC 3339/],
    ['a number as time', { ...valid, endsAt: NOW + HOUR }, 'endsAt', /endsAt must be an RFC 3339 time/],
    [
      'an end in the past',
      { ...valid, endsAt: '2026-03-01T11:00:00Z' },
      'endsAt',
      /endsAt must be in the future/,
    ],
    ['an end at now', { ...valid, endsAt: new Date(NOW) }, 'endsAt', /in the future/],
    [
      'an inverted silence',
      { ...valid, startsAt: '2026-03-01T15:00:00Z' },
      'endsAt',
      /endsAt must be after startsAt \(2026-03-01T15:00:00.000Z\), got "2026-03-01T14:00:00Z"/,
    ],
    [
      'a zero-length silence',
      { ...valid, startsAt: '2026-03-01T14:00:00Z' },
      'endsAt',
      /endsAt must be after startsAt/,
    ],
    [
      'a zero duration',
      { ...valid, endsAt: undefined, duration: 0 },
      'duration',
      /duration must be greater than 0/,
    ],
    [
      'a NaN duration',
      { ...valid, endsAt: undefined, duration: NaN },
      'duration',
      /a number of milliseconds/,
    ],
    [
      'a string duration',
      { ...valid, endsAt: undefined, duration: '1h' },
      'duration',
      /a number of milliseconds/,
    ],
    [
      'more than 30 days',
      { ...valid, endsAt: undefined, duration: MAX_SILENCE_DURATION + 1 },
      'duration',
      /at most 30 days after startsAt/,
    ],
    [
      'a start over a year ahead',
      { ...valid, startsAt: '2027-03-02T12:00:00Z' },
      'startsAt',
      /365 days ahead/,
    ],
    ['no comment', { ...valid, comment: ' ' }, 'comment', /comment must be a non-empty string/],
    [
      'a long comment',
      { ...valid, comment: 'x'.repeat(MAX_SILENCE_COMMENT_LENGTH + 1) },
      'comment',
      /at most 1024 characters, got a string of 1025 characters/,
    ],
    ['no author', { ...valid, createdBy: undefined }, 'createdBy', /createdBy must be a non-empty string/],
    [
      'a long author',
      { ...valid, createdBy: 'x'.repeat(MAX_SILENCE_CREATED_BY_LENGTH + 1) },
      'createdBy',
      /at most 256/,
    ],
    ['a non-boolean endsOnRecovery', { ...valid, endsOnRecovery: 'yes' }, 'endsOnRecovery', /a boolean/],
  ];
  for (const [what, input, option, message] of refused) {
    it(`refuses ${what}, naming ${option}`, () => {
      const error = fieldError(input);
      assert.equal(error.option, option);
      assert.equal(error.scope, 'silence');
      assert.match(error.message, message);
    });
  }

  it(`bounds the names to ${MAX_SILENCE_NAMES}`, () => {
    const names = Array.from({ length: MAX_SILENCE_NAMES + 1 }, (_, i) => `p${i}`);
    assert.equal(fieldError({ ...valid, matchers: names }).option, 'matchers');
    assert.equal(
      (parseSilenceInput({ ...valid, matchers: names.slice(1) }, NOW).matchers as string[]).length,
      1000,
    );
  });

  it('accepts exactly 30 days', () => {
    const silence = parseSilenceInput({ ...valid, endsAt: undefined, duration: MAX_SILENCE_DURATION }, NOW);
    assert.equal(silence.endsAt.getTime() - silence.startsAt.getTime(), MAX_SILENCE_DURATION);
  });

  it('never throws anything but an option error for any JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        try {
          parseSilenceInput(json, NOW);
        } catch (error) {
          assert.equal(isOptionError(error), true, String(error));
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('stored silences', () => {
  it('round-trip through JSON', () => {
    const silence = parseSilenceInput({ ...valid, endsOnRecovery: true }, NOW);
    const json = JSON.parse(JSON.stringify(silenceToJSON(silence))) as unknown;
    assert.deepEqual(parseStoredSilence(json), silence);
  });

  it('may lie in the past, but keep their own rules', () => {
    const stored = silenceToJSON(parseSilenceInput(valid, NOW));
    assert.equal(
      parseStoredSilence({ ...stored, startsAt: '2020-01-01T00:00:00Z', endsAt: '2020-01-02T00:00:00Z' }).id,
      stored.id,
    );
    assert.throws(
      () => parseStoredSilence({ ...stored, id: 'nope' }),
      /silence: id must be a lower-case UUID/,
    );
    assert.throws(
      () => parseStoredSilence({ ...stored, endsAt: stored.startsAt }),
      /endsAt must be after startsAt/,
    );
    assert.throws(() => parseStoredSilence({ ...stored, extra: 1 }), /unknown field "extra"/);
  });
});
