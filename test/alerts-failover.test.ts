// The outbox and terms, without Redis: two Alerting instances on one view take
// turns under an in-memory fenced coordinator (what the Redis one does with
// the lease), delivering to a real signed-webhook receiver. A new leader
// delivers what was due with the same webhook-id and never re-sends what was
// delivered; a fenced save hands nothing out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { Emitter } from '../src/events.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import {
  AlertEngine,
  AlertStateFencedError,
  Alerting,
  MemoryAlertStore,
  validateRules,
  type AlertCoordinator,
  type AlertEngineState,
  type AlertStateStore,
  type DueNotification,
} from '../src/alerts/index.js';
import { ManualClock } from '../src/testing/index.js';
import { startReceiver } from './support/receivers.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const SECRET = `whsec_${Buffer.from('failover-test-signing-key-32byte').toString('base64')}`;

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** One "Redis": a fencing token and the saved state, JSON as it would be stored. */
class FencedMemory {
  token = 0;
  leader: string | undefined;
  saved: string | undefined;
  readonly changed = new Emitter<void>(() => {});

  lead(replica: string | undefined): void {
    this.token += 1;
    this.leader = replica;
    this.changed.emit();
  }

  coordinator(replica: string): AlertCoordinator {
    return {
      onChange: this.changed.event,
      term: () => (this.leader === replica ? this.token : undefined),
      open: (token) => {
        const state = this.saved === undefined ? undefined : (JSON.parse(this.saved) as AlertEngineState);
        const store: AlertStateStore = {
          load: () => state,
          save: async (next) => {
            const json = JSON.stringify(next);
            await delay(1);
            if (this.token !== token) throw new AlertStateFencedError();
            this.saved = json;
          },
        };
        return Promise.resolve(store);
      },
      peek: () => Promise.resolve(this.saved === undefined ? undefined : JSON.parse(this.saved)),
    };
  }
}

function fleet(names: readonly string[]) {
  const clock = new ManualClock(Date.now());
  const registry = new ProviderRegistry();
  const up = new Map(names.map((n) => [n, true]));
  for (const name of names)
    registry.register(name, {
      healthCheck: () => void (up.get(name) === true || assert.fail(`${name} down`)),
    });
  const cache = new HealthCache(registry, {
    pollInterval: 1000,
    checkTimeout: 100,
    staleAfter: 3_600_000,
    clock,
  });
  const stop = new AbortController();
  const running = cache.run(stop.signal);
  return {
    clock,
    cache,
    set: (value: boolean, ...which: string[]) => which.forEach((n) => up.set(n, value)),
    done: async () => {
      stop.abort();
      await running;
    },
  };
}

