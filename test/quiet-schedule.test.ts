import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateLabels } from '../src/labels.js';
import { MaintenanceSchedule, type WindowChange } from '../src/quiet/maintenance-schedule.js';
import { parseMaintenanceWindow } from '../src/quiet/maintenance-window.js';
import { ManualClock } from '../src/testing/manual-clock.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const prod = validateLabels({ env: 'prod' });
const dev = validateLabels({ env: 'dev' });

const nightly = parseMaintenanceWindow({
  name: 'nightly',
  cron: '30 2 * * *',
  duration: HOUR,
  timeZone: 'Europe/Berlin',
  selector: 'env=prod',
});

function follow(start: string, windows = [nightly]) {
  const clock = new ManualClock(Date.parse(start));
  const schedule = new MaintenanceSchedule(windows, { clock });
  const log: string[] = [];
  const record = (kind: string) => (change: WindowChange) =>
    log.push(`${kind} ${change.window.name} ${new Date(clock.now()).toISOString()}`);
  schedule.onStarted(record('started'));
  schedule.onEnded(record('ended'));
  return { clock, schedule, log };
}

describe('MaintenanceSchedule on the injected clock', () => {
  it('opens and closes a 02:30 Berlin window across the spring change (2026-03-29)', async () => {
    const { clock, schedule, log } = follow('2026-03-28T00:00:00Z');
    assert.deepEqual(schedule.inWindow(prod), []);
    await clock.advance(3 * DAY);
    assert.deepEqual(log, [
      'started nightly 2026-03-28T01:30:00.000Z', // 02:30 CET
      'ended nightly 2026-03-28T02:30:00.000Z',
      'started nightly 2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:30 was skipped
      'ended nightly 2026-03-29T02:00:00.000Z',
      'started nightly 2026-03-30T00:30:00.000Z', // 02:30 CEST
      'ended nightly 2026-03-30T01:30:00.000Z',
    ]);
    assert.equal(clock.pendingTimers, 1);
    schedule.dispose();
    assert.equal(clock.pendingTimers, 0);
  });

  it('opens once across the autumn change (2026-10-25), when 02:30 happens twice', async () => {
    const { clock, log } = follow('2026-10-24T00:00:00Z');
    await clock.advance(3 * DAY);
    assert.deepEqual(log, [
      'started nightly 2026-10-24T00:30:00.000Z', // 02:30 CEST
      'ended nightly 2026-10-24T01:30:00.000Z',
      'started nightly 2026-10-25T00:30:00.000Z', // the first 02:30, still CEST
      'ended nightly 2026-10-25T01:30:00.000Z', // the second 02:30 (CET) opens nothing
      'started nightly 2026-10-26T01:30:00.000Z', // 02:30 CET
      'ended nightly 2026-10-26T02:30:00.000Z',
    ]);
  });

  it('answers inWindow by selector, only while a window is open', async () => {
    const { clock, schedule } = follow('2026-01-15T01:00:00Z');
    await clock.advance(30 * MINUTE);
    assert.deepEqual(schedule.inWindow(prod), ['nightly']);
    assert.deepEqual(schedule.inWindow(dev), []);
    assert.deepEqual(
      schedule.active().map((a) => [a.window.name, a.occurrence.end.toISOString()]),
      [['nightly', '2026-01-15T02:30:00.000Z']],
    );
    await clock.advance(HOUR);
    assert.deepEqual(schedule.inWindow(prod), []);
  });

  it('a window already open when built emits no start but is in force, and emits its end', async () => {
    const { clock, schedule, log } = follow('2026-01-15T01:45:00Z');
    assert.deepEqual(schedule.inWindow(prod), ['nightly']);
    await clock.advance(HOUR);
    assert.deepEqual(log, ['ended nightly 2026-01-15T02:30:00.000Z']);
  });

  it('a window whose occurrences overlap stays open (no end between them)', async () => {
    const hourly = parseMaintenanceWindow({
      name: 'hourly',
      cron: '0 * * * *',
      duration: 90 * MINUTE,
      selector: '',
    });
    // Every hour for 90 minutes: always in force, so open from the start and never closed.
    const { clock, schedule, log } = follow('2026-01-01T00:30:00Z', [hourly]);
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(schedule.inWindow(undefined), ['hourly']);
      await clock.advance(30 * MINUTE);
    }
    assert.deepEqual(log, []);
    assert.equal(clock.pendingTimers, 1);
  });

  it('refuses two windows with one name', () => {
    assert.throws(() => new MaintenanceSchedule([nightly, nightly]), /`maintenance\[1\]\.name` to be unique/);
  });

  it('reads have no side effects and emit nothing', () => {
    const { schedule, log } = follow('2026-01-15T01:45:00Z');
    for (let i = 0; i < 3; i++) schedule.inWindow(prod);
    schedule.active();
    assert.deepEqual(log, []);
  });
});
