import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createHealthHandler } from '../src/http/index.js';
import { createMetrics } from '../src/metrics/index.js';
import type { HealthCache } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { demoCache, request, serve, switchable } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';
import { promtool } from './support/promtool.js';

failOnUnhandledRejections();

const WEIRD = 'quote" back\\slash\nnewline';

/** The value of the sample `series` (name and labels exactly as exposed). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * A cache holding every state: healthy, degraded, unhealthy, unknown, stale,
 * and one hung check that was abandoned at its timeout.
 */
async function everyState<T>(attach: (cache: HealthCache) => T) {
  const clock = new ManualClock();
  const setup = await demoCache(
    { old: switchable() },
    { clock, pollInterval: 1_000, checkTimeout: 100 },
    false,
  );
  const { registry, cache } = setup;
  // Metrics count results from their creation on, so attach them before checking.
  const attached = attach(cache);
  await cache.checkNow();
  await clock.advance(2_500);
  registry.register('up', switchable());
  registry.register('slow', switchable({ healthy: true, degraded: true, message: 'slow' }));
  registry.register('down', switchable(new Error('refused')));
  registry.register(WEIRD, switchable());
  registry.register('hung', { healthCheck: () => new Promise(() => {}) });
  for (const name of ['up', 'slow', 'down', WEIRD]) await cache.checkProvider(name);
  const hung = cache.checkProvider('hung');
  await clock.advance(100);
  await hung;
  registry.register('never', switchable());
  await clock.advance(600);
  return { clock, attached, ...setup };
}

