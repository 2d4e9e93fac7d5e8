// /livez, /readyz, /api/status and POST /api/reload of the library handler:
// the exact bounds on a ManualClock, and the endpoints over real sockets.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Emitter, type SweepSummary } from '../src/events.js';
import { createHealthHandler, type HealthHandler, type ReloadOutcome } from '../src/http/index.js';
import { ProbeTracker, type ProbedView, type RoleNews } from '../src/http/probes.js';
import { HealthCache, ProviderRegistry, resolveOptions } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { request, serve, type TestServer } from './support/http.js';

const noop = new Emitter<never>(() => {});

/** A view whose events and state the test drives: pollInterval 1 s, checkTimeout 200 ms (bound 2.2 s). */
function stubView(clock: ManualClock, shared?: { leaseTtl: number }) {
  const sweeps = new Emitter<SweepSummary>(() => {});
  const results = new Emitter<never>(() => {});
  const roles = new Emitter<RoleNews>(() => {});
  const state = { running: true, role: 'idle', lastRoundAt: undefined as number | undefined };
  const view = {
    registry: new ProviderRegistry(),
    options: resolveOptions({ clock, pollInterval: 1_000, checkTimeout: 200 }),
    get: () => undefined,
    snapshot: () => [],
    history: () => [],
    checkNow: () => Promise.resolve([]),
    checkProvider: () => Promise.resolve(undefined),
    abandonedChecks: 0,
    abandonedChecksTotal: 0,
    onResult: results.event,
    onTransition: noop.event,
    onRemove: noop.event,
    onChange: noop.event,
    onSweep: sweeps.event,
    get running() {
      return state.running;
    },
    // Getters (not spread copies), so that the test can change them.
    get role() {
      return state.role;
    },
    get lastRoundAt() {
      return state.lastRoundAt;
    },
    onRoleChange: roles.event,
    sharing: shared === undefined ? undefined : { replicaId: 'replica-a', leaseTtl: shared.leaseTtl },
  } satisfies ProbedView;
  const sweep = (full = true): void =>
    sweeps.emit({ startedAt: new Date(clock.now()), duration: 0, checked: 1, full });
  const role = (next: string, leader?: string): void => {
    const previous = state.role;
    state.role = next;
    roles.emit({ role: next, previous, reason: 'test', leader });
  };
  return { view, state, sweep, role };
}

