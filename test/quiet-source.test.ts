import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HealthCache,
  OptionRangeError,
  OptionTypeError,
  ProviderRegistry,
  validateLabels,
  type HealthReport,
} from '../src/index.js';
import {
  MaintenanceSchedule,
  SilenceConflictError,
  SilenceSet,
  createSilenceSource,
  followRecovery,
  localSilenceControl,
  parseMaintenanceWindow,
  type SilenceExpiry,
} from '../src/quiet/index.js';
import { ManualClock } from '../src/testing/index.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const prod = validateLabels({ env: 'prod' });
const dev = validateLabels({ env: 'dev' });
const iso = (ms: number): string => new Date(ms).toISOString();

function input(overrides: Record<string, unknown> = {}) {
  return { matchers: 'env=prod', duration: HOUR, comment: 'upgrade', createdBy: 'alice', ...overrides };
}

const nightly = parseMaintenanceWindow({
  name: 'nightly',
  cron: '30 2 * * *',
  duration: HOUR,
  timeZone: 'Europe/Berlin',
  selector: 'env=prod',
});

describe('createSilenceSource', () => {
  it(
    'answers from the set, and fires onChange when a silence in force is added, expired or ends',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
      const set = new SilenceSet({ clock });
      const source = createSilenceSource({ silences: set, clock });
      let changes = 0;
      source.onChange(() => changes++);
      assert.deepEqual(source.silencedBy('api', prod), []);
      const first = set.add(input());
      assert.equal(changes, 1);
      assert.deepEqual(source.silencedBy('api', prod), [first.id]);
      assert.deepEqual(source.silencedBy('web', dev), []);
      assert.deepEqual(source.silencedBy('api', dev), [], 'relabelled: asked again, not the kept answer');
      const byName = set.add(input({ matchers: ['web'], duration: 2 * HOUR }));
      assert.equal(changes, 2);
      assert.deepEqual(source.silencedBy('web', dev), [byName.id]);
      assert.equal(set.expire(byName.id), true);
      assert.equal(changes, 3);
      assert.deepEqual(source.silencedBy('web', dev), []);
      await clock.advance(HOUR); // the first silence ends
      assert.equal(changes, 4);
      assert.deepEqual(source.silencedBy('api', prod), []);
      source.dispose();
      set.add(input());
      assert.equal(changes, 4, 'disposed: no longer follows the set');
      set.dispose();
    },
  );

  it(
    'announces a pending silence when it starts (one timer), and not when it is added',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
      const set = new SilenceSet({ clock });
      const source = createSilenceSource({ silences: set, clock });
      const log: string[] = [];
      source.onChange(() => log.push(`${iso(clock.now())} ${source.silencedBy('api', prod).length}`));
      const later = set.add(input({ startsAt: '2026-03-01T14:00:00Z' }));
      set.add(input({ startsAt: '2026-03-01T13:00:00Z', duration: 30 * MINUTE, matchers: ['other'] }));
      assert.deepEqual(log, [], 'pending: no answer changed');
      assert.deepEqual(source.silencedBy('api', prod), []);
      await clock.advance(3 * HOUR);
      assert.deepEqual(log, [
        '2026-03-01T13:00:00.000Z 0', // the silence of "other" starts
        '2026-03-01T13:30:00.000Z 0', // and ends
        '2026-03-01T14:00:00.000Z 1',
        '2026-03-01T15:00:00.000Z 0',
      ]);
      assert.equal(set.get(later.id), undefined, 'ended');
      // A pending silence expired before its start: nothing to announce.
      const pending = set.add(input({ startsAt: '2026-03-02T00:00:00Z' }));
      set.expire(pending.id);
      assert.equal(log.length, 4);
      source.dispose();
      set.dispose();
      assert.equal(clock.pendingTimers, 0, 'no timer left behind');
    },
  );

  it(
    'still announces a start when a change that announces nothing comes at the same instant',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
      const set = new SilenceSet({ clock });
      const source = createSilenceSource({ silences: set, clock });
      const log: string[] = [];
      source.onChange(() => log.push(`${iso(clock.now())} ${source.silencedBy('api', prod).length}`));
      const pending = set.add(input({ startsAt: '2026-03-01T16:00:00Z', matchers: ['other'] }));
      // Due at 14:00 like the start below, and set first, so it runs first.
      clock.setTimeout(() => set.expire(pending.id), 2 * HOUR);
      set.add(input({ startsAt: '2026-03-01T14:00:00Z' }));
      await clock.advance(2 * HOUR);
      assert.deepEqual(log, ['2026-03-01T14:00:00.000Z 1']);
      source.dispose();
      set.dispose();
    },
  );

  it('adds the open maintenance windows, sorted with the silence ids', { timeout: 10_000 }, async () => {
    const clock = new ManualClock(Date.parse('2026-03-28T00:00:00Z'));
    const set = new SilenceSet({ clock });
    const schedule = new MaintenanceSchedule([nightly], { clock });
    const source = createSilenceSource({ silences: set, schedule, clock });
    const log: string[] = [];
    source.onChange(() => log.push(`${iso(clock.now())} ${source.silencedBy('api', prod).join(',')}`));
    await clock.advance(90 * MINUTE); // 01:30Z = 02:30 CET
    assert.deepEqual(source.silencedBy('api', prod), ['nightly']);
    assert.deepEqual(source.silencedBy('web', dev), []);
    const silence = set.add(input({ matchers: 'env in (prod,dev)' }));
    assert.deepEqual(source.silencedBy('api', prod), [silence.id, 'nightly'].sort());
    await clock.advance(2 * HOUR);
    assert.deepEqual(log, [
      '2026-03-28T01:30:00.000Z nightly',
      `2026-03-28T01:30:00.000Z ${[silence.id, 'nightly'].sort().join(',')}`,
      // Window and silence end together: each answer is exact for its time, both are gone at once.
      '2026-03-28T02:30:00.000Z ',
      '2026-03-28T02:30:00.000Z ',
    ]);
    source.dispose();
    schedule.dispose();
    set.dispose();
  });

  it('refuses what is not a SilenceSet or a MaintenanceSchedule', () => {
    assert.throws(
      () => createSilenceSource({ silences: {} as never }),
      (error: unknown) => error instanceof OptionTypeError && error.option === 'silences',
    );
    assert.throws(
      () => createSilenceSource({ schedule: [] as never }),
      (error: unknown) => error instanceof OptionTypeError && error.option === 'schedule',
    );
    assert.deepEqual(createSilenceSource().silencedBy('x', prod), [], 'an empty source silences nothing');
  });
});

