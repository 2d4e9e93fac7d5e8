import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HealthCache, ProviderRegistry, type HealthReport, type SweepSummary } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { restoredStatus } from './fixtures/core-status.js';

type Behaviour = 'ok' | 'throw' | 'hang' | 'garbage' | 'slow' | 'degraded';

type Action =
  | { kind: 'register'; name: string; behaviour: Behaviour }
  | { kind: 'unregister'; name: string }
  | { kind: 'checkNow' }
  | { kind: 'advance'; ms: number }
  | { kind: 'release' }
  | { kind: 'restore' };

const names = ['a', 'b', 'c', 'd'];
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant('register' as const),
    name: fc.constantFrom(...names),
    behaviour: fc.constantFrom<Behaviour>('ok', 'throw', 'hang', 'garbage', 'slow', 'degraded'),
  }),
  fc.record({ kind: fc.constant('unregister' as const), name: fc.constantFrom(...names) }),
  fc.constant({ kind: 'checkNow' as const }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
  fc.constant({ kind: 'release' as const }),
  // Weighted up, and restoring every name: a restore only matters while a check is in flight.
  { arbitrary: fc.constant({ kind: 'restore' as const }), weight: 3 },
);

/**
 * Drives random sequences against the cache and checks its invariants after
 * every step: sweeps never overlap, results never go backwards, a provider
 * with a pending call is never called again, removed providers are absent,
 * and a check started before a restore never replaces the restored status.
 */
