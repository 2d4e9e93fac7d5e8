import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDisposedError, isOptionError } from '../src/errors.js';
import { validateLabels } from '../src/labels.js';
import { parseSilenceInput, type Silence } from '../src/quiet/silence.js';
import {
  SilenceConflictError,
  SilenceLimitError,
  SilenceSet,
  type SilenceExpiry,
} from '../src/quiet/silence-set.js';
import { ManualClock } from '../src/testing/manual-clock.js';

const START = Date.parse('2026-03-01T12:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const prod = validateLabels({ env: 'prod', team: 'db' });
const dev = validateLabels({ env: 'dev' });

function setup(maxSilences?: number) {
  const clock = new ManualClock(START);
  const set = new SilenceSet({ clock, maxSilences });
  const added: Silence[] = [];
  const expired: SilenceExpiry[] = [];
  set.onAdded((silence) => added.push(silence));
  set.onExpired((expiry) => expired.push(expiry));
  return { clock, set, added, expired };
}

function input(overrides: Record<string, unknown> = {}) {
  return { matchers: 'env=prod', duration: HOUR, comment: 'upgrade', createdBy: 'alice', ...overrides };
}

describe('SilenceSet', () => {
  it('answers which silences are in force for a provider', () => {
    const { set, added } = setup();
    const bySelector = set.add(input());
    const byName = set.add(input({ matchers: ['web'] }));
    assert.deepEqual(added, [bySelector, byName]);
    assert.deepEqual(set.silencedBy('db', prod), [bySelector.id]);
    assert.deepEqual(set.silencedBy('db', dev), []);
    assert.deepEqual(set.silencedBy('web', dev), [byName.id]);
    assert.deepEqual(set.silencedBy('web', prod), [bySelector.id, byName.id].sort());
    assert.deepEqual(set.silencedBy('other', undefined), []);
    assert.equal(set.get(byName.id), byName);
    assert.deepEqual(
      set
        .list()
        .map((s) => s.id)
        .sort(),
      [bySelector.id, byName.id].sort(),
    );
  });

  it('a future silence is pending: listed, not in force, until it starts', async () => {
    const { clock, set } = setup();
    const later = set.add(input({ startsAt: new Date(START + HOUR), duration: HOUR }));
    assert.deepEqual(set.silencedBy('db', prod), []);
    assert.deepEqual(set.list(), [later]);
    await clock.advance(HOUR);
    assert.deepEqual(set.silencedBy('db', prod), [later.id]);
  });

  it('ends a silence at its end through one timer, emitting expired once', async () => {
    const { clock, set, expired } = setup();
    const short = set.add(input({ duration: 10 * MINUTE }));
    const long = set.add(input({ matchers: 'team=db', duration: HOUR }));
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(10 * MINUTE - 1);
    assert.deepEqual(set.silencedBy('db', prod), [short.id, long.id].sort());
    await clock.advance(1);
    assert.deepEqual(set.silencedBy('db', prod), [long.id]);
    assert.deepEqual(expired, [{ silence: short, reason: 'ended' }]);
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(HOUR);
    assert.deepEqual(
      expired.map((e) => e.silence.id),
      [short.id, long.id],
    );
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual(set.list(), []);
  });

  it('reads have no side effects: past its end a silence is out of force before the timer runs', () => {
    // A clock whose timers never run, as when the event loop is late.
    let now = START;
    const stalled = { now: () => now, setTimeout: () => 1, clearTimeout: () => {} };
    const set = new SilenceSet({ clock: stalled });
    const expired: SilenceExpiry[] = [];
    set.onExpired((expiry) => expired.push(expiry));
    const silence = set.add(input({ duration: MINUTE }));
    assert.deepEqual(set.silencedBy('db', prod), [silence.id]);
    now += MINUTE;
    assert.deepEqual(set.silencedBy('db', prod), []);
    assert.deepEqual(set.list(), []);
    assert.equal(set.get(silence.id), undefined);
    assert.equal(set.expire(silence.id), false);
    // Nothing was emitted by reading: that is the timer's job.
    assert.deepEqual(expired, []);
  });

  it('expire(id) ends it now, emits, and is false for unknown or gone ids', async () => {
    const { clock, set, expired } = setup();
    const silence = set.add(input());
    await clock.advance(MINUTE);
    assert.equal(set.expire(silence.id), true);
    assert.deepEqual(set.silencedBy('db', prod), []);
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.reason, 'expired');
    assert.equal(expired[0]!.silence.endsAt.getTime(), START + MINUTE);
    assert.equal(set.expire(silence.id), false);
    assert.equal(set.expire('nope'), false);
    assert.equal(set.get(silence.id), undefined);
    assert.equal(clock.pendingTimers, 0);
  });

  it('refuses an overlapping silence with the same matchers, naming the one there', async () => {
    const { clock, set } = setup();
    const first = set.add(input({ matchers: 'team=db,env=prod' }));
    assert.throws(
      () => set.add(input({ matchers: 'env==prod, team=db', startsAt: new Date(START + 30 * MINUTE) })),
      (error: unknown) => error instanceof SilenceConflictError && error.existing === first.id,
    );
    // A new silence starting before a pending one and running into it conflicts too.
    const pending = set.add(input({ matchers: ['x'], startsAt: new Date(START + HOUR) }));
    assert.throws(
      () => set.add(input({ matchers: ['x'], duration: 90 * MINUTE })),
      (error: unknown) => error instanceof SilenceConflictError && error.existing === pending.id,
    );
    set.add(input({ matchers: ['x'], duration: HOUR })); // ends where the pending one starts
    // Different matchers, or the same ones after it, are fine.
    set.add(input({ matchers: 'env=prod' }));
    set.add(input({ matchers: 'team=db,env=prod', startsAt: new Date(START + HOUR) }));
    await clock.advance(2 * HOUR);
    set.add(input({ matchers: 'team=db,env=prod' }));
  });

  it('validates input, changing nothing on a bad one', () => {
    const { set, added } = setup();
    assert.throws(
      () => set.add(input({ duration: -1 })),
      (error: unknown) => isOptionError(error) && error.option === 'duration',
    );
    assert.deepEqual(set.list(), []);
    assert.deepEqual(added, []);
  });

  it('bounds the number of silences, counting only those not ended', async () => {
    const { clock, set } = setup(3);
    for (let i = 0; i < 3; i++) set.add(input({ matchers: [`p${i}`], duration: MINUTE }));
    assert.throws(
      () => set.add(input({ matchers: ['p3'] })),
      (error: unknown) => error instanceof SilenceLimitError && error.limit === 3,
    );
    await clock.advance(MINUTE);
    set.add(input({ matchers: ['p3'] }));
    assert.throws(() => new SilenceSet({ maxSilences: 0 }), /maxSilences must be at least 1/);
    assert.throws(() => new SilenceSet({ maxSilences: 10_001 }), /at most 10000/);
  });

  it('a flood of 10,000 additions stops at the default bound of 1,000', () => {
    const { set } = setup();
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      try {
        set.add(input({ matchers: [`p${i}`] }));
      } catch (error) {
        assert.ok(error instanceof SilenceLimitError);
        refused++;
      }
    }
    assert.equal(set.list().length, 1000);
    assert.equal(refused, 9000);
  });

  it('a 30-day silence ends on time although one Node.js timer cannot wait that long', async () => {
    // Node fires a timer longer than 2^31 - 1 ms at once (after 1 ms); this clock does the same.
    const manual = new ManualClock(START);
    let timers = 0;
    const nodeLike = {
      now: () => manual.now(),
      setTimeout: (callback: () => void, delay: number) => {
        if (++timers > 1000) throw new Error('timer storm');
        return manual.setTimeout(callback, delay > 2_147_483_647 ? 1 : delay);
      },
      clearTimeout: (handle: unknown) => manual.clearTimeout(handle),
    };
    const set = new SilenceSet({ clock: nodeLike });
    const expired: SilenceExpiry[] = [];
    set.onExpired((expiry) => expired.push(expiry));
    set.add(input({ duration: 30 * DAY }));
    await manual.advance(25 * DAY);
    assert.deepEqual(expired, []);
    assert.equal(set.silencedBy('db', prod).length, 1);
    await manual.advance(5 * DAY - 1);
    assert.deepEqual(expired, []);
    await manual.advance(1);
    assert.equal(expired.length, 1);
    assert.ok(timers <= 3, `${timers} timers`);
  });

  it('expireRecovered ends endsOnRecovery silences whose matched providers are all healthy', () => {
    const { set, expired } = setup();
    const recovering = set.add(input({ endsOnRecovery: true }));
    const byName = set.add(input({ matchers: ['web', 'api'], endsOnRecovery: true }));
    const kept = set.add(input({ matchers: 'team=db' }));
    assert.deepEqual(
      set.expireRecovered([
        { name: 'db', labels: prod, healthy: true },
        { name: 'web', healthy: true },
        { name: 'api', healthy: false },
      ]),
      [recovering.id],
    );
    assert.deepEqual(
      expired.map((e) => [e.silence.id, e.reason]),
      [[recovering.id, 'recovered']],
    );
    assert.deepEqual(set.expireRecovered([{ name: 'unrelated', healthy: true }]), []);
    assert.deepEqual(
      set.expireRecovered([
        { name: 'web', healthy: true },
        { name: 'api', healthy: true },
      ]),
      [byName.id],
    );
    assert.deepEqual(set.expireRecovered([{ name: 'db', labels: prod, healthy: true }]), []);
    assert.ok(set.get(kept.id));
  });

  it('replace() loads a set, emitting only the differences and skipping ended silences', () => {
    const { set, added, expired } = setup();
    const kept = set.add(input({ matchers: ['a'] }));
    const dropped = set.add(input({ matchers: ['b'] }));
    added.length = 0;
    const incoming = parseSilenceInput(input({ matchers: ['c'] }), START);
    const ended = parseSilenceInput(input({ matchers: ['d'] }), START - 2 * HOUR);
    set.replace([kept, incoming, ended]);
    assert.deepEqual(added, [incoming]);
    assert.deepEqual(expired, [{ silence: dropped, reason: 'removed' }]);
    assert.deepEqual(
      set
        .list()
        .map((s) => s.id)
        .sort(),
      [kept.id, incoming.id].sort(),
    );
  });

  it('a throwing listener disturbs nothing and reaches onListenerError', () => {
    const { set } = setup();
    const errors: unknown[] = [];
    set.onListenerError((error) => errors.push(error));
    set.onAdded(() => {
      throw new Error('listener bug');
    });
    const silence = set.add(input());
    assert.deepEqual(set.silencedBy('db', prod), [silence.id]);
    assert.equal((errors[0] as Error).message, 'listener bug');
  });

  it('dispose() clears the timer and refuses changes', () => {
    const { clock, set } = setup();
    set.add(input());
    assert.equal(clock.pendingTimers, 1);
    set.dispose();
    assert.equal(clock.pendingTimers, 0);
    assert.throws(
      () => set.add(input()),
      (error: unknown) => isDisposedError(error),
    );
    assert.equal(set.list().length, 1);
  });

  it('keeps one timer, at the earliest end, for any sequence of adds, expiries and time (property)', async () => {
    type Step =
      | { kind: 'add'; name: number; minutes: number; lead: number }
      | { kind: 'expire'; index: number }
      | { kind: 'advance'; minutes: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        name: fc.nat(5),
        minutes: fc.integer({ min: 1, max: 120 }),
        lead: fc.nat(60),
      }),
      fc.record({ kind: fc.constant('expire' as const), index: fc.nat(10) }),
      fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 0, max: 90 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const { clock, set, added, expired } = setup();
        for (const s of steps) {
          if (s.kind === 'add') {
            try {
              set.add(
                input({
                  matchers: [`p${s.name}`],
                  startsAt: new Date(clock.now() + s.lead * MINUTE),
                  duration: s.minutes * MINUTE,
                }),
              );
            } catch (error) {
              assert.ok(error instanceof SilenceConflictError);
            }
          } else if (s.kind === 'expire') {
            set.expire(added[s.index]?.id ?? 'none');
          } else await clock.advance(s.minutes * MINUTE);
          const now = clock.now();
          const live = set.list();
          assert.ok(live.every((silence) => silence.endsAt.getTime() > now));
          assert.equal(clock.pendingTimers, live.length > 0 ? 1 : 0);
          // Every silence added is either live or was expired exactly once.
          const gone = expired.map((e) => e.silence.id);
          assert.equal(new Set(gone).size, gone.length);
          assert.equal(live.length + gone.length, added.length);
        }
        set.dispose();
      }),
      { numRuns: 200 },
    );
  });
});