describe('a HealthCache following a SilenceSource', () => {
  it(
    'silences a provider for a Berlin 02:30 window across the spring change (2026-03-29)',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-28T22:05:00Z'));
      const schedule = new MaintenanceSchedule([nightly], { clock });
      const source = createSilenceSource({ schedule, clock });
      const registry = new ProviderRegistry();
      const ok = { healthCheck: (): Promise<HealthReport> => Promise.resolve({ healthy: true }) };
      registry.register('api', ok, { labels: { env: 'prod' } });
      registry.register('dev', ok, { labels: { env: 'dev' } });
      const cache = new HealthCache(registry, {
        clock,
        silences: source,
        pollInterval: 20 * MINUTE,
        checkTimeout: 1_000,
        historySize: 100,
      });
      const log: string[] = [];
      let last = '';
      cache.onChange(({ name, status }) => {
        const now = `${name} ${status?.silencedBy.join(',') ?? ''}`;
        if (name === 'api' && now !== last) log.push(`${iso(clock.now())} ${(last = now)}`);
        if (name === 'dev' && status?.silencedBy.length !== 0)
          log.push(`dev silenced at ${iso(clock.now())}`);
      });
      const stop = new AbortController();
      const running = cache.run(stop.signal);
      await clock.advance(DAY + HOUR); // to 2026-03-29T23:05Z
      stop.abort();
      await running;
      assert.deepEqual(log, [
        '2026-03-28T22:05:00.000Z api ',
        '2026-03-29T01:00:00.000Z api nightly', // 03:00 CEST: 02:30 does not exist that night
        '2026-03-29T02:00:00.000Z api ',
      ]);
      const silenced = cache
        .history('api')
        .filter((sample) => sample.silenced)
        .map((sample) => iso(sample.checkedAt.getTime()));
      assert.deepEqual(silenced, [
        '2026-03-29T01:05:00.000Z',
        '2026-03-29T01:25:00.000Z',
        '2026-03-29T01:45:00.000Z',
      ]);
      const { history } = cache.get('api')!;
      assert.equal(history.silencedSamples, 3);
      assert.equal(history.uptimeExcludingSilenced, 1);
      assert.equal(cache.get('dev')?.history.silencedSamples, 0);
      // The next night, in summer time: 02:30 CEST is 00:30Z.
      await clock.advance(90 * MINUTE); // 2026-03-30T00:35Z
      assert.deepEqual(cache.get('api')?.silencedBy, ['nightly']);
      cache.dispose();
      source.dispose();
      schedule.dispose();
    },
  );

  it(
    'sees a silence added through localSilenceControl at once, and its end',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
      const set = new SilenceSet({ clock });
      const source = createSilenceSource({ silences: set, clock });
      const registry = new ProviderRegistry();
      registry.register('api', {}, { labels: { env: 'prod' } });
      const cache = new HealthCache(registry, { clock, silences: source });
      await cache.checkNow();
      const control = localSilenceControl(set);
      const silence = await control.add(input({ duration: 10 * MINUTE }));
      assert.deepEqual(cache.get('api')?.silencedBy, [silence.id]);
      await clock.advance(10 * MINUTE);
      assert.deepEqual(cache.get('api')?.silencedBy, []);
      cache.dispose();
      source.dispose();
      set.dispose();
    },
  );
});

