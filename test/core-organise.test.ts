import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DependencyError,
  HealthCache,
  OptionTypeError,
  ProviderRegistry,
  isDependencyError,
  type HealthCacheOptions,
  type HealthReport,
  type StatusChange,
  type Transition,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { restoredStatus } from './fixtures/core-status.js';
import { FakeSilences } from './support/fake-silences.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

/** A registry whose providers answer what `up` says (default healthy), a cache and its events. */
function setup(options: HealthCacheOptions = {}) {
  const clock = new ManualClock();
  const registry = new ProviderRegistry();
  const cache = new HealthCache(registry, { pollInterval: 1_000, checkTimeout: 100, clock, ...options });
  const up = new Map<string, boolean>();
  const calls = new Map<string, number>();
  const provider = (name: string) => ({
    healthCheck: (): Promise<HealthReport> => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const healthy = up.get(name) ?? true;
      return Promise.resolve({ healthy, message: healthy ? 'ok' : 'down' });
    },
  });
  const changes: StatusChange[] = [];
  const transitions: Transition[] = [];
  cache.onChange((change) => changes.push(change));
  cache.onTransition((transition) => transitions.push(transition));
  return { clock, registry, cache, up, calls, provider, changes, transitions };
}

describe('dependencies: blockedBy', () => {
  it(
    'marks each failing provider with its failing direct dependencies along a chain',
    { timeout: 10_000 },
    async () => {
      const { registry, cache, up, provider, changes, transitions } = setup();
      registry.register('cluster', provider('cluster'));
      registry.register('api', provider('api'), { dependsOn: ['cluster'] });
      registry.register('web', provider('web'), { dependsOn: ['api'] });
      for (const name of ['cluster', 'api', 'web']) up.set(name, false);
      await cache.checkNow();
      assert.deepEqual(cache.get('cluster')?.blockedBy, []);
      assert.deepEqual(cache.get('api')?.blockedBy, ['cluster']);
      assert.deepEqual(cache.get('web')?.blockedBy, ['api'], 'direct dependencies only');
      assert.equal(cache.get('api')?.state, 'unhealthy', 'the state is still what the check found');
      assert.ok(Object.isFrozen(cache.get('api')?.blockedBy));

      // The cluster recovers: api is re-annotated at once, without a check of its own.
      const apiBefore = cache.get('api');
      const historyBefore = cache.history('api');
      changes.length = 0;
      transitions.length = 0;
      up.set('cluster', true);
      await cache.checkProvider('cluster');
      const api = cache.get('api');
      assert.deepEqual(api?.blockedBy, []);
      assert.notEqual(api, apiBefore);
      assert.deepEqual({ ...api, blockedBy: undefined }, { ...apiBefore, blockedBy: undefined });
      assert.deepEqual(
        changes.map((c) => c.name),
        ['cluster', 'api'],
        'onChange for the cluster, then for api (not web: its dependency api still fails)',
      );
      assert.equal(changes[1]?.status, api);
      assert.deepEqual(
        transitions.map((t) => t.name),
        ['cluster'],
        'a re-annotation is no transition',
      );
      assert.deepEqual(cache.history('api'), historyBefore, 'history untouched');
      assert.ok(cache.snapshot().includes(api), 'the snapshot republishes');
      assert.deepEqual(cache.get('web')?.blockedBy, ['api']);

      // The cluster fails again: api blocked again.
      up.set('cluster', false);
      await cache.checkProvider('cluster');
      assert.deepEqual(cache.get('api')?.blockedBy, ['cluster']);
      assert.ok(cache.snapshot().includes(cache.get('api')!));
    },
  );

  it(
    'leaves a healthy provider unmarked, whatever its dependencies do, and names several',
    { timeout: 10_000 },
    async () => {
      const { registry, cache, up, provider } = setup();
      registry.register('a', provider('a'));
      registry.register('b', provider('b'));
      registry.register('c', provider('c'));
      registry.register('x', provider('x'), { dependsOn: ['c', 'a', 'b'] });
      up.set('a', false);
      up.set('c', false);
      await cache.checkNow();
      assert.deepEqual(cache.get('x')?.blockedBy, [], 'x is healthy: nothing to explain');
      up.set('x', false);
      await cache.checkProvider('x');
      assert.deepEqual(cache.get('x')?.blockedBy, ['c', 'a'], 'in dependsOn order');
      up.set('x', true);
      await cache.checkProvider('x');
      assert.deepEqual(cache.get('x')?.blockedBy, []);
    },
  );

  it('counts stale dependencies, all turned stale in one pass', { timeout: 10_000 }, async () => {
    const { clock, registry, cache, up, provider, changes } = setup({ staleAfter: 3_000 });
    registry.register('db', provider('db'));
    registry.register('api', provider('api'), { dependsOn: ['db'] });
    registry.register('web', provider('web'), { dependsOn: ['api'] });
    await cache.checkNow();
    await clock.advance(3_000);
    for (const name of ['db', 'api', 'web']) assert.equal(cache.get(name)?.state, 'stale');
    assert.deepEqual(cache.get('api')?.blockedBy, ['db']);
    assert.deepEqual(cache.get('web')?.blockedBy, ['api']);
    assert.deepEqual(
      changes.slice(-3).map((c) => [c.name, c.status?.blockedBy]),
      [
        ['api', ['db']],
        ['db', []],
        ['web', ['api']],
      ],
      'one change each, already annotated',
    );

    // db checked again (unhealthy): still failing, api stays blocked; a fresh api failure too.
    up.set('db', false);
    up.set('api', false);
    await cache.checkNow();
    assert.deepEqual(cache.get('api')?.blockedBy, ['db']);
    assert.deepEqual(cache.get('web')?.blockedBy, [], 'web is healthy again');

    // Only db goes stale later while api, checked since, fails on its own.
    await clock.advance(1_000);
    up.set('db', true);
    await cache.checkProvider('api');
    assert.deepEqual(cache.get('api')?.blockedBy, ['db'], 'db is still unhealthy');
  });

  it(
    'a provider that turns stale while its dependency fails is blocked by it',
    { timeout: 10_000 },
    async () => {
      const { clock, registry, cache, up, provider } = setup({ staleAfter: 3_000 });
      registry.register('db', provider('db'));
      registry.register('api', provider('api'), { dependsOn: ['db'] });
      await cache.checkProvider('api');
      await clock.advance(2_000);
      up.set('db', false);
      await cache.checkProvider('db');
      assert.deepEqual(cache.get('api')?.blockedBy, [], 'api is healthy');
      await clock.advance(1_000);
      assert.equal(cache.get('api')?.state, 'stale');
      assert.equal(cache.get('db')?.state, 'unhealthy');
      assert.deepEqual(cache.get('api')?.blockedBy, ['db']);
    },
  );

  it('a dependency turning stale blocks a dependent that already fails', { timeout: 10_000 }, async () => {
    const { clock, registry, cache, up, provider, changes, transitions } = setup({ staleAfter: 3_000 });
    registry.register('db', provider('db'));
    registry.register('api', provider('api'), { dependsOn: ['db'] });
    await cache.checkProvider('db');
    await clock.advance(2_000);
    up.set('api', false);
    await cache.checkProvider('api');
    assert.deepEqual(cache.get('api')?.blockedBy, [], 'db is healthy');
    changes.length = 0;
    transitions.length = 0;
    await clock.advance(1_000);
    assert.equal(cache.get('db')?.state, 'stale');
    assert.equal(cache.get('api')?.state, 'unhealthy', 'not stale yet');
    assert.deepEqual(cache.get('api')?.blockedBy, ['db']);
    assert.deepEqual(
      changes.map((c) => c.name),
      ['db', 'api'],
    );
    assert.deepEqual(
      transitions.map((t) => t.name),
      ['db'],
    );
  });

  it(
    'follows relabelling (new labels or dependencies) without a new check',
    { timeout: 10_000 },
    async () => {
      const silences = new FakeSilences();
      silences.byLabels = (labels) => (labels.env === 'prod' ? ['window-prod'] : []);
      const { registry, cache, up, calls, provider, changes, transitions } = setup({ silences });
      const db = provider('db');
      const api = provider('api');
      registry.register('db', db);
      registry.register('cache', provider('cache'));
      registry.register('api', api, { dependsOn: ['db'], labels: { env: 'dev' } });
      up.set('db', false);
      up.set('api', false);
      await cache.checkNow();
      assert.deepEqual(cache.get('api')?.blockedBy, ['db']);
      assert.deepEqual(cache.get('api')?.silencedBy, []);
      const checked = calls.get('api');
      changes.length = 0;
      transitions.length = 0;

      registry.register('api', api, { dependsOn: ['cache'], labels: { env: 'prod' } });
      const relabelled = cache.get('api');
      assert.deepEqual(relabelled?.dependsOn, ['cache']);
      assert.deepEqual({ ...relabelled?.labels }, { env: 'prod' });
      assert.deepEqual(relabelled?.blockedBy, [], 'cache is healthy');
      assert.deepEqual(relabelled?.silencedBy, ['window-prod']);
      assert.equal(calls.get('api'), checked, 'no new check');
      assert.deepEqual(
        changes.map((c) => c.name),
        ['api'],
      );
      assert.deepEqual(transitions, []);
      assert.equal(
        cache.snapshot().find((s) => s.name === 'api'),
        relabelled,
      );

      // The old dependency no longer annotates api; the new one does.
      up.set('db', true);
      await cache.checkProvider('db');
      assert.equal(cache.get('api'), relabelled, 'db is no dependency of api any more');
      up.set('cache', false);
      await cache.checkProvider('cache');
      assert.deepEqual(cache.get('api')?.blockedBy, ['cache']);
    },
  );

  it('unregisters dependents first; the reverse index follows', { timeout: 10_000 }, async () => {
    const { registry, cache, up, provider } = setup();
    registry.register('a', provider('a'));
    registry.register('b', provider('b'), { dependsOn: ['a'] });
    registry.register('c', provider('c'), { dependsOn: ['a'] });
    up.set('b', false);
    await cache.checkNow();
    assert.deepEqual(registry.dependents('a'), ['b', 'c']);
    assert.throws(
      () => registry.unregister('a'),
      (error: unknown) =>
        isDependencyError(error) &&
        error.kind === 'dependent' &&
        error.dependency === 'a' &&
        error.message === 'Provider "a" cannot be removed: "b" depends on it',
    );
    assert.ok(cache.get('a'), 'nothing changed');
    assert.equal(registry.unregister('b'), true);
    assert.deepEqual(registry.dependents('a'), ['c']);
    assert.throws(() => registry.unregister('a'), /"c" depends on it/);
    assert.equal(registry.unregister('c'), true);
    assert.equal(registry.unregister('a'), true);
    assert.equal(cache.snapshot().length, 0);
    // Registered again without the dependency: a failing a blocks nobody.
    registry.register('a', provider('a'));
    registry.register('b', provider('b'));
    up.set('a', false);
    await cache.checkNow();
    assert.deepEqual(cache.get('b')?.blockedBy, []);
  });

  it('forgetting a failing dependency unblocks its dependents', { timeout: 10_000 }, async () => {
    const { registry, cache, up, provider } = setup();
    registry.register('a', provider('a'));
    registry.register('b', provider('b'), { dependsOn: ['a'] });
    up.set('a', false);
    up.set('b', false);
    await cache.checkNow();
    assert.deepEqual(cache.get('b')?.blockedBy, ['a']);
    assert.equal(cache.forget('a'), true);
    assert.deepEqual(cache.get('b')?.blockedBy, [], 'an unchecked dependency is not failing');
  });

  it('refuses unknown dependencies and cycles, naming the whole cycle', () => {
    const registry = new ProviderRegistry();
    assert.throws(
      () => registry.register('api', {}, { dependsOn: ['nope'] }),
      (error: unknown) =>
        error instanceof DependencyError &&
        error.kind === 'unknown' &&
        error.message === 'Provider "api" depends on "nope", which is not registered',
    );
    assert.equal(registry.has('api'), false, 'nothing registered');
    registry.register('a', {});
    registry.register('b', {}, { dependsOn: ['a'] });
    registry.register('c', {}, { dependsOn: ['b'] });
    const a = registry.get('a')!;
    assert.throws(
      () => registry.register('a', a, { dependsOn: ['c'] }),
      (error: unknown) =>
        error instanceof DependencyError &&
        error.kind === 'cycle' &&
        error.cycle.join(' ') === 'a c b a' &&
        error.message === 'Dependency cycle: "a" → "c" → "b" → "a"',
    );
    assert.deepEqual(registry.dependsOn('a'), [], 'the registration is unchanged');
    assert.throws(() => registry.register('d', {}, { dependsOn: ['d'] }), /cannot depend on itself/);
  });
});