describe('alerts: outbox and terms', { timeout: 60_000 }, () => {
  it('a new leader delivers the firing the old one was sending (same webhook-id), then one resolved; nothing twice', async () => {
    const receiver = await startReceiver({ status: 200 });
    receiver.script.push('hang');
    const f = fleet(['a', 'b']);
    const memory = new FencedMemory();
    const replica = (id: string) =>
      new Alerting(f.cache, {
        notifiers: [{ name: 'ops', type: 'webhook', url: `${receiver.url}/h`, secret: SECRET }],
        alerts: [{ name: 'down', groupWait: 2000, notify: ['ops'] }],
        coordinator: memory.coordinator(id),
        clock: f.clock,
        peekInterval: 100,
      });
    const one = replica('one');
    const two = replica('two');
    try {
      await f.clock.advance(0);
      memory.lead('one');
      await until(() => one.sending, 'one sends');
      assert.equal(two.sending, false, 'only the leader sends');
      f.set(false, 'a', 'b');
      await f.clock.advance(3000);
      await receiver.waitFor(1);
      // The leader is gone while the receiver holds its firing.
      memory.lead('two');
      await until(() => two.sending && !one.sending, 'two took over');
      await receiver.waitFor(2);
      await two.idle();
      const verify = (i: number) => {
        const { body, headers } = receiver.received[i]!;
        const parsed = new Webhook(SECRET).verify(body, {
          'webhook-id': String(headers['webhook-id']),
          'webhook-timestamp': String(headers['webhook-timestamp']),
          'webhook-signature': String(headers['webhook-signature']),
        }) as { type: string; id: string; providers: { name: string }[] };
        return {
          id: String(headers['webhook-id']),
          type: parsed.type,
          names: parsed.providers.map((p) => p.name),
        };
      };
      assert.deepEqual(verify(1), verify(0), 'the same notification, same webhook-id, redelivered');
      assert.equal(verify(0).type, 'firing');
      assert.deepEqual(verify(0).names, ['a', 'b']);
      assert.equal(one.recentDeliveries().at(-1)?.result, 'cancelled', 'the old leader gave up');
      await f.clock.advance(5000);
      assert.equal(receiver.received.length, 2, 'the new leader does not fire again');
      f.set(true, 'a', 'b');
      await f.clock.advance(1000);
      await f.clock.advance(2000); // groupWait without a relapse
      await receiver.waitFor(3);
      await two.idle();
      await f.clock.advance(5000);
      assert.equal(receiver.received.length, 3);
      assert.equal(verify(2).type, 'resolved');
      assert.notEqual(verify(2).id, verify(0).id);
      const saved = JSON.parse(memory.saved!) as AlertEngineState;
      assert.deepEqual(saved.outbox, [], 'everything delivered is settled');
      assert.deepEqual(two.counts()['ops'], {
        sent: 2,
        retrying: 0,
        failed: 0,
        expired: 0,
        dropped: 0,
        cancelled: 0,
      });
    } finally {
      one.dispose();
      two.dispose();
      await f.done();
      await receiver.close();
    }
  });

  it('hands a notification out only once its save succeeded; a fenced save hands out nothing', async () => {
    const f = fleet(['a']);
    await f.clock.advance(0);
    const held: (() => void)[] = [];
    let hold = true;
    let fenced = false;
    const store: AlertStateStore = {
      load: () => undefined,
      save: (state) => {
        if (fenced) return Promise.reject(new AlertStateFencedError());
        // Held: the save that records the decision.
        if (!hold || state.outbox.length === 0) return undefined;
        return new Promise<void>((resolve) => held.push(resolve));
      },
    };
    const release = () => {
      for (const resolve of held.splice(0)) resolve();
    };
    const rules = validateRules([{ name: 'r', notify: ['n'] }], new Set(['n']));
    const engine = new AlertEngine(f.cache, { rules, clock: f.clock, store });
    const decided: string[] = [];
    const due: DueNotification[] = [];
    engine.onNotification((n) => decided.push(n.id));
    engine.onDue((d) => due.push(d));
    f.set(false, 'a');
    await f.clock.advance(1000);
    assert.equal(decided.length, 1, 'decided');
    await until(() => held.length === 1, 'its save, held');
    await delay(20);
    assert.equal(due.length, 0, 'not handed out while its save is pending');
    hold = false;
    release();
    await until(() => due.length === 1, 'handed out after the save');
    assert.deepEqual(due[0]!.notifiers, ['n']);
    fenced = true;
    f.set(true, 'a');
    await f.clock.advance(1000);
    assert.equal(decided.length, 2, 'the resolved is decided');
    await delay(20);
    assert.equal(due.length, 1, 'but never handed out: another replica leads');
    engine.dispose();
    await f.done();
  });

  it('a resumed engine delivers the unsettled part of the outbox and waits for providers without a status yet', async () => {
    const f = fleet(['a']);
    await f.clock.advance(0);
    const rules = validateRules([{ name: 'r', notify: ['x', 'y'] }], new Set(['x', 'y']));
    const first = new AlertEngine(f.cache, { rules, clock: f.clock, store: new MemoryAlertStore() });
    const firstDue: DueNotification[] = [];
    first.onDue((d) => firstDue.push(d));
    f.set(false, 'a');
    await f.clock.advance(1000);
    await until(() => firstDue.length === 1, 'due');
    first.settle(firstDue[0]!.notification.id, 'x');
    const state = first.state();
    first.dispose();
    assert.deepEqual(
      state.outbox.map((e) => e.notifiers),
      [['y']],
    );

    // A new leader whose view has not checked `a` yet (it is registered).
    const registry = new ProviderRegistry();
    registry.register('a', { healthCheck: () => {} });
    const fresh = new HealthCache(registry, { clock: f.clock, staleAfter: 3_600_000 });
    const resumed = new AlertEngine(fresh, { rules, clock: f.clock, store: new MemoryAlertStore(state) });
    const again: DueNotification[] = [];
    const decided: string[] = [];
    resumed.onDue((d) => again.push(d));
    resumed.onNotification((n) => decided.push(n.type));
    await until(() => again.length === 1, 'the outbox handed out');
    assert.equal(again[0]!.notification.id, firstDue[0]!.notification.id, 'same id');
    assert.deepEqual(again[0]!.notifiers, ['y'], 'only the notifier still owed');
    assert.equal(resumed.firing().length, 1, 'no status for a yet: still firing, not resolved');
    assert.deepEqual(decided, []);
    await fresh.checkNow();
    await f.clock.advance(0);
    assert.deepEqual(decided, ['resolved'], 'its first result says healthy: resolved');
    resumed.dispose();
    fresh.dispose();
    await f.done();
  });

  it('reminders missed while nobody led are not made up in a burst', async () => {
    const f = fleet(['a']);
    await f.clock.advance(0);
    const rules = validateRules([{ name: 'r', repeatInterval: 60_000, notify: ['n'] }], new Set(['n']));
    const store = new MemoryAlertStore();
    const first = new AlertEngine(f.cache, { rules, clock: f.clock, store });
    first.onDue((d) => first.settle(d.notification.id, 'n'));
    f.set(false, 'a');
    await f.clock.advance(1000);
    await until(() => store.snapshot()?.outbox.length === 0, 'the firing delivered and settled');
    first.dispose();
    await f.clock.advance(10 * 60_000 + 500);
    const resumed = new AlertEngine(f.cache, {
      rules,
      clock: f.clock,
      store: new MemoryAlertStore(store.snapshot()),
    });
    const reminders: number[] = [];
    resumed.onDue((d) => reminders.push(d.notification.reminder));
    await until(() => reminders.length > 0, 'a reminder');
    await f.clock.advance(0);
    assert.deepEqual(reminders, [10], 'one reminder, numbered for the period it falls in');
    await f.clock.advance(60_000);
    await until(() => reminders.length > 1, 'the next reminder');
    assert.deepEqual(reminders, [10, 11]);
    resumed.dispose();
    await f.done();
  });
});