describe('HealthCache invariants (property-based)', () => {
  it(
    'hold for random sequences of registrations, sweeps, restores, time and checker outcomes',
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(action, { minLength: 1, maxLength: 40 }),
          fc.boolean(),
          // 0: every change published at once; 100 (the default): snapshots may trail by less than that.
          fc.constantFrom(0, 100),
          async (actions, running, snapshotInterval) => {
            const clock = new ManualClock();
            const registry = new ProviderRegistry();
            const cache = new HealthCache(registry, {
              pollInterval: 1_000,
              checkTimeout: 200,
              clock,
              concurrency: 2,
              snapshotInterval,
            });
            const violations: string[] = [];
            const hung: (() => void)[] = [];
            const sweeps: SweepSummary[] = [];
            const lastCheckedAt = new Map<string, number>();
            cache.onSweep((s) => sweeps.push(s));
            cache.onResult(({ name, status }) => {
              const previous = lastCheckedAt.get(name);
              if (previous !== undefined && status.checkedAt.getTime() < previous) {
                violations.push(`${name}: result went backwards`);
              }
              lastCheckedAt.set(name, status.checkedAt.getTime());
            });
            cache.onRemove(({ name }) => lastCheckedAt.delete(name));
            // When the first change not yet seen in a snapshot happened.
            let unpublishedSince: number | undefined;
            cache.onChange(() => (unpublishedSince ??= clock.now()));
            // Every call gets an id carried by its result; a restore remembers the last id issued then.
            let callCount = 0;
            const restoredAfterCall = new Map<string, number>();
            const lastCallOf = new Map<string, number>();
            cache.onResult(({ name, status }) => {
              // A timeout comes from the provider's last call: it is never called again while one is pending.
              const id =
                status.details?.call ??
                /call-(\d+)/.exec(status.message)?.[1] ??
                (status.message.startsWith('timed out') ? lastCallOf.get(name) : undefined);
              const limit = restoredAfterCall.get(name);
              if (id !== undefined && limit !== undefined && Number(id) <= limit)
                violations.push(`${name}: a check started before a restore replaced it`);
            });

            const makeProvider = (name: string, behaviour: Behaviour) => {
              let open = 0;
              return {
                healthCheck: (signal: AbortSignal): Promise<HealthReport | void> => {
                  if (open > 0) violations.push(`${name}: called while a previous call was pending`);
                  open++;
                  const call = ++callCount;
                  lastCallOf.set(name, call);
                  const done = () => open--;
                  switch (behaviour) {
                    case 'ok':
                      done();
                      return Promise.resolve({ healthy: true, details: { call } });
                    case 'degraded':
                      done();
                      return Promise.resolve({ healthy: true, degraded: true, details: { call } });
                    case 'throw':
                      done();
                      throw new Error(`boom call-${call}`);
                    case 'garbage':
                      done();
                      return Promise.resolve('garbage' as never);
                    case 'slow':
                      return new Promise((resolve) => {
                        const timer = clock.setTimeout(() => {
                          done();
                          resolve({ healthy: true, details: { call } });
                        }, 50);
                        signal.addEventListener('abort', () => {
                          clock.clearTimeout(timer);
                          done();
                          resolve();
                        });
                      });
                    case 'hang':
                      // Ignores its signal; settles only when the test releases it.
                      return new Promise((resolve) => hung.push(() => (done(), resolve())));
                  }
                },
              };
            };

            const stop = new AbortController();
            const run = running ? cache.run(stop.signal) : Promise.resolve();
            const pending: Promise<unknown>[] = [];
            for (const step of actions) {
              switch (step.kind) {
                case 'register':
                  registry.register(step.name, makeProvider(step.name, step.behaviour));
                  break;
                case 'unregister':
                  registry.unregister(step.name);
                  break;
                case 'checkNow':
                  pending.push(cache.checkNow());
                  break;
                case 'advance':
                  await clock.advance(step.ms);
                  break;
                case 'restore':
                  for (const name of names) {
                    if (cache.restore(restoredStatus(name, clock.now())))
                      restoredAfterCall.set(name, callCount);
                  }
                  break;
                case 'release':
                  hung.splice(0).forEach((release) => release());
                  await clock.settle();
                  break;
              }
              for (const name of names) {
                if (!registry.has(name) && cache.get(name) !== undefined)
                  violations.push(`${name}: removed but present`);
              }
              const snapshot = cache.snapshot();
              const sorted = [...snapshot].map((s) => s.name).sort();
              assert.deepEqual(
                snapshot.map((s) => s.name),
                sorted,
              );
              if (snapshotInterval === 0) {
                for (const status of snapshot) assert.equal(cache.get(status.name), status);
              }
              const checked = names.filter((name) => cache.get(name) !== undefined).length;
              if (snapshot.length === checked && snapshot.every((s) => cache.get(s.name) === s)) {
                unpublishedSince = undefined;
              } else if (
                snapshotInterval === 0 ||
                unpublishedSince === undefined ||
                clock.now() - unpublishedSince >= snapshotInterval
              ) {
                violations.push(
                  `snapshot behind get() by ${unpublishedSince === undefined ? 'an unseen change' : `${clock.now() - unpublishedSince} ms`} (snapshotInterval ${snapshotInterval})`,
                );
              }
            }
            // Let everything finish: release hung calls, then run past every timeout.
            hung.splice(0).forEach((release) => release());
            await clock.advance(2_000);
            await Promise.all(pending);
            if (running) {
              // The schedule survives whatever happened: a full sweep still comes within two intervals.
              const fullSweeps = sweeps.filter((s) => s.full).length;
              await clock.advance(2_500);
              if (sweeps.filter((s) => s.full).length === fullSweeps) violations.push('polling stopped');
            }
            stop.abort();
            await run;
            for (let i = 1; i < sweeps.length; i++) {
              const previous = sweeps[i - 1]!;
              const end = previous.startedAt.getTime() + previous.duration;
              if (sweeps[i]!.startedAt.getTime() < end)
                violations.push(`sweep ${i} overlapped the previous one`);
            }
            assert.deepEqual(violations, []);
            // After run, only the one stale timer may stay (unref'd; reads have no side effects, so
            // staleness needs it whether or not the cache polls); dispose releases it too.
            assert.ok(clock.pendingTimers <= 1, `${clock.pendingTimers} timers left after run`);
            cache.dispose();
            assert.equal(clock.pendingTimers, 0);
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});