describe('followRecovery', () => {
  function setup() {
    const clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
    const set = new SilenceSet({ clock });
    const registry = new ProviderRegistry();
    const up = new Map<string, boolean | 'degraded'>();
    const provider = (name: string) => ({
      healthCheck: (): Promise<HealthReport> => {
        const state = up.get(name) ?? true;
        return Promise.resolve({ healthy: state !== false, degraded: state === 'degraded' });
      },
    });
    registry.register('api', provider('api'), { labels: { env: 'prod' } });
    registry.register('db', provider('db'), { labels: { env: 'prod' } });
    registry.register('web', provider('web'), { labels: { env: 'dev' } });
    const cache = new HealthCache(registry, { clock });
    const follow = followRecovery(set, cache);
    const ended: SilenceExpiry[] = [];
    set.onExpired((expiry) => ended.push(expiry));
    return { clock, set, cache, up, follow, ended };
  }

  it(
    'ends an endsOnRecovery silence once every provider it matches is healthy again',
    { timeout: 10_000 },
    async () => {
      const { set, cache, up, ended, follow } = setup();
      up.set('api', false);
      up.set('db', false);
      await cache.checkNow();
      const recovering = set.add(input({ endsOnRecovery: true }));
      const plain = set.add(input({ matchers: ['api', 'db'] }));
      up.set('api', true);
      await cache.checkNow();
      assert.ok(set.get(recovering.id), 'db still fails');
      up.set('db', true);
      await cache.checkNow();
      assert.equal(set.get(recovering.id), undefined);
      assert.deepEqual(
        ended.map((e) => [e.silence.id, e.reason]),
        [[recovering.id, 'recovered']],
      );
      assert.ok(set.get(plain.id), 'a silence without endsOnRecovery stays');
      follow.dispose();
      set.dispose();
    },
  );

  it(
    'waits for a recovery: a silence added while its providers are healthy stays',
    { timeout: 10_000 },
    async () => {
      const { set, cache, up, ended, follow } = setup();
      await cache.checkNow();
      const planned = set.add(input({ matchers: ['web'], endsOnRecovery: true }));
      await cache.checkNow();
      assert.ok(set.get(planned.id), 'healthy all along: no recovery yet');
      up.set('web', 'degraded');
      await cache.checkNow();
      up.set('web', true);
      await cache.checkNow();
      assert.ok(set.get(planned.id), 'healthy to degraded and back is no recovery');
      up.set('web', false);
      await cache.checkNow();
      up.set('web', true);
      await cache.checkNow();
      assert.equal(set.get(planned.id), undefined, 'ended at the recovery');
      assert.equal(ended[0]?.reason, 'recovered');
      // Disposed: recoveries no longer end silences.
      follow.dispose();
      const next = set.add(input({ matchers: ['web'], endsOnRecovery: true }));
      up.set('web', false);
      await cache.checkNow();
      up.set('web', true);
      await cache.checkNow();
      assert.ok(set.get(next.id));
      set.dispose();
    },
  );
});

describe('localSilenceControl', () => {
  it(
    'lists, adds, expires and shows the open windows; bad input changes nothing',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock(Date.parse('2026-03-28T01:40:00Z')); // inside 02:30–03:30 CET
      const set = new SilenceSet({ clock });
      const schedule = new MaintenanceSchedule([nightly], { clock });
      const control = localSilenceControl(set, schedule);
      assert.deepEqual(
        control.openWindows().map((w) => [w.window.name, iso(w.occurrence.start.getTime())]),
        [['nightly', '2026-03-28T01:30:00.000Z']],
      );
      assert.deepEqual(localSilenceControl(set).openWindows(), []);
      const silence = await control.add(input());
      assert.deepEqual(control.list(), [silence]);
      await assert.rejects(
        control.add(input({ duration: -1 })),
        (error: unknown) => error instanceof OptionRangeError && error.option === 'duration',
      );
      await assert.rejects(control.add(input()), SilenceConflictError);
      const aborted = AbortSignal.abort();
      await assert.rejects(control.add(input({ matchers: ['x'] }), aborted), { name: 'AbortError' });
      await assert.rejects(control.expire(silence.id, aborted), { name: 'AbortError' });
      assert.deepEqual(control.list(), [silence], 'nothing changed');
      assert.equal(await control.expire(silence.id), true);
      assert.equal(await control.expire(silence.id), false);
      assert.deepEqual(control.list(), []);
      schedule.dispose();
      set.dispose();
    },
  );
});
