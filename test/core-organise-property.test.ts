import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HealthCache, ProviderRegistry, type HealthReport, type Status } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { restoredStatus } from './fixtures/core-status.js';
import { FakeSilences } from './support/fake-silences.js';

type Outcome = 'healthy' | 'degraded' | 'unhealthy';

type Action =
  | { kind: 'result'; name: string; outcome: Outcome }
  | { kind: 'sweep' }
  | { kind: 'relabel'; name: string; team: string; deps: boolean[] }
  | { kind: 'toggle'; name: string; deps: boolean[] }
  | { kind: 'silence'; name: string; ids: string[] }
  | { kind: 'silenceTeam'; team: string | undefined }
  | { kind: 'advance'; ms: number }
  | { kind: 'forget'; name: string }
  | { kind: 'restore'; name: string };

// In dependency order: a provider may depend only on those before it, so no cycle is ever asked for.
const names = ['a', 'b', 'c', 'd'];
const teams = ['db', 'web'];
const name = fc.constantFrom(...names);
const deps = fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('result' as const),
      name,
      outcome: fc.constantFrom<Outcome>('healthy', 'degraded', 'unhealthy'),
    }),
    weight: 4,
  },
  { arbitrary: fc.constant({ kind: 'sweep' as const }), weight: 2 },
  fc.record({ kind: fc.constant('relabel' as const), name, team: fc.constantFrom(...teams), deps }),
  fc.record({ kind: fc.constant('toggle' as const), name, deps }),
  fc.record({ kind: fc.constant('silence' as const), name, ids: fc.subarray(['s1', 's2', 's3']) }),
  fc.record({
    kind: fc.constant('silenceTeam' as const),
    team: fc.option(fc.constantFrom(...teams), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
  fc.record({ kind: fc.constant('forget' as const), name }),
  fc.record({ kind: fc.constant('restore' as const), name }),
);

const failing = (status: Status | undefined): boolean =>
  status?.state === 'unhealthy' || status?.state === 'stale';

/**
 * After any sequence of results, staleness, relabels, (un)registrations,
 * forgets, restores and silence changes, every status carries exactly: its
 * registry's labels and dependencies, the failing direct dependencies while it
 * fails itself (else none), the silence source's answer, and a history summary
 * that agrees with its samples.
 */
describe('labels, dependencies and silences (property-based)', () => {
  it(
    'every status is annotated exactly as its registry, its dependencies and the silences say',
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(deps, { minLength: names.length, maxLength: names.length }),
          fc.array(action, { minLength: 1, maxLength: 60 }),
          async (graph, actions) => {
            const clock = new ManualClock();
            const registry = new ProviderRegistry();
            const silences = new FakeSilences();
            const cache = new HealthCache(registry, {
              pollInterval: 1_000,
              checkTimeout: 100,
              clock,
              silences,
              snapshotInterval: 0,
              historySize: 3,
              staleAfter: 1_000,
            });
            const outcome = new Map<string, Outcome>();
            const provider = (n: string) => ({
              healthCheck: (): Promise<HealthReport> => {
                const state = outcome.get(n) ?? 'healthy';
                return Promise.resolve({ healthy: state !== 'unhealthy', degraded: state === 'degraded' });
              },
            });
            const depsOf = (n: string, picks: boolean[]) =>
              names
                .slice(0, names.indexOf(n))
                .filter((_, i) => picks[i])
                .filter((d) => registry.has(d));
            /** Names whose summary came from elsewhere (a restore) and not from this cache's samples. */
            const restored = new Set<string>();
            cache.onResult(({ name: n }) => restored.delete(n));
            cache.onRemove(({ name: n }) => restored.delete(n));
            names.forEach((n, i) =>
              registry.register(n, provider(n), { dependsOn: depsOf(n, graph[i] ?? []) }),
            );

            for (const step of actions) {
              switch (step.kind) {
                case 'result':
                  outcome.set(step.name, step.outcome);
                  if (registry.has(step.name)) await cache.checkProvider(step.name);
                  break;
                case 'sweep':
                  await cache.checkNow();
                  break;
                case 'relabel': {
                  const current = registry.get(step.name);
                  if (current === undefined) break;
                  registry.register(step.name, current, {
                    labels: { team: step.team },
                    dependsOn: depsOf(step.name, step.deps),
                  });
                  break;
                }
                case 'toggle':
                  if (!registry.has(step.name))
                    registry.register(step.name, provider(step.name), {
                      dependsOn: depsOf(step.name, step.deps),
                    });
                  else if (registry.dependents(step.name).length === 0) registry.unregister(step.name);
                  break;
                case 'silence':
                  silences.silence(step.name, step.ids);
                  silences.changed();
                  break;
                case 'silenceTeam':
                  silences.byLabels = (labels) =>
                    step.team !== undefined && labels.team === step.team ? [`team-${step.team}`] : [];
                  silences.changed();
                  break;
                case 'advance':
                  await clock.advance(step.ms);
                  break;
                case 'forget':
                  cache.forget(step.name);
                  break;
                case 'restore':
                  if (cache.restore(restoredStatus(step.name, clock.now() + 1))) restored.add(step.name);
                  break;
              }
              check(step);
            }
            cache.dispose();

            function check(step: Action): void {
              const where = `after ${JSON.stringify(step)}`;
              for (const n of names) {
                const status = cache.get(n);
                if (status === undefined) continue;
                assert.equal(status.labels, registry.labels(n), `${n} labels ${where}`);
                assert.deepEqual(status.dependsOn, registry.dependsOn(n), `${n} dependsOn ${where}`);
                const expected = failing(status)
                  ? registry.dependsOn(n).filter((d) => failing(cache.get(d)))
                  : [];
                assert.deepEqual(status.blockedBy, expected, `${n} blockedBy ${where}`);
                assert.deepEqual(
                  status.silencedBy,
                  silences.silencedBy(n, registry.labels(n)),
                  `${n} silencedBy ${where}`,
                );
                assert.ok(Object.isFrozen(status.blockedBy) && Object.isFrozen(status.silencedBy));
                if (!restored.has(n)) {
                  const samples = cache.history(n);
                  const unsilenced = samples.filter((s) => !s.silenced);
                  const up = (list: typeof samples) => list.filter((s) => s.state !== 'unhealthy').length;
                  assert.equal(status.history.samples, samples.length, `${n} samples ${where}`);
                  assert.equal(
                    status.history.silencedSamples,
                    samples.length - unsilenced.length,
                    `${n} silencedSamples ${where}`,
                  );
                  assert.equal(
                    status.history.uptimeExcludingSilenced,
                    unsilenced.length === 0 ? 0 : up(unsilenced) / unsilenced.length,
                    `${n} uptimeExcludingSilenced ${where}`,
                  );
                }
              }
              assert.deepEqual(
                cache.snapshot(),
                registry
                  .names()
                  .map((n) => cache.get(n))
                  .filter((s) => s !== undefined),
                `snapshot ${where}`,
              );
            }
          },
        ),
        { numRuns: 500 },
      );
    },
  );
});
