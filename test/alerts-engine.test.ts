import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../src/events.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import {
  AlertEngine,
  type AlertEngineState,
  MemoryAlertStore,
  validateRules,
  type AlertRuleInit,
  type AlertStateStore,
  type Notification,
} from '../src/alerts/index.js';
import { ManualClock } from '../src/testing/index.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const NOTIFIERS = new Set(['n']);

/** A real HealthCache polling every second on a manual clock, providers switched up/down by the test. */
function setup(names: readonly string[]) {
  const clock = new ManualClock();
  const registry = new ProviderRegistry();
  const up = new Map<string, boolean>();
  for (const name of names) {
    up.set(name, true);
    registry.register(name, {
      healthCheck: () => {
        if (up.get(name) !== true) throw new Error(`${name} is down`);
      },
    });
  }
  const cache = new HealthCache(registry, {
    pollInterval: 1000,
    checkTimeout: 100,
    staleAfter: 3_600_000,
    clock,
  });
  const stop = new AbortController();
  const running = cache.run(stop.signal);
  const set = (value: boolean, ...which: string[]) => which.forEach((name) => up.set(name, value));
  const engine = (
    rules: AlertRuleInit[],
    extra: {
      isSuppressed?: (n: string) => boolean;
      store?: AlertStateStore;
      onSuppressionChange?: Emitter<void>['event'];
    } = {},
  ) => {
    const sent: Notification[] = [];
    const e = new AlertEngine(cache, { rules: validateRules(rules, NOTIFIERS), clock, ...extra });
    e.onNotification((n) => sent.push(n));
    return { engine: e, sent };
  };
  const done = async () => {
    stop.abort();
    await running;
  };
  return { clock, cache, set, engine, done };
}

const rule = (over: Partial<AlertRuleInit> = {}): AlertRuleInit => ({ name: 'down', notify: ['n'], ...over });