describe('silences through a SilenceSource', () => {
  it(
    'marks silencedBy at every commit and when the source changes, with onChange only',
    { timeout: 10_000 },
    async () => {
      const silences = new FakeSilences();
      const { registry, cache, up, provider, changes, transitions } = setup({ silences });
      registry.register('a', provider('a'));
      registry.register('b', provider('b'), { labels: { team: 'db' } });
      silences.silence('a', ['s1']);
      await cache.checkNow();
      assert.deepEqual(cache.get('a')?.silencedBy, ['s1']);
      assert.deepEqual(cache.get('b')?.silencedBy, []);
      assert.equal(cache.history('a')[0]?.silenced, true);
      assert.equal(cache.history('b')[0]?.silenced, false);

      changes.length = 0;
      transitions.length = 0;
      const aBefore = cache.get('a');
      const bBefore = cache.get('b');
      silences.byLabels = (labels) => (labels.team === 'db' ? ['w-db'] : []);
      silences.silence('a', []);
      silences.changed();
      assert.deepEqual(cache.get('a')?.silencedBy, []);
      assert.deepEqual(cache.get('b')?.silencedBy, ['w-db']);
      assert.deepEqual(changes.map((c) => c.name).sort(), ['a', 'b']);
      assert.deepEqual(transitions, []);
      assert.deepEqual({ ...cache.get('b'), silencedBy: [] }, { ...bBefore, silencedBy: [] });
      assert.equal(cache.history('a').length, 1, 'no sample added');
      assert.equal(cache.history('a')[0]?.silenced, true, 'a sample keeps what was true when taken');
      assert.ok(cache.snapshot().includes(cache.get('b')!));
      assert.notEqual(cache.get('a'), aBefore);

      // Nothing changed: nothing re-committed.
      changes.length = 0;
      silences.changed();
      assert.deepEqual(changes, []);

      // A failing, silenced provider is still checked and shown as it is.
      up.set('b', false);
      await cache.checkProvider('b');
      assert.equal(cache.get('b')?.state, 'unhealthy');
      assert.deepEqual(cache.get('b')?.silencedBy, ['w-db']);
    },
  );

  it('reports uptime excluding the silenced samples', { timeout: 10_000 }, async () => {
    const silences = new FakeSilences();
    const { registry, cache, up, provider } = setup({ silences, historySize: 4 });
    registry.register('p', provider('p'));
    await cache.checkNow(); // up, not silenced
    assert.equal(cache.get('p')?.history.uptimeExcludingSilenced, 1);
    assert.equal(cache.get('p')?.history.silencedSamples, 0);
    silences.silence('p', ['maintenance']);
    silences.changed();
    up.set('p', false);
    await cache.checkNow(); // down, silenced
    await cache.checkNow(); // down, silenced
    let history = cache.get('p')!.history;
    assert.equal(history.uptime, 1 / 3);
    assert.equal(history.uptimeExcludingSilenced, 1);
    assert.equal(history.silencedSamples, 2);
    silences.silence('p', []);
    silences.changed();
    await cache.checkNow(); // down, not silenced
    history = cache.get('p')!.history;
    assert.equal(history.uptime, 1 / 4);
    assert.equal(history.uptimeExcludingSilenced, 1 / 2);
    assert.equal(history.silencedSamples, 2);
    up.set('p', true);
    await cache.checkNow(); // up, not silenced: the first (up, not silenced) falls out of the ring of 4
    history = cache.get('p')!.history;
    assert.equal(history.samples, 4);
    assert.equal(history.uptime, 1 / 4);
    assert.equal(history.uptimeExcludingSilenced, 1 / 2);
    assert.deepEqual(
      cache.history('p').map((s) => s.silenced),
      [true, true, false, false],
    );
    await cache.checkNow();
    await cache.checkNow(); // the two silenced samples fall out
    history = cache.get('p')!.history;
    assert.equal(history.silencedSamples, 0);
    assert.equal(history.uptimeExcludingSilenced, history.uptime);
  });

  it('gives 0 uptime excluding silenced when every sample was silenced', { timeout: 10_000 }, async () => {
    const silences = new FakeSilences();
    const { registry, cache, provider } = setup({ silences });
    registry.register('p', provider('p'));
    silences.silence('p', ['s']);
    await cache.checkNow();
    assert.deepEqual(cache.get('p')?.history, {
      samples: 1,
      uptime: 1,
      latencyP50: cache.get('p')?.history.latencyP50,
      latencyP95: cache.get('p')?.history.latencyP95,
      uptimeExcludingSilenced: 0,
      silencedSamples: 1,
    });
  });

  it('validates the option and stops following the source on dispose', () => {
    const registry = new ProviderRegistry();
    assert.throws(
      () => new HealthCache(registry, { silences: 5 as never }),
      (error: unknown) => error instanceof OptionTypeError && error.option === 'silences',
    );
    assert.throws(
      () => new HealthCache(registry, { silences: { silencedBy: 1, onChange: () => {} } as never }),
      (error: unknown) => error instanceof OptionTypeError && error.option === 'silences.silencedBy',
    );
    const silences = new FakeSilences();
    const cache = new HealthCache(registry, { silences });
    assert.equal(cache.options.silences, silences);
    assert.ok(Object.isFrozen(cache.options));
    assert.equal(silences.listeners, 1);
    cache.dispose();
    assert.equal(silences.listeners, 0);
  });
});