describe('ProbeTracker on a ManualClock', () => {
  it('is live up to 2 x pollInterval + checkTimeout without a sign of life, and not a millisecond longer', async () => {
    const clock = new ManualClock();
    const { view, state, sweep } = stubView(clock);
    const tracker = new ProbeTracker(view);
    await clock.advance(2_200);
    assert.deepEqual(tracker.live(), { ok: true, reason: 'the poller is running' });
    await clock.advance(1);
    assert.deepEqual(tracker.live(), { ok: false, reason: 'no sweep or check for 2201 ms (bound 2200 ms)' });
    sweep();
    assert.equal(tracker.live().ok, true, 'a sweep is a sign of life');
    state.running = false;
    assert.deepEqual(tracker.live(), { ok: false, reason: 'the poller is not running' });
    tracker.dispose();
  });

  it('is ready after the first full sweep only, and stays ready', async () => {
    const clock = new ManualClock();
    const { view, sweep } = stubView(clock);
    const tracker = new ProbeTracker(view);
    assert.deepEqual(tracker.ready(), { ok: false, reason: 'the first sweep has not finished' });
    sweep(false);
    assert.equal(tracker.ready().ok, false, 'a partial sweep (one provider) is not the first sweep');
    sweep(true);
    assert.equal(tracker.ready().ok, true);
    await clock.advance(60_000);
    assert.equal(tracker.ready().ok, true, 'old statuses turn stale; the service stays ready');
    assert.equal(tracker.live().ok, false);
    tracker.dispose();
  });

  it('in shared mode: a follower is live while its lease rounds go on, a leader also needs its sweeps', async () => {
    const clock = new ManualClock();
    const { view, state, sweep, role } = stubView(clock, { leaseTtl: 1_000 });
    const tracker = new ProbeTracker(view);
    role('connecting');
    assert.equal(tracker.ready().ok, false, 'not ready before the stored statuses are loaded');
    role('follower', 'replica-b');
    assert.equal(tracker.ready().ok, true, 'following means the warm start has loaded Redis');
    assert.equal(tracker.leader, 'replica-b');
    // No sweeps while following: only the lease rounds count (bound 3 x leaseTtl).
    for (let i = 0; i < 5; i++) {
      await clock.advance(1_000);
      state.lastRoundAt = clock.now();
    }
    assert.deepEqual(tracker.live(), { ok: true, reason: 'the lease loop is running (follower)' });
    await clock.advance(3_001);
    assert.deepEqual(tracker.live(), { ok: false, reason: 'no lease round for 3001 ms (bound 3000 ms)' });

    state.lastRoundAt = clock.now();
    role('leader');
    assert.equal(tracker.leader, 'replica-a', 'a leader names itself');
    await clock.advance(2_200);
    state.lastRoundAt = clock.now();
    assert.equal(tracker.live().ok, true, 'sweeps are owed from when it began to lead');
    await clock.advance(1);
    state.lastRoundAt = clock.now();
    assert.deepEqual(tracker.live(), { ok: false, reason: 'no sweep or check for 2201 ms (bound 2200 ms)' });
    sweep();
    assert.equal(tracker.live().ok, true);
    tracker.dispose();
  });
});