describe('AlertEngine', { timeout: 30_000 }, () => {
  it('groups providers failing within groupWait into one firing, resolves only when all are back', async () => {
    const t = setup(['a', 'b', 'c', 'd']);
    await t.clock.advance(0);
    const { sent, engine } = t.engine([rule({ groupWait: 10_000 })]);
    t.set(false, 'a', 'b');
    await t.clock.advance(1000);
    t.set(false, 'c');
    await t.clock.advance(1000);
    await t.clock.advance(8999);
    assert.equal(sent.length, 0, 'nothing before groupWait (counted from t=1000, when a and b were seen)');
    await t.clock.advance(1);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.type, 'firing');
    assert.deepEqual(
      sent[0]!.providers.map((p) => p.name),
      ['a', 'b', 'c'],
    );
    assert.equal(sent[0]!.providers[0]!.state, 'unhealthy');
    assert.equal(sent[0]!.providers[0]!.message, 'a is down');
    assert.deepEqual(
      engine.firing().map((f) => f.providers.map((p) => p.name)),
      [['a', 'b', 'c']],
    );
    t.set(true, 'a', 'b');
    await t.clock.advance(2000);
    assert.equal(sent.length, 1, 'not resolved while c is still down');
    t.set(true, 'c');
    await t.clock.advance(1000);
    assert.equal(sent.length, 1, 'every member back: resolved only after groupWait without a relapse');
    assert.deepEqual(engine.firing(), [], 'but no longer listed as firing');
    await t.clock.advance(10_000);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.type, 'resolved');
    assert.equal(sent[1]!.incident, sent[0]!.incident);
    assert.notEqual(sent[1]!.id, sent[0]!.id);
    assert.deepEqual(
      sent[1]!.providers.map((p) => [p.name, p.state]),
      [
        ['a', 'healthy'],
        ['b', 'healthy'],
        ['c', 'healthy'],
      ],
    );
    assert.deepEqual(engine.firing(), []);
    engine.dispose();
    await t.done();
  });

  it('sends nothing for a provider that flaps inside `for`, and fires once it holds', async () => {
    const t = setup(['a']);
    await t.clock.advance(0);
    const { sent, engine } = t.engine([rule({ for: 5000 })]);
    for (let i = 0; i < 3; i++) {
      t.set(false, 'a');
      await t.clock.advance(3000);
      t.set(true, 'a');
      await t.clock.advance(3000);
    }
    assert.equal(sent.length, 0, 'flapping inside for sends nothing');
    t.set(false, 'a');
    await t.clock.advance(5000);
    assert.equal(sent.length, 0, 'not yet: the failure was seen at the next sweep');
    await t.clock.advance(1000);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.type, 'firing');
    engine.dispose();
    await t.done();
  });

  it('reminds every repeatInterval with new ids for the same incident', async () => {
    const t = setup(['a']);
    await t.clock.advance(0);
    const { sent, engine } = t.engine([rule({ repeatInterval: 60_000 })]);
    t.set(false, 'a');
    await t.clock.advance(1000);
    assert.equal(sent.length, 1);
    await t.clock.advance(60_000);
    await t.clock.advance(60_000);
    assert.deepEqual(
      sent.map((n) => n.reminder),
      [0, 1, 2],
    );
    assert.equal(new Set(sent.map((n) => n.id)).size, 3);
    assert.equal(new Set(sent.map((n) => n.incident)).size, 1);
    engine.dispose();
    await t.done();
  });

  it('a suppressed provider never pages; when suppression ends while it is down, it fires then', async () => {
    const t = setup(['a', 'b']);
    await t.clock.advance(0);
    let silenced = true;
    const changed = new Emitter<void>(() => {});
    const { sent, engine } = t.engine([rule()], {
      isSuppressed: (n) => silenced && n === 'a',
      onSuppressionChange: changed.event,
    });
    t.set(false, 'a');
    await t.clock.advance(10_000);
    assert.equal(sent.length, 0, 'silenced: nothing');
    silenced = false;
    changed.emit();
    await t.clock.advance(0);
    assert.equal(sent.length, 1, 'the silence ended while a is down: fires now');
    assert.deepEqual(
      sent[0]!.providers.map((p) => p.name),
      ['a'],
    );
    // A silence that ends after recovery fires nothing.
    silenced = true;
    t.set(false, 'b');
    engine.dispose();
    const second = t.engine([rule({ name: 'other' })], { isSuppressed: (n) => silenced && n === 'b' });
    await t.clock.advance(2000);
    t.set(true, 'b');
    await t.clock.advance(2000);
    silenced = false;
    second.engine.reevaluate();
    await t.clock.advance(0);
    assert.deepEqual(
      second.sent.filter((n) => n.providers.some((p) => p.name === 'b')),
      [],
    );
    second.engine.dispose();
    await t.done();
  });

  it('derives the same ids on every replica, and different ids per event', async () => {
    const t = setup(['a', 'b']);
    await t.clock.advance(0);
    const one = t.engine([rule({ groupWait: 5000 })]);
    const two = t.engine([rule({ groupWait: 5000 })]);
    t.set(false, 'a', 'b');
    await t.clock.advance(6000);
    // Back, and a down again 2 s later, inside groupWait: the incident stays open, nothing is sent.
    t.set(true, 'a', 'b');
    await t.clock.advance(2000);
    t.set(false, 'a');
    await t.clock.advance(8000);
    assert.deepEqual(
      one.sent.map((n) => n.type),
      ['firing'],
      'a relapse within groupWait of recovering keeps the incident',
    );
    t.set(true, 'a');
    await t.clock.advance(7000);
    t.set(false, 'a');
    await t.clock.advance(6000);
    assert.deepEqual(
      one.sent.map((n) => n.id),
      two.sent.map((n) => n.id),
    );
    assert.deepEqual(
      one.sent.map((n) => n.type),
      ['firing', 'resolved', 'firing'],
    );
    assert.equal(new Set(one.sent.map((n) => n.id)).size, 3, 'a new incident gets new ids');
    assert.notEqual(one.sent[2]!.incident, one.sent[0]!.incident);
    one.engine.dispose();
    two.engine.dispose();
    await t.done();
  });

  it('keeps its state as plain JSON; an engine resuming from it resolves instead of firing again', async () => {
    const t = setup(['a']);
    await t.clock.advance(0);
    const store = new MemoryAlertStore();
    const first = t.engine([rule()], { store });
    t.set(false, 'a');
    await t.clock.advance(1000);
    assert.equal(first.sent.length, 1);
    first.engine.dispose();
    const json = JSON.stringify(store.snapshot());
    assert.deepEqual(JSON.parse(json), store.snapshot(), 'state survives JSON');
    const resumed = t.engine([rule()], { store: new MemoryAlertStore(JSON.parse(json) as AlertEngineState) });
    await t.clock.advance(3000);
    assert.equal(resumed.sent.length, 0, 'no second firing for the same incident');
    t.set(true, 'a');
    await t.clock.advance(1000);
    await t.clock.advance(0);
    assert.deepEqual(
      resumed.sent.map((n) => [n.type, n.incident]),
      [['resolved', first.sent[0]!.incident]],
    );
    resumed.engine.dispose();
    await t.done();
  });

  it('watches only the states listed (degraded when asked) and only selected providers', async () => {
    const t = setup(['a', 'b']);
    await t.clock.advance(0);
    const { sent, engine } = t.engine([rule({ selector: (name) => name === 'b' })]);
    t.set(false, 'a');
    await t.clock.advance(2000);
    assert.equal(sent.length, 0);
    t.set(false, 'b');
    await t.clock.advance(1000);
    assert.deepEqual(
      sent.map((n) => n.providers.map((p) => p.name)),
      [['b']],
    );
    engine.dispose();
    await t.done();
  });
});

describe('validateRules', () => {
  it('names the field: unknown notifier, bad duration, bad state, duplicate name', () => {
    assert.throws(
      () => validateRules([rule({ notify: ['n', 'pager'] })], NOTIFIERS),
      /`alerts\[0\]\.notify\[1\]` to be the name of a notifier \(n\), got "pager"/,
    );
    assert.throws(() => validateRules([rule({ for: -1 })], NOTIFIERS), /alerts\[0\]\.for/);
    assert.throws(
      () => validateRules([rule({ groupWait: Number.NaN })], NOTIFIERS),
      /alerts\[0\]\.groupWait/,
    );
    assert.throws(
      () => validateRules([rule({ repeatInterval: 2 ** 40 })], NOTIFIERS),
      /alerts\[0\]\.repeatInterval/,
    );
    assert.throws(
      () => validateRules([rule({ states: ['down' as never] })], NOTIFIERS),
      /alerts\[0\]\.states\[0\]/,
    );
    assert.throws(() => validateRules([rule(), rule()], NOTIFIERS), /alerts\[1\]\.name/);
    const [ok] = validateRules([rule()], NOTIFIERS);
    assert.deepEqual([...ok!.states], ['unhealthy', 'stale']);
    assert.equal(ok!.for, 0);
    assert.equal(ok!.repeatInterval, undefined);
  });
});