describe('restore recomputes what belongs to this cache', () => {
  it(
    "takes labels, dependencies, blockedBy and silencedBy from this cache's registry and silences",
    { timeout: 10_000 },
    async () => {
      const silences = new FakeSilences();
      const { clock, registry, cache, up, provider } = setup({ silences });
      registry.register('db', provider('db'));
      registry.register('api', provider('api'), { labels: { env: 'prod' }, dependsOn: ['db'] });
      silences.byLabels = (labels) => (labels.env === 'prod' ? ['here'] : []);
      up.set('db', false);
      await cache.checkProvider('db');
      const foreign = Object.freeze({
        ...restoredStatus('api', clock.now() + 1),
        healthy: false,
        state: 'unhealthy' as const,
        labels: Object.freeze({ env: 'elsewhere' }),
        dependsOn: Object.freeze(['ghost']),
        blockedBy: Object.freeze(['ghost']),
        silencedBy: Object.freeze(['there']),
      });
      assert.equal(
        cache.restore(foreign, { checkedAt: foreign.checkedAt, latency: 2, state: 'unhealthy' }),
        true,
      );
      const api = cache.get('api');
      assert.deepEqual({ ...api?.labels }, { env: 'prod' });
      assert.deepEqual(api?.dependsOn, ['db']);
      assert.deepEqual(api?.blockedBy, ['db']);
      assert.deepEqual(api?.silencedBy, ['here']);
      assert.equal(cache.history('api').at(-1)?.silenced, true);

      // A restored dependency re-annotates its dependents like a check.
      assert.equal(cache.restore(restoredStatus('db', clock.now() + 2)), true);
      assert.deepEqual(cache.get('api')?.blockedBy, []);
    },
  );
});
