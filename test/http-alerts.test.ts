/**
 * GET /api/alerts and the alert metrics over real sockets, fed by a real
 * Alerting whose notifiers post to a hostile local receiver (it answers 500
 * quoting what it got): firing incidents with their providers, recent
 * deliveries with their outcome, and no secret (webhook URL path, signing
 * secret, routing key) anywhere in the answers or the metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Alerting } from '../src/alerts/index.js';
import { createHealthHandler } from '../src/http/index.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { request, serve, switchable, waitUntil } from './support/http.js';
import { startReceiver } from './support/receivers.js';
import { failOnUnhandledRejections } from './support/unhandled.js';
import { promtool } from './support/promtool.js';

failOnUnhandledRejections();

const SECRETS = [
  'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  'sEcReT-path-T0KEN',
  'RoutingKeyRoutingKeyRoutingKey12',
];

interface AlertsBody {
  firing: {
    rule: string;
    incident: string;
    since: string;
    count: number;
    providers: { name: string; state: string; message: string; labels: object; since: string | null }[];
    recovered: string[];
  }[];
  deliveries: {
    notifier: string;
    notifierType: string;
    type: string;
    rule: string;
    id: string;
    result: string;
    attempt: number;
    at: string;
    status?: number;
    error?: string;
  }[];
}

describe('GET /api/alerts', () => {
  it('shows firing incidents and delivery outcomes, and no secret', { timeout: 60_000 }, async () => {
    const receiver = await startReceiver({
      status: 500,
      body: (r) => `upstream broke on ${r.path} ${r.body.slice(0, 200)}`,
    });
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const registry = new ProviderRegistry();
    const db = switchable(new Error('connection refused'));
    registry.register('db', db, { labels: { env: 'prod', team: 'data' } });
    registry.register('web', switchable(), { labels: { env: 'prod' } });
    registry.register('dev-db', switchable(new Error('down')), { labels: { env: 'dev' } });
    const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 1_000, clock });
    const alerting = new Alerting(cache, {
      notifiers: [
        { name: 'ops', type: 'webhook', url: `${receiver.url}/hook/${SECRETS[1]}`, secret: SECRETS[0]! },
        {
          name: 'pager',
          type: 'pagerduty',
          routingKey: SECRETS[2]!,
          url: `${receiver.url}/v2/enqueue?k=${SECRETS[1]}`,
        },
      ],
      alerts: [{ name: 'prod-down', selector: 'env=prod', notify: ['ops', 'pager'] }],
      clock,
    });
    const handler = createHealthHandler(cache, { alerts: alerting, clock, page: false });
    const server = await serve(handler);
    try {
      await cache.checkNow();
      await clock.advance(0);
      await receiver.waitFor(2, 10_000);
      await waitUntil(() => alerting.recentDeliveries().length >= 2, 10_000, 'two delivery outcomes');

      const res = await request(`${server.url}/api/alerts`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json<AlertsBody>();
      assert.equal(body.firing.length, 1);
      const [incident] = body.firing;
      assert.equal(incident!.rule, 'prod-down');
      assert.equal(incident!.count, 1);
      assert.equal(incident!.since, '2026-03-01T10:00:00.000Z');
      assert.deepEqual(incident!.providers, [
        {
          name: 'db',
          state: 'unhealthy',
          message: 'connection refused',
          labels: { env: 'prod', team: 'data' },
          since: '2026-03-01T10:00:00.000Z',
        },
      ]);
      assert.deepEqual(incident!.recovered, []);
      const outcomes = body.deliveries.map((d) => [
        d.notifier,
        d.notifierType,
        d.type,
        d.rule,
        d.result,
        d.status,
      ]);
      assert.deepEqual(outcomes.sort(), [
        ['ops', 'webhook', 'firing', 'prod-down', 'retrying', 500],
        ['pager', 'pagerduty', 'firing', 'prod-down', 'retrying', 500],
      ]);
      for (const delivery of body.deliveries) {
        assert.equal(delivery.attempt, 1);
        assert.match(delivery.error ?? '', /500/);
      }

      const metrics = (await request(`${server.url}/metrics`)).text;
      assert.equal((await promtool(metrics)).code, 0);
      assert.match(metrics, /^provider_health_alerts_firing\{rule="prod-down"\} 1$/m);
      assert.match(metrics, /^provider_health_notifications_total\{notifier="ops",result="retrying"\} 1$/m);
      assert.match(metrics, /^provider_health_notifications_total\{notifier="pager",result="sent"\} 0$/m);

      const everything = res.text + JSON.stringify(res.headers) + metrics;
      for (const secret of SECRETS)
        assert.ok(!everything.includes(secret), `no ${secret.slice(0, 8)}… in answers`);
      assert.ok(!everything.includes(receiver.url), 'no notifier URL in answers');

      // Recovery: the incident resolves and leaves the firing list.
      db.report = { healthy: true, message: 'ok' };
      await cache.checkNow();
      await clock.advance(0);
      const resolved = (await request(`${server.url}/api/alerts`)).json<AlertsBody>();
      assert.deepEqual(resolved.firing, []);
    } finally {
      handler.close();
      await server.close();
      alerting.dispose();
      cache.dispose();
      await receiver.close();
    }
  });

  it(
    'is unknown (404) without an alerts source, and the option is checked',
    { timeout: 30_000 },
    async () => {
      const registry = new ProviderRegistry();
      const cache = new HealthCache(registry);
      const handler = createHealthHandler(cache, { metrics: false });
      const server = await serve(handler);
      try {
        assert.equal((await request(`${server.url}/api/alerts`)).status, 404);
      } finally {
        handler.close();
        await server.close();
      }
      assert.throws(() => createHealthHandler(cache, { alerts: { firing: () => [] } as never }), /alerts/);
      cache.dispose();
    },
  );
});
