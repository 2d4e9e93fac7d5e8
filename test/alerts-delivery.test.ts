import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import {
  Alerting,
  backoffDelay,
  DeliveryQueue,
  webhookNotifier,
  type DeliveryOptions,
  type DeliveryOutcome,
  type Notification,
} from '../src/alerts/index.js';
import { ManualClock } from '../src/testing/index.js';
import { leakedSecrets, refusedPort } from './support/listen.js';
import { startReceiver, type Receiver } from './support/receivers.js';
import { startSmtp } from './support/smtp.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const SECRET = `whsec_${Buffer.from('delivery-test-signing-key-32byte').toString('base64')}`;

/** Waits (in real time, bounded) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const note = (id: string): Notification => ({
  id,
  incident: `inc_${id}`,
  type: 'firing',
  rule: 'r',
  reminder: 0,
  test: false,
  startedAt: '2026-11-30T10:00:00.000Z',
  providers: [],
});

function queueFor(receiver: Receiver, options: Partial<DeliveryOptions> = {}) {
  const clock = new ManualClock(Date.now());
  const notifier = webhookNotifier({ name: 'ops', url: `${receiver.url}/h`, secret: SECRET });
  const queue = new DeliveryQueue(notifier, { clock, random: () => 0.5, ...options });
  const outcomes: DeliveryOutcome[] = [];
  queue.onOutcome((o) => outcomes.push(o));
  const results = () => outcomes.map((o) => o.result);
  return { clock, queue, outcomes, results };
}

describe('DeliveryQueue', { timeout: 30_000 }, () => {
  it('backs off exponentially with jitter, capped', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10].map((n) => backoffDelay(n, 1000, 5000, () => 0)),
      [500, 1000, 2000, 2500, 2500],
    );
    assert.deepEqual(
      [1, 2, 3].map((n) => backoffDelay(n, 1000, 5000, () => 0.999999)).map(Math.round),
      [1000, 2000, 4000],
    );
  });

  it('retries 5xx after the backoff and 429 after Retry-After, on the injected clock, same webhook-id', async () => {
    const receiver = await startReceiver({ status: 204 });
    receiver.script.push({ status: 503 }, { status: 429, headers: { 'retry-after': '120' } });
    const { clock, queue, outcomes, results } = queueFor(receiver);
    try {
      queue.enqueue(note('m1'));
      await until(() => outcomes.length === 1, 'first outcome');
      assert.deepEqual(outcomes[0]!.retryIn, 750, '1 s base, equal jitter at 0.5');
      assert.equal(outcomes[0]!.status, 503);
      await clock.advance(749);
      assert.equal(receiver.received.length, 1, 'no retry before the backoff');
      await clock.advance(1);
      await until(() => outcomes.length === 2, 'second outcome');
      assert.equal(outcomes[1]!.retryIn, 120_000, 'Retry-After honoured');
      await clock.advance(119_999);
      assert.equal(receiver.received.length, 2);
      await clock.advance(1);
      await until(() => outcomes.length === 3, 'sent');
      assert.deepEqual(results(), ['retrying', 'retrying', 'sent']);
      assert.deepEqual(
        receiver.received.map((r) => r.headers['webhook-id']),
        ['m1', 'm1', 'm1'],
      );
    } finally {
      queue.dispose();
      await receiver.close();
    }
  });

  it('does not retry other 4xx', async () => {
    const receiver = await startReceiver({ status: 410, body: 'channel_is_archived' });
    const { clock, queue, outcomes } = queueFor(receiver);
    try {
      queue.enqueue(note('m1'));
      await until(() => outcomes.length === 1, 'outcome');
      await clock.advance(600_000);
      assert.equal(receiver.received.length, 1);
      assert.equal(outcomes[0]!.result, 'failed');
      assert.equal(outcomes[0]!.error, 'HTTP 410: channel_is_archived');
    } finally {
      queue.dispose();
      await receiver.close();
    }
  });

  it('gives up on a notification still failing after giveUpAfter, counts it, and moves on', async () => {
    const port = await refusedPort();
    const clock = new ManualClock(Date.now());
    const notifier = webhookNotifier({ name: 'ops', url: `http://127.0.0.1:${port}/h`, secret: SECRET });
    const queue = new DeliveryQueue(notifier, {
      clock,
      random: () => 1,
      initialBackoff: 1000,
      maxBackoff: 4000,
      giveUpAfter: 10_000,
    });
    const outcomes: DeliveryOutcome[] = [];
    queue.onOutcome((o) => outcomes.push(o));
    queue.enqueue(note('m1'));
    queue.enqueue(note('m2'));
    // An outcome may arrive while `advance` settles: step through them by index.
    for (let seen = 0; seen < 12 && !outcomes.some((o) => o.result === 'expired'); seen++) {
      await until(() => outcomes.length > seen, 'an outcome');
      await clock.advance(outcomes[seen]!.retryIn ?? 0);
    }
    // Delays 1, 2, 4 s (attempts at 0, 1, 3, 7 s); a fourth delay of 4 s would pass 10 s: expired.
    assert.deepEqual(
      outcomes.filter((o) => o.id === 'm1').map((o) => o.result),
      ['retrying', 'retrying', 'retrying', 'expired'],
    );
    assert.match(
      outcomes.find((o) => o.result === 'expired')!.error!,
      /network error \(ECONNREFUSED\); gave up after 10 s/,
    );
    await until(() => outcomes.some((o) => o.id === 'm2'), 'the next notification attempted');
    assert.equal(queue.counts().expired, 1);
    queue.dispose();
    await queue.idle();
    assert.equal(queue.counts().cancelled, 1, 'the retry in wait is cancelled on dispose');
  });

  it('bounds the queue (drops the oldest waiting, counted) and times out a hanging receiver', async () => {
    const receiver = await startReceiver('hang');
    const { clock, queue, outcomes } = queueFor(receiver, { maxQueue: 2, attemptTimeout: 10_000 });
    try {
      const started = performance.now();
      for (let i = 1; i <= 5; i++) queue.enqueue(note(`m${i}`));
      assert.ok(performance.now() - started < 50, 'enqueue returns at once');
      assert.deepEqual(
        outcomes.map((o) => [o.id, o.result]),
        [
          ['m2', 'dropped'],
          ['m3', 'dropped'],
        ],
      );
      assert.equal(queue.size, 2);
      await receiver.waitFor(1);
      await clock.advance(10_000);
      await until(() => outcomes.length === 3, 'timeout outcome');
      assert.equal(outcomes[2]!.result, 'retrying');
      assert.equal(outcomes[2]!.error, 'no answer within 10 s');
    } finally {
      queue.dispose();
      await receiver.close();
    }
  });
});

describe('Alerting', { timeout: 60_000 }, () => {
  it('one signed firing for providers failing together, one resolved; the sweep never waits on a receiver', async () => {
    const receiver = await startReceiver({ status: 200 });
    const clock = new ManualClock(Date.now());
    const registry = new ProviderRegistry();
    const up = new Map(['a', 'b', 'c'].map((n) => [n, true]));
    for (const name of up.keys())
      registry.register(name, {
        healthCheck: () => void (up.get(name) === true || assert.fail(`${name} down`)),
      });
    const cache = new HealthCache(registry, {
      pollInterval: 1000,
      checkTimeout: 100,
      staleAfter: 3_600_000,
      clock,
    });
    const alerting = new Alerting(cache, {
      notifiers: [{ name: 'ops', type: 'webhook', url: `${receiver.url}/h`, secret: SECRET }],
      alerts: [{ name: 'prod-down', selector: 'env=prod', groupWait: 10_000, notify: ['ops'] }],
      labelsOf: (name) => ({ env: name === 'c' ? 'dev' : 'prod' }),
      clock,
    });
    const outcomes: string[] = [];
    alerting.onDelivery((outcome) => outcomes.push(outcome.result));
    const seenResults = () => [...outcomes];
    const stop = new AbortController();
    const running = cache.run(stop.signal);
    try {
      await clock.advance(0);
      for (const name of up.keys()) up.set(name, false);
      await clock.advance(11_000);
      await receiver.waitFor(1);
      const { body, headers } = receiver.received[0]!;
      const verified = new Webhook(SECRET).verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      }) as { type: string; providers: { name: string; labels: object }[] };
      assert.equal(verified.type, 'firing');
      assert.deepEqual(
        verified.providers.map((p) => [p.name, p.labels]),
        [
          ['a', { env: 'prod' }],
          ['b', { env: 'prod' }],
        ],
      );
      assert.equal(alerting.firing().length, 1);
      receiver.fallback = 'hang';
      for (const name of up.keys()) up.set(name, true);
      await clock.advance(1000);
      await clock.advance(10_000); // groupWait without a relapse
      await receiver.waitFor(2);
      // The receiver holds the resolved (the attempt times out only on the manual clock): sweeps go on.
      await cache.checkNow();
      await cache.checkNow();
      assert.deepEqual(seenResults(), ['sent'], 'two sweeps finished while the delivery is still in flight');
      assert.equal((JSON.parse(receiver.received[1]!.body) as { type: string }).type, 'resolved');
      assert.equal(receiver.received.length, 2, 'exactly one firing and one resolved');
      // Waiting for the queues to drain can be given up on: the held delivery keeps the queue busy.
      const waiting = new AbortController();
      const idle = alerting.idle(waiting.signal);
      waiting.abort(new Error('gave up waiting'));
      await assert.rejects(idle, /gave up waiting/);
    } finally {
      stop.abort();
      await running;
      alerting.dispose();
      await receiver.close();
    }
  });

  it('never lets a secret reach outcomes, recent deliveries, state, firing alerts or errors', async () => {
    // A hostile receiver quoting what it got (the path, the routing key in the body) in its error.
    const receiver = await startReceiver({
      status: 500,
      body: (r) => `upstream broke on ${r.path} ${r.body.slice(0, 120)}`,
    });
    const smtp = await startSmtp();
    const clock = new ManualClock(Date.now());
    const registry = new ProviderRegistry();
    registry.register('x', { healthCheck: () => assert.fail('down') });
    const cache = new HealthCache(registry, { pollInterval: 1000, checkTimeout: 100, clock });
    const secrets = [
      'sEcReT-path-T0KEN',
      SECRET,
      SECRET.slice(6),
      'RoutingKeyRoutingKeyRoutingKey12',
      'wrong-pass-word',
    ];
    const alerting = new Alerting(cache, {
      notifiers: [
        { name: 'ops', type: 'webhook', url: `${receiver.url}/hook/sEcReT-path-T0KEN`, secret: SECRET },
        { name: 'chat', type: 'slack', url: `${receiver.url}/services/sEcReT-path-T0KEN` },
        {
          name: 'pager',
          type: 'pagerduty',
          routingKey: secrets[3]!,
          url: `${receiver.url}/v2/enqueue?k=sEcReT-path-T0KEN`,
        },
        {
          name: 'mail',
          type: 'email',
          smtp: smtp.url.replace(/:[^:@/]+@/, ':wrong-pass-word@'),
          from: 'a@example.com',
          to: ['b@example.com'],
        },
      ],
      alerts: [{ name: 'all', notify: ['ops', 'chat', 'pager', 'mail'] }],
      clock,
      delivery: { giveUpAfter: 5000 },
    });
    const seen: DeliveryOutcome[] = [];
    alerting.onDelivery((o) => seen.push(o));
    await cache.checkNow();
    await clock.advance(0);
    try {
      await until(() => seen.length >= 4, 'four outcomes');
      for (let i = 0; i < 8; i++) await clock.advance(5000);
      await until(
        () => seen.filter((o) => o.result === 'expired' || o.result === 'failed').length === 4,
        'all four ended',
        10_000,
      );
      const errors = await Promise.all(
        ['ops', 'chat', 'pager', 'mail'].map((n) =>
          alerting.sendTest(n).then(
            () => 'sent',
            (e: unknown) => `${String(e)} ${JSON.stringify(e)}`,
          ),
        ),
      );
      const everything = JSON.stringify([
        seen,
        alerting.recentDeliveries(),
        alerting.engine?.state(),
        alerting.firing(),
        alerting.counts(),
        errors,
      ]);
      assert.deepEqual(leakedSecrets(everything, secrets), []);
      assert.match(errors[3]!, /SMTP 535/);
      assert.match(errors[0]!, /HTTP 500: upstream broke on \/hook\/\*\*\*/);
    } finally {
      alerting.dispose();
      await receiver.close();
      await smtp.close();
    }
  });
});
