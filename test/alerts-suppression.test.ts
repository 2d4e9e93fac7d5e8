// Silences and failed dependencies, as the core puts them on the Status
// (`silencedBy`, `blockedBy`), keep providers from paging; a silence that ends
// while the provider is still down fires then. Real HealthCache, manual clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../src/events.js';
import { HealthCache, ProviderRegistry, type SilenceSource } from '../src/index.js';
import { AlertEngine, validateRules, type AlertRuleInit, type Notification } from '../src/alerts/index.js';
import { ManualClock } from '../src/testing/index.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

/** Providers switched up/down by the test; `deps` maps a provider to what it depends on. */
function setup(providers: readonly string[], deps: Readonly<Record<string, string[]>> = {}) {
  const clock = new ManualClock();
  const registry = new ProviderRegistry();
  const up = new Map<string, boolean>();
  for (const name of providers) {
    up.set(name, true);
    const provider = {
      healthCheck: () => {
        if (up.get(name) !== true) throw new Error(`${name} is down`);
      },
    };
    registry.register(name, provider, { dependsOn: deps[name] ?? [] });
  }
  const silenced = new Set<string>();
  const changed = new Emitter<void>(() => {});
  const silences: SilenceSource = {
    silencedBy: (name) => (silenced.has(name) ? [`silence-${name}`] : []),
    onChange: changed.event,
  };
  const cache = new HealthCache(registry, {
    pollInterval: 1000,
    checkTimeout: 100,
    staleAfter: 3_600_000,
    clock,
    silences,
  });
  const stop = new AbortController();
  const running = cache.run(stop.signal);
  const sent: Notification[] = [];
  const engine = (rules: AlertRuleInit[]) => {
    const e = new AlertEngine(cache, { rules: validateRules(rules, new Set(['n'])), clock });
    e.onNotification((n) => sent.push(n));
    return e;
  };
  const set = (value: boolean, ...which: string[]) => which.forEach((name) => up.set(name, value));
  const silence = (on: boolean, name: string) => {
    if (on) silenced.add(name);
    else silenced.delete(name);
    changed.emit();
  };
  const done = async () => {
    stop.abort();
    await running;
  };
  const names = (n: Notification) => n.providers.map((p) => p.name);
  return { clock, cache, set, silence, engine, sent, names, done };
}

const rule = (over: Partial<AlertRuleInit> = {}): AlertRuleInit => ({ name: 'down', notify: ['n'], ...over });

describe('alerts: suppression from the status', { timeout: 30_000 }, () => {
  it('a silenced provider never pages; the silence ending while it is down fires it then', async () => {
    const t = setup(['a', 'b']);
    await t.clock.advance(0);
    const engine = t.engine([rule({ for: 2000 })]);
    t.silence(true, 'a');
    t.set(false, 'a');
    await t.clock.advance(60_000);
    assert.deepEqual(t.cache.get('a')?.silencedBy, ['silence-a'], 'the core marks it');
    assert.equal(t.sent.length, 0, 'silenced for a minute, down: nothing');
    t.silence(false, 'a');
    await t.clock.advance(0);
    assert.deepEqual(
      t.sent.map((n) => [n.type, t.names(n)]),
      [['firing', ['a']]],
      'the silence ended while a is down (for long past): it fires at once',
    );
    t.set(true, 'a');
    await t.clock.advance(1000);
    assert.deepEqual(
      t.sent.map((n) => n.type),
      ['firing', 'resolved'],
    );
    // A silence that ends after the provider recovered sends nothing.
    t.silence(true, 'b');
    t.set(false, 'b');
    await t.clock.advance(10_000);
    t.set(true, 'b');
    await t.clock.advance(1000);
    t.silence(false, 'b');
    await t.clock.advance(5000);
    assert.equal(t.sent.length, 2, 'b was silenced the whole time it was down');
    engine.dispose();
    await t.done();
  });

  it('providers blocked by a failed dependency never page; one still down once the dependency is back fires', async () => {
    const t = setup(['cluster', 'api', 'web'], { api: ['cluster'], web: ['cluster'] });
    await t.clock.advance(0);
    // groupWait outlasts a sweep, so the whole sweep's results are in before anything goes out.
    const engine = t.engine([rule({ groupWait: 5000 })]);
    t.set(false, 'cluster', 'api', 'web');
    await t.clock.advance(1000);
    assert.deepEqual(t.cache.get('api')?.blockedBy, ['cluster'], 'the core marks it');
    await t.clock.advance(10_000);
    assert.deepEqual(
      t.sent.map((n) => [n.type, t.names(n)]),
      [['firing', ['cluster']]],
      'one problem, not three',
    );
    t.set(true, 'cluster', 'web');
    await t.clock.advance(1000);
    assert.deepEqual(t.cache.get('api')?.blockedBy, [], 'no longer blocked');
    await t.clock.advance(6000);
    assert.deepEqual(
      t.sent.map((n) => [n.type, t.names(n)]),
      [
        ['firing', ['cluster']],
        ['resolved', ['cluster']],
        ['firing', ['api']],
      ],
      'api is down on its own now: it fires; web recovered with its cluster: nothing',
    );
    engine.dispose();
    await t.done();
  });

  it('a provider silenced inside groupWait is left out of the group and fires alone once unsilenced', async () => {
    const t = setup(['a', 'b']);
    await t.clock.advance(0);
    const engine = t.engine([rule({ groupWait: 5000 })]);
    t.set(false, 'a', 'b');
    await t.clock.advance(1000);
    t.silence(true, 'b');
    await t.clock.advance(5000);
    assert.deepEqual(
      t.sent.map((n) => t.names(n)),
      [['a']],
    );
    t.silence(false, 'b');
    await t.clock.advance(6000);
    assert.deepEqual(
      t.sent.map((n) => [n.type, t.names(n)]),
      [
        ['firing', ['a']],
        ['firing', ['b']],
      ],
    );
    assert.notEqual(t.sent[0]!.incident, t.sent[1]!.incident);
    engine.dispose();
    await t.done();
  });
});
