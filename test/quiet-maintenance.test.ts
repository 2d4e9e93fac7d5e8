import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isOptionError, type OptionError } from '../src/errors.js';
import { validateLabels } from '../src/labels.js';
import { MAX_WINDOW_DURATION, parseMaintenanceWindow } from '../src/quiet/maintenance-window.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (date: Date | undefined) => date?.toISOString();

/** A daily 02:30 window of one hour in Berlin. */
const berlin = parseMaintenanceWindow({
  name: 'nightly',
  cron: '30 2 * * *',
  duration: HOUR,
  timeZone: 'Europe/Berlin',
  selector: 'env=prod',
  comment: 'backups',
});

function fieldError(input: unknown): OptionError {
  try {
    parseMaintenanceWindow(input, 'maintenance[0]');
  } catch (error) {
    assert.equal(isOptionError(error), true, String(error));
    return error as OptionError;
  }
  assert.fail('expected the window to be refused');
}

describe('MaintenanceWindow', () => {
  it('is in force from each start for its duration, in its time zone (winter: UTC+1)', () => {
    const start = Date.parse('2026-01-15T01:30:00Z'); // 02:30 CET
    assert.equal(berlin.activeAt(start - 1), undefined);
    assert.deepEqual(
      [iso(berlin.activeAt(start)?.start), iso(berlin.activeAt(start)?.end)],
      ['2026-01-15T01:30:00.000Z', '2026-01-15T02:30:00.000Z'],
    );
    assert.ok(berlin.activeAt(start + HOUR - 1));
    assert.equal(berlin.activeAt(start + HOUR), undefined);
    assert.equal(iso(berlin.nextStart(start - 1)), '2026-01-15T01:30:00.000Z');
    assert.equal(iso(berlin.nextStart(start)), '2026-01-16T01:30:00.000Z');
    assert.equal(iso(berlin.nextEnd(start + MINUTE)), '2026-01-15T02:30:00.000Z');
    assert.equal(iso(berlin.nextEnd(start + HOUR)), '2026-01-16T02:30:00.000Z');
  });

  it('summer time (UTC+2) moves the UTC start an hour earlier', () => {
    assert.equal(iso(berlin.activeAt(Date.parse('2026-07-01T00:45:00Z'))?.start), '2026-07-01T00:30:00.000Z');
    assert.equal(berlin.activeAt(Date.parse('2026-07-01T01:45:00Z')), undefined);
  });

  it('spring forward (2026-03-29, 02:00 → 03:00): the skipped 02:30 start happens at 03:00 local', () => {
    const days = [];
    let t = Date.parse('2026-03-27T00:00:00Z');
    for (let i = 0; i < 4; i++) {
      const start = berlin.nextStart(t)!;
      days.push(iso(start));
      t = start.getTime();
    }
    assert.deepEqual(days, [
      '2026-03-27T01:30:00.000Z', // 02:30 CET
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:30 does not exist that night
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    assert.equal(berlin.activeAt(Date.parse('2026-03-29T00:59:59Z')), undefined);
    assert.equal(iso(berlin.activeAt(Date.parse('2026-03-29T01:30:00Z'))?.end), '2026-03-29T02:00:00.000Z');
    assert.equal(berlin.activeAt(Date.parse('2026-03-29T02:00:00Z')), undefined);
  });

  it('fall back (2026-10-25, 03:00 → 02:00): 02:30 happens twice, the window starts once, at the first', () => {
    const first = Date.parse('2026-10-25T00:30:00Z'); // 02:30 CEST
    const second = Date.parse('2026-10-25T01:30:00Z'); // 02:30 CET, the repeated hour
    assert.equal(iso(berlin.activeAt(first)?.start), '2026-10-25T00:30:00.000Z');
    assert.equal(iso(berlin.activeAt(first)?.end), '2026-10-25T01:30:00.000Z');
    assert.equal(berlin.activeAt(second), undefined);
    assert.equal(berlin.activeAt(second + 30 * MINUTE), undefined);
    assert.equal(iso(berlin.nextStart(first)), '2026-10-26T01:30:00.000Z');
    assert.equal(iso(berlin.nextStart(Date.parse('2026-10-24T12:00:00Z'))), '2026-10-25T00:30:00.000Z');
  });

  it('defaults to UTC and accepts six fields (seconds)', () => {
    const window = parseMaintenanceWindow({
      name: 'w',
      cron: '15 0 3 * * 1',
      duration: MINUTE,
      selector: '',
    });
    assert.equal(window.timeZone, 'UTC');
    // 2026-01-05 is a Monday.
    assert.equal(iso(window.nextStart(Date.parse('2026-01-01T00:00:00Z'))), '2026-01-05T03:00:15.000Z');
    assert.equal(window.matches(undefined), true);
  });

  it('matches providers by selector', () => {
    assert.equal(berlin.matches(validateLabels({ env: 'prod' })), true);
    assert.equal(berlin.matches(validateLabels({ env: 'dev' })), false);
    assert.equal(berlin.selector.toString(), 'env=prod');
  });

  it('overlapping occurrences: the latest start counts', () => {
    const window = parseMaintenanceWindow({
      name: 'w',
      cron: '0 * * * *',
      duration: 90 * MINUTE,
      selector: '',
    });
    const at = Date.parse('2026-01-01T05:20:00Z');
    assert.equal(iso(window.activeAt(at)?.start), '2026-01-01T05:00:00.000Z');
    assert.equal(iso(window.nextEnd(at)), '2026-01-01T06:30:00.000Z');
  });

  it('serialises to its config form and is frozen', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(berlin)), {
      name: 'nightly',
      cron: '30 2 * * *',
      duration: HOUR,
      timeZone: 'Europe/Berlin',
      selector: 'env=prod',
      comment: 'backups',
    });
    assert.equal(Object.isFrozen(berlin), true);
  });

  it('activeAt agrees with the starts around it (property)', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 24 * 60 }), (minutes) => {
        const t = from + minutes * MINUTE;
        const active = berlin.activeAt(t);
        const next = berlin.nextStart(t)!;
        assert.ok(next.getTime() > t);
        if (active === undefined) {
          // Not in force: the next start is after t, and the end computed is that start's.
          assert.equal(berlin.nextEnd(t)!.getTime(), next.getTime() + HOUR);
        } else {
          assert.ok(active.start.getTime() <= t && t < active.end.getTime());
          assert.equal(berlin.nextEnd(t)!.getTime(), active.end.getTime());
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseMaintenanceWindow: errors name the field', () => {
  const valid = { name: 'w', cron: '0 3 * * *', duration: HOUR, timeZone: 'UTC', selector: 'env=prod' };
  const cases: [string, unknown, string, RegExp][] = [
    ['a non-object', 'x', 'maintenance[0]', /to be an object/],
    [
      'an unknown field',
      { ...valid, zone: 'UTC' },
      'maintenance[0].zone',
      /Unknown field `maintenance\[0\]\.zone`/,
    ],
    ['no name', { ...valid, name: '' }, 'maintenance[0].name', /non-empty string/],
    [
      'a bad cron',
      { ...valid, cron: '61 * * * *' },
      'maintenance[0].cron',
      /to be a cron expression \(Invalid value for minute: 61\), got "61 \* \* \* \*"/,
    ],
    ['a cron of the wrong shape', { ...valid, cron: 'every day' }, 'maintenance[0].cron', /cron expression/],
    ['a cron that never fires', { ...valid, cron: '0 0 30 2 *' }, 'maintenance[0].cron', /ever fires/],
    ['a non-string cron', { ...valid, cron: 5 }, 'maintenance[0].cron', /non-empty string/],
    [
      'a bad zone',
      { ...valid, timeZone: 'Mars/Olympus' },
      'maintenance[0].timeZone',
      /an IANA time zone such as "Europe\/Berlin", got "Mars\/Olympus"/,
    ],
    ['an offset as zone', { ...valid, timeZone: 'Europe/Nowhere' }, 'maintenance[0].timeZone', /IANA/],
    [
      'a string duration',
      { ...valid, duration: '1h' },
      'maintenance[0].duration',
      /a number of milliseconds/,
    ],
    ['a zero duration', { ...valid, duration: 0 }, 'maintenance[0].duration', /from 1000 ms/],
    [
      'a too long duration',
      { ...valid, duration: MAX_WINDOW_DURATION + 1 },
      'maintenance[0].duration',
      /7 days/,
    ],
    ['an infinite duration', { ...valid, duration: Infinity }, 'maintenance[0].duration', /7 days/],
    [
      'a bad selector',
      { ...valid, selector: 'env in (' },
      'maintenance[0].selector',
      /selector: expected a value after "in \(" at position 8/,
    ],
    ['no selector', { ...valid, selector: undefined }, 'maintenance[0].selector', /"" for every provider/],
    ['a long comment', { ...valid, comment: 'c'.repeat(1025) }, 'maintenance[0].comment', /at most 1024/],
  ];
  for (const [what, input, option, message] of cases) {
    it(what, () => {
      const error = fieldError(input);
      assert.equal(error.option, option);
      assert.match(error.message, message);
    });
  }

  it('canonicalises the zone name', () => {
    assert.equal(parseMaintenanceWindow({ ...valid, timeZone: 'europe/berlin' }).timeZone, 'Europe/Berlin');
  });
});
