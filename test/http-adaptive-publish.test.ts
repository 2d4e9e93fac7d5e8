import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiBodies, BUILD_COST_FACTOR } from '../src/http/api-bodies.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

/** A cache of three providers whose message changes at every check, on a manual clock. */
function setup(buildMs: number): { cache: HealthCache; bodies: ApiBodies; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const registry = new ProviderRegistry();
  let round = 0;
  for (const name of ['a', 'b', 'c'])
    registry.register(name, { healthCheck: () => ({ healthy: true, message: `round ${round++}` }) });
  const cache = new HealthCache(registry, { clock, pollInterval: 60_000 });
  // Every timed build takes `buildMs` on this fake monotonic clock (read at its start and end).
  let elapsed = 0;
  let reads = 0;
  const bodies = new ApiBodies(cache, clock, 250, '', () => (elapsed += reads++ % 2 === 0 ? 0 : buildMs));
  return { cache, bodies, clock };
}

describe('ApiBodies: adaptive publishing', () => {
  it('publishes at most once per publishInterval when building is cheap', async () => {
    const { cache, bodies, clock } = setup(10);
    await cache.checkNow();
    await clock.advance(1_000); // quiet again: the next change is published at once
    const first = bodies.providers().etag;
    await cache.checkProvider('a');
    const second = bodies.providers().etag;
    assert.equal(bodies.minimumSpacing, BUILD_COST_FACTOR * 10);
    await cache.checkProvider('b');
    await clock.advance(249);
    assert.equal(bodies.providers().etag, second, 'not before publishInterval');
    await clock.advance(1);
    assert.notEqual(bodies.providers().etag, second);
    assert.notEqual(first, second);
    bodies.dispose();
    cache.dispose();
  });

  it('spaces versions by 4x the last build time when that is longer, and says so', async () => {
    const { cache, bodies, clock } = setup(150);
    await cache.checkNow();
    await clock.advance(1_000);
    bodies.providers();
    await clock.advance(1_000);
    await cache.checkProvider('a'); // the first change after a quiet interval is published at once
    const published = bodies.providers().etag;
    assert.equal(bodies.minimumSpacing, 600);
    await cache.checkProvider('b');
    await clock.advance(599);
    assert.equal(bodies.providers().etag, published, 'held back for 4 x 150 ms');
    await clock.advance(1);
    const next = bodies.providers().etag;
    assert.notEqual(next, published);
    const rows = JSON.parse(bodies.providers().body.toString()) as { message: string }[];
    assert.ok(rows.some((row) => row.message === 'round 4'));
    bodies.dispose();
    cache.dispose();
  });
});