describe('the probe, status and reload endpoints', () => {
  const servers: TestServer[] = [];
  const handlers: HealthHandler[] = [];
  after(async () => {
    for (const handler of handlers) handler.close();
    await Promise.all(servers.map((server) => server.close()));
  });
  async function mount(...args: Parameters<typeof createHealthHandler>): Promise<string> {
    const handler = createHealthHandler(...args);
    handlers.push(handler);
    const server = await serve(handler);
    servers.push(server);
    return server.url;
  }

  it('answers /readyz 503 until the first sweep ends and /livez 503 once run stops, whatever the providers say', async () => {
    const clock = new ManualClock();
    const registry = new ProviderRegistry();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    registry.register('down', {
      healthCheck: async () => {
        await gate;
        throw new Error('refused');
      },
    });
    const cache = new HealthCache(registry, { clock, pollInterval: 10_000, checkTimeout: 5_000 });
    const url = await mount(cache, { probes: true });

    assert.equal((await request(`${url}/livez`)).status, 503, 'not polling yet');
    const stop = new AbortController();
    const running = cache.run(stop.signal);
    const live = await request(`${url}/livez`);
    assert.equal(live.status, 200, live.text);
    assert.equal(live.headers['cache-control'], 'no-store');
    const early = await request(`${url}/readyz`);
    assert.equal(early.status, 503, early.text);
    assert.deepEqual(early.json(), { ok: false, reason: 'the first sweep has not finished' });

    release();
    await new Promise<void>((resolve) => cache.onSweep(() => resolve()));
    assert.equal((await request(`${url}/readyz`)).status, 200);
    assert.equal((await request(`${url}/livez`)).status, 200, 'an unhealthy provider is not a dead service');
    assert.equal((await request(`${url}/api/health`)).status, 503);
    const head = await request(`${url}/livez`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal((await request(`${url}/livez`, { method: 'POST' })).status, 405);

    stop.abort();
    await running;
    const stopped = await request(`${url}/livez`);
    assert.equal(stopped.status, 503);
    assert.deepEqual(stopped.json(), { ok: false, reason: 'the poller is not running' });
    cache.dispose();
  });

  it('serves none of them unless asked', async () => {
    const cache = new HealthCache(new ProviderRegistry(), { clock: new ManualClock() });
    const url = await mount(cache);
    for (const path of ['/livez', '/readyz', '/api/status']) {
      assert.equal((await request(`${url}${path}`)).status, 404, path);
    }
    assert.equal((await request(`${url}/api/reload`, { method: 'POST' })).status, 404);
    cache.dispose();
  });

  it('GET /api/status names the version, the mode and, in shared mode, the replica', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
    const local = new HealthCache(new ProviderRegistry(), { clock: new ManualClock() });
    const localUrl = await mount(local, { status: true });
    const facts = (await request(`${localUrl}/api/status`)).json<Record<string, unknown>>();
    assert.equal(facts['version'], version);
    assert.equal(facts['mode'], 'local');
    assert.equal(facts['replica'], undefined);
    assert.equal(typeof facts['uptime_seconds'], 'number');
    local.dispose();

    const clock = new ManualClock();
    const { view, role } = stubView(clock, { leaseTtl: 1_000 });
    const sharedUrl = await mount(view, { status: true });
    role('follower', 'replica-b');
    const shared = (await request(`${sharedUrl}/api/status`)).json<Record<string, unknown>>();
    assert.equal(shared['mode'], 'shared');
    assert.deepEqual(shared['replica'], { id: 'replica-a', role: 'follower', leader: 'replica-b' });
    assert.equal(shared['ready'], true);
  });

  it('POST /api/reload needs the token, answers what changed, and 400 with the config errors', async () => {
    let outcome: ReloadOutcome = {
      ok: true,
      report: {
        added: ['b'],
        removed: ['a'],
        changed: [],
        unchanged: ['c'],
        renamed: [{ from: 'a', to: 'b' }],
        notApplied: ['pollInterval'],
      },
    };
    let calls = 0;
    const reload = (): Promise<ReloadOutcome> => {
      calls++;
      return Promise.resolve(outcome);
    };
    const cache = new HealthCache(new ProviderRegistry(), { clock: new ManualClock() });
    const url = await mount(cache, { reload, token: 'sesame' });

    const anonymous = await request(`${url}/api/reload`, { method: 'POST' });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.text, /Reload requires an Authorization: Bearer token/);
    const wrong = await request(`${url}/api/reload`, {
      method: 'POST',
      headers: { Authorization: 'Bearer nope' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(calls, 0, 'refused requests reload nothing');
    assert.equal((await request(`${url}/api/reload`)).status, 405);

    const auth = { Authorization: 'Bearer sesame' };
    const done = await request(`${url}/api/reload`, { method: 'POST', headers: auth });
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(done.json(), {
      added: { count: 1, names: ['b'] },
      removed: { count: 1, names: ['a'] },
      changed: { count: 0, names: [] },
      unchanged: { count: 1, names: ['c'] },
      renamed: [{ from: 'a', to: 'b' }],
      not_applied: ['pollInterval'],
    });
    assert.ok(!done.text.includes('sesame'));

    outcome = { ok: false, errors: ['c.yaml:3: providers[0].type: expected one of …'] };
    const bad = await request(`${url}/api/reload`, { method: 'POST', headers: auth });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), {
      error: 'The config has errors; the running config stays',
      errors: ['c.yaml:3: providers[0].type: expected one of …'],
    });
    const crossSite = await request(`${url}/api/reload`, {
      method: 'POST',
      headers: { ...auth, 'Sec-Fetch-Site': 'cross-site' },
    });
    assert.equal(crossSite.status, 403);
    assert.equal(calls, 2);
    cache.dispose();
  });

  it('refuses a reload option that is not a function, naming it', () => {
    const cache = new HealthCache(new ProviderRegistry(), { clock: new ManualClock() });
    assert.throws(
      () => createHealthHandler(cache, { reload: 'yes' as never }),
      (error: Error) => error instanceof TypeError && /reload/.test(error.message),
    );
    cache.dispose();
  });
});