describe('GET /metrics', () => {
  it(
    'exposes every state, checks, durations and abandoned checks, and passes promtool check metrics',
    { timeout: 60_000 },
    async () => {
      const { cache, attached: handler } = await everyState((view) => createHealthHandler(view));
      assert.equal(cache.get('old')?.state, 'stale');
      assert.equal(cache.abandonedChecks, 1);
      const server = await serve(handler);
      try {
        const res = await request(`${server.url}/metrics`);
        assert.equal(res.status, 200);
        assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        const text = res.text;

        const lint = await promtool(text);
        assert.equal(lint.code, 0, `promtool check metrics failed:\n${lint.output}`);
        assert.equal(lint.output.trim(), '', 'no lint findings');

        assert.equal(sample(text, 'provider_health_up{provider="up"}'), 1);
        assert.equal(sample(text, 'provider_health_up{provider="slow"}'), 1);
        assert.equal(sample(text, 'provider_health_up{provider="down"}'), 0);
        assert.equal(sample(text, 'provider_health_up{provider="never"}'), 0);
        assert.equal(sample(text, 'provider_health_up{provider="old"}'), 0);
        const states: [string, string][] = [
          ['up', 'healthy'],
          ['slow', 'degraded'],
          ['down', 'unhealthy'],
          ['old', 'stale'],
          ['never', 'unknown'],
          ['hung', 'unhealthy'],
        ];
        for (const [provider, state] of states) {
          assert.equal(
            sample(text, `provider_health_state{provider="${provider}",state="${state}"}`),
            1,
            provider,
          );
          assert.equal(
            sample(
              text,
              `provider_health_state{provider="${provider}",state="${state === 'healthy' ? 'unhealthy' : 'healthy'}"}`,
            ),
            0,
            provider,
          );
        }
        assert.equal(
          sample(text, 'provider_health_up{provider="quote\\" back\\\\slash\\nnewline"}'),
          1,
          'labels escaped',
        );
        assert.equal(sample(text, 'provider_health_checks_total{provider="down",result="unhealthy"}'), 1);
        assert.equal(sample(text, 'provider_health_checks_total{provider="hung",result="unhealthy"}'), 1);
        assert.equal(sample(text, 'provider_health_check_duration_seconds_count{provider="up"}'), 1);
        assert.equal(
          sample(text, 'provider_health_check_duration_seconds_bucket{le="0.1",provider="hung"}'),
          1,
        );
        assert.equal(sample(text, 'provider_health_abandoned_checks'), 1);
        assert.equal(sample(text, 'provider_health_abandoned_checks_total'), 1);
        assert.equal(sample(text, 'provider_health_providers'), 7);
        assert.equal(sample(text, 'provider_health_event_streams'), 0);
        assert.equal(
          sample(text, 'provider_health_last_check_timestamp_seconds{provider="never"}'),
          undefined,
        );
        assert.equal(
          sample(text, 'provider_health_last_check_timestamp_seconds{provider="up"}'),
          cache.get('up')!.checkedAt.getTime() / 1000,
        );
        // The abandoned-total counter does not double on a second scrape.
        const again = await request(`${server.url}/metrics`);
        assert.equal(sample(again.text, 'provider_health_abandoned_checks_total'), 1);
        assert.equal((await request(`${server.url}/metrics`, { method: 'POST' })).status, 405);
      } finally {
        handler.close();
        await server.close();
      }
    },
  );

  it('drops the series of removed providers', { timeout: 60_000 }, async () => {
    const { registry, cache } = await demoCache({ a: switchable(), b: switchable() });
    const metrics = await createMetrics(cache);
    try {
      await cache.checkNow();
      await cache.checkNow();
      assert.match(await metrics.render(), /provider="b"/);
      registry.unregister('b');
      const text = await metrics.render();
      assert.doesNotMatch(text, /provider="b"/);
      assert.equal(sample(text, 'provider_health_checks_total{provider="a",result="healthy"}'), 2);
      assert.equal((await promtool(text)).code, 0);
    } finally {
      metrics.dispose();
    }
  });

  it('adds to a registry you pass and leaves it clean on dispose', { timeout: 60_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const registry = new Registry();
    const metrics = await createMetrics(cache, { registry, prefix: 'ph_', buckets: [0.1, 1] });
    assert.equal(metrics.registry, registry);
    const text = await registry.metrics();
    assert.match(text, /^ph_up\{provider="a"\} 1$/m);
    assert.doesNotMatch(text, /event_streams/, 'only the handler reports streams');
    await assert.rejects(createMetrics(cache, { registry, prefix: 'ph_' }), /already been registered/);
    metrics.dispose();
    assert.equal((await registry.metrics()).trim(), '');
    await assert.rejects(metrics.render(), /after dispose/);
  });

  it('validates its options', { timeout: 60_000 }, async () => {
    const { cache } = await demoCache({}, {}, false);
    await assert.rejects(createMetrics(cache, { prefix: '1bad' }), /`prefix`.*"1bad"/);
    await assert.rejects(createMetrics(cache, { buckets: [1, 0.5] }), /`buckets`/);
    await assert.rejects(createMetrics(cache, { buckets: [] }), /`buckets`/);
    await assert.rejects(createMetrics(cache, { registry: {} as Registry }), /`registry`/);
    await assert.rejects(createMetrics(cache, { eventStreams: 3 as never }), /`eventStreams`/);
  });

  it('answers 501 with a clear message when prom-client is not installed', { timeout: 60_000 }, async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/fixtures/without-packages.mjs',
        'test/fixtures/http-metrics-missing.ts',
      ],
      { cwd: root, timeout: 60_000, env: { ...process.env, WITHOUT_PACKAGES: 'prom-client' } },
    );
    const result = JSON.parse(stdout) as { status: number; body: string; providers: number; direct: string };
    assert.equal(result.status, 501);
    assert.match(result.body, /optional peer dependency prom-client \(npm install prom-client\)/);
    assert.equal(result.providers, 200, 'the rest of the API works');
    assert.match(result.direct, /^MetricsUnavailableError: /);
  });

  it('can be turned off (404)', { timeout: 60_000 }, async () => {
    const { cache } = await demoCache({ a: switchable() });
    const handler = createHealthHandler(cache, { metrics: false });
    const server = await serve(handler);
    try {
      assert.equal((await request(`${server.url}/metrics`)).status, 404);
    } finally {
      handler.close();
      await server.close();
    }
  });
});
