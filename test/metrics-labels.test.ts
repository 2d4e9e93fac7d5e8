/**
 * provider_health_provider_info{provider, …labels}: label names sanitised to
 * Prometheus rules (and promtool's camelCase lint), collisions resolved
 * deterministically, one series per provider that follows registrations and
 * relabellings; the alert metrics; everything promtool-valid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthHandler } from '../src/http/index.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { createMetrics, prometheusLabels, sanitiseLabelName } from '../src/metrics/index.js';
import { request, serve, switchable } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';
import { promtool } from './support/promtool.js';

failOnUnhandledRejections();

/** The lines of `name` in `text` (samples only). */
function series(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** Labels whose keys need every rule: prefixes, dots, dashes, camelCase, digits, collisions. */
const ODD_LABELS = {
  'app.kubernetes.io/name': 'api',
  'example.com/team': 'db',
  'a.b': 'dotted',
  a_b: 'plain',
  'a-b': 'dashed',
  appVersion: '1.2.3',
  '9lives': 'cat',
  provider: 'aws',
  env: 'prod',
  Zone: 'eu-1',
};

describe('label names', () => {
  it('sanitises keys to Prometheus rules', () => {
    const cases: [string, string][] = [
      ['env', 'env'],
      ['app.kubernetes.io/name', 'app_kubernetes_io_name'],
      ['a-b', 'a_b'],
      ['appVersion', 'app_Version'],
      ['APIVersion', 'APIVersion'],
      ['9lives', '_9lives'],
      ['1.2/x', '_1_2_x'],
      ['__x', 'l__x'],
    ];
    for (const [key, name] of cases) {
      assert.equal(sanitiseLabelName(key), name, key);
      assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
      assert.doesNotMatch(name, /[a-z][A-Z]/, 'no camelCase (promtool lint)');
    }
  });

  it('resolves collisions deterministically: valid keys keep their names', () => {
    const pairs = prometheusLabels(Object.freeze({ ...ODD_LABELS }));
    assert.deepEqual(Object.fromEntries(pairs), {
      _9lives: 'cat',
      a_b: 'plain',
      a_b_2: 'dashed',
      a_b_3: 'dotted',
      app_Version: '1.2.3',
      app_kubernetes_io_name: 'api',
      env: 'prod',
      example_com_team: 'db',
      provider_2: 'aws',
      Zone: 'eu-1',
    });
    // The same set in another key order gives the same names.
    const reversed = Object.freeze(Object.fromEntries(Object.entries(ODD_LABELS).reverse()));
    assert.deepEqual(Object.fromEntries(prometheusLabels(reversed)), Object.fromEntries(pairs));
    // Without the valid `a_b`, the first key in sorted order ("-" before ".") takes the plain name.
    assert.deepEqual(Object.fromEntries(prometheusLabels(Object.freeze({ 'a.b': 'x', 'a-b': 'y' }))), {
      a_b: 'y',
      a_b_2: 'x',
    });
  });
});

describe('GET /metrics: provider info and alert metrics', () => {
  it('has one info series per provider with its labels, promtool-valid', { timeout: 60_000 }, async () => {
    const registry = new ProviderRegistry();
    registry.register('odd', switchable(), { labels: ODD_LABELS });
    registry.register('plain', switchable());
    registry.register('quoted "name"\\\n', switchable(), { labels: { env: 'dev' } });
    const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 2_000 });
    await cache.checkNow();
    const handler = createHealthHandler(cache, { page: false });
    const server = await serve(handler);
    try {
      const text = (await request(`${server.url}/metrics`)).text;
      const lint = await promtool(text);
      assert.equal(lint.code, 0, `promtool check metrics failed:\n${lint.output}`);
      assert.equal(lint.output.trim(), '', 'no lint findings');
      assert.match(text, /# TYPE provider_health_provider_info gauge/);
      assert.deepEqual(series(text, 'provider_health_provider_info'), [
        // In sorted key order (UTF-16: "Z" before "a", "-" before "."): deterministic output.
        'provider_health_provider_info{provider="odd",_9lives="cat",Zone="eu-1",a_b_2="dashed",a_b_3="dotted",a_b="plain",app_kubernetes_io_name="api",app_Version="1.2.3",env="prod",example_com_team="db",provider_2="aws"} 1',
        'provider_health_provider_info{provider="plain"} 1',
        'provider_health_provider_info{provider="quoted \\"name\\"\\\\\\n",env="dev"} 1',
      ]);
      // Relabelled and unregistered providers are followed at the next scrape.
      registry.register('plain', registry.get('plain')!, { labels: { team: 'web' } });
      registry.unregister('odd');
      const after = (await request(`${server.url}/metrics`)).text;
      assert.deepEqual(series(after, 'provider_health_provider_info'), [
        'provider_health_provider_info{provider="plain",team="web"} 1',
        'provider_health_provider_info{provider="quoted \\"name\\"\\\\\\n",env="dev"} 1',
      ]);
      assert.equal((await promtool(after)).code, 0);
    } finally {
      handler.close();
      await server.close();
      cache.dispose();
    }
  });

  it(
    'counts notifications per notifier and result and firing alerts per rule',
    { timeout: 60_000 },
    async () => {
      const registry = new ProviderRegistry();
      registry.register('a', switchable());
      const cache = new HealthCache(registry, { pollInterval: 60_000 });
      let firing = [{ rule: 'prod-down' }, { rule: 'prod-down' }, { rule: 'db-slow' }];
      const alerts = {
        firing: () => firing,
        counts: () => ({
          ops: { sent: 3, retrying: 1, failed: 0, expired: 0, dropped: 0, cancelled: 0 },
          pager: { sent: 1, retrying: 0, failed: 2, expired: 0, dropped: 0, cancelled: 0 },
        }),
        ruleNames: () => ['prod-down', 'db-slow', 'never'],
      };
      const metrics = await createMetrics(cache, { alerts });
      try {
        const text = await metrics.render();
        assert.equal((await promtool(text)).code, 0, text);
        assert.match(text, /# TYPE provider_health_notifications_total counter/);
        const notifications = series(text, 'provider_health_notifications_total');
        assert.ok(
          notifications.includes('provider_health_notifications_total{notifier="ops",result="sent"} 3'),
        );
        assert.ok(
          notifications.includes('provider_health_notifications_total{notifier="pager",result="failed"} 2'),
        );
        assert.equal(notifications.length, 12);
        assert.deepEqual(series(text, 'provider_health_alerts_firing'), [
          'provider_health_alerts_firing{rule="db-slow"} 1',
          'provider_health_alerts_firing{rule="never"} 0',
          'provider_health_alerts_firing{rule="prod-down"} 2',
        ]);
        firing = [];
        const quiet = await metrics.render();
        assert.deepEqual(series(quiet, 'provider_health_alerts_firing'), [
          'provider_health_alerts_firing{rule="db-slow"} 0',
          'provider_health_alerts_firing{rule="never"} 0',
          'provider_health_alerts_firing{rule="prod-down"} 0',
        ]);
      } finally {
        metrics.dispose();
      }
      // Disposing removes the new metrics from the registry too.
      assert.equal(metrics.registry.getSingleMetric('provider_health_provider_info'), undefined);
      assert.equal(metrics.registry.getSingleMetric('provider_health_alerts_firing'), undefined);
      await assert.rejects(createMetrics(cache, { alerts: {} as typeof alerts }), /alerts/);
      cache.dispose();
    },
  );
});
