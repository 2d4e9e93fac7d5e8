import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HealthCache,
  ProviderRegistry,
  decodeHistory,
  encodeHistory,
  type HealthReport,
  type HistoryExport,
  type Status,
} from '../src/index.js';
import { WINDOW_FIELDS } from '../src/history-json.js';
import { createHealthHandler, type ProviderJSON } from '../src/http/index.js';
import { createMetrics } from '../src/metrics/index.js';
import { ManualClock } from '../src/testing/index.js';
import { launchChromium } from './support/chromium.js';
import { request, serve } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';
import { promtool } from './support/promtool.js';

failOnUnhandledRejections();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A Monday, 00:00 UTC. */
const T0 = Date.UTC(2026, 2, 2);

/** A provider whose next report is whatever `report` holds. */
function scripted(): { report: HealthReport; healthCheck(): Promise<HealthReport> } {
  return {
    report: { healthy: true, latency: 10 },
    healthCheck() {
      return Promise.resolve({ ...this.report });
    },
  };
}

function setup(options: { historySize?: number; start?: number } = {}) {
  const clock = new ManualClock(options.start ?? T0);
  const registry = new ProviderRegistry();
  const cache = new HealthCache(registry, {
    clock,
    pollInterval: MINUTE,
    checkTimeout: 1_000,
    staleAfter: 2 * DAY,
    historySize: options.historySize ?? 60,
  });
  const provider = scripted();
  registry.register('api', provider);
  return { clock, registry, cache, provider };
}

/** One check of `api` at the clock's now with `report`. */
async function checkAt(
  env: ReturnType<typeof setup>,
  at: number,
  report: HealthReport,
): Promise<Status | undefined> {
  await env.clock.advance(at - env.clock.now());
  env.provider.report = report;
  return env.cache.checkProvider('api');
}

describe('HealthCache windows', () => {
  it('has none before the first result, then counts each result in its hour and day', async () => {
    const env = setup();
    assert.equal(env.cache.windows('api'), undefined);
    assert.equal(env.cache.windows('nobody'), undefined);
    // Day 0: 10 results an hour apart, the 4th unhealthy; day 1: 5 healthy ones.
    for (let i = 0; i < 10; i++) {
      await checkAt(env, T0 + i * HOUR, { healthy: i !== 3, latency: i === 3 ? 900 : 10 });
    }
    for (let i = 0; i < 5; i++) await checkAt(env, T0 + DAY + i * HOUR, { healthy: true, latency: 10 });
    const windows = env.cache.windows('api')!;
    // Now is hour 4 of day 1: the 24 hours reach back to hour 5 of day 0 (results 5..9) and take day 1's 5.
    assert.equal(windows['24h'].samples, 10);
    assert.equal(windows['24h'].uptime, 1);
    assert.equal(windows['7d'].samples, 15);
    assert.equal(windows['7d'].uptime, 14 / 15);
    assert.equal(windows['30d'].samples, 15);
    // p50 from the log₂ histogram: 10 ms lies in [8, 16).
    assert.ok(windows['24h'].latencyP50 >= 8 && windows['24h'].latencyP50 < 16);
    assert.ok(windows['7d'].latencyP95 >= 8, String(windows['7d'].latencyP95));
    // The status's own uptime is over the ring (historySize), not a window.
    assert.equal(env.cache.get('api')!.history.samples, 15);
  });

  it('moves with the clock alone: reads have no side effects and need no result', async () => {
    const env = setup();
    await checkAt(env, T0 + 30 * MINUTE, { healthy: false, latency: 5 });
    const first = env.cache.windows('api')!;
    assert.equal(first['24h'].uptime, 0);
    await env.clock.advance(23 * HOUR); // hour 23 of day 0: the result's hour is still in the 24h window
    assert.equal(env.cache.windows('api')!['24h'].samples, 1);
    await env.clock.advance(HOUR); // hour 24: it left the 24h window, not the 7d one
    assert.equal(env.cache.windows('api')!['24h'].samples, 0);
    assert.equal(env.cache.windows('api')!['7d'].samples, 1);
    await env.clock.advance(6 * DAY); // day 7
    assert.equal(env.cache.windows('api')!['7d'].samples, 0);
    assert.equal(env.cache.windows('api')!['30d'].samples, 1);
    await env.clock.advance(23 * DAY); // day 30
    assert.deepEqual(env.cache.windows('api')!['30d'], {
      samples: 0,
      uptime: 0,
      latencyP50: 0,
      latencyP95: 0,
    });
    // Reading changed nothing: a result dated back in day 0 would still count in the daily buckets kept.
    assert.equal(env.cache.history('api').length, 1);
  });

  it('keeps counting in the windows when historySize is 0', async () => {
    const env = setup({ historySize: 0 });
    await checkAt(env, T0, { healthy: true, latency: 3 });
    await checkAt(env, T0 + MINUTE, { healthy: false, latency: 3 });
    assert.deepEqual(env.cache.history('api'), []);
    assert.equal(env.cache.windows('api')!['24h'].samples, 2);
    assert.equal(env.cache.windows('api')!['24h'].uptime, 0.5);
  });

  it('feeds the windows from a restore with a sample, not from one without', async () => {
    const source = setup();
    const status = (await checkAt(source, T0, { healthy: true, latency: 7 }))!;
    const target = setup();
    assert.equal(target.cache.restore(status), true);
    assert.equal(target.cache.windows('api')?.['24h'].samples, 0, 'no sample, nothing counted');
    await target.clock.advance(MINUTE);
    const later = (await checkAt(source, T0 + 2 * MINUTE, { healthy: false, latency: 7 }))!;
    assert.equal(
      target.cache.restore(later, { checkedAt: later.checkedAt, latency: 7, state: 'unhealthy' }),
      true,
    );
    const windows = target.cache.windows('api')!;
    assert.equal(windows['24h'].samples, 1);
    assert.equal(windows['24h'].uptime, 0);
  });

  it('drops the windows with the entry: unregister and forget', async () => {
    const env = setup();
    await checkAt(env, T0, { healthy: true, latency: 1 });
    assert.ok(env.cache.forget('api'));
    assert.equal(env.cache.windows('api'), undefined);
    assert.equal(env.cache.exportHistory('api'), undefined);
    await checkAt(env, T0 + MINUTE, { healthy: true, latency: 1 });
    assert.equal(env.cache.windows('api')!['24h'].samples, 1, 'a fresh start, not the forgotten results');
    env.registry.unregister('api');
    assert.equal(env.cache.windows('api'), undefined);
  });
});

describe('HealthCache exportHistory / importHistory', () => {
  /** A cache with 50 results over 3 days, some degraded, one silenced-free unhealthy stretch. */
  async function filled() {
    const env = setup({ historySize: 20 });
    for (let i = 0; i < 50; i++) {
      const report: HealthReport =
        i % 10 === 0
          ? { healthy: false, latency: 300 }
          : { healthy: true, degraded: i % 7 === 0, latency: 10 + i };
      await checkAt(env, T0 + i * 90 * MINUTE, report);
    }
    return env;
  }

  it('round-trips samples, windows and the status through bytes into a restarted cache', async () => {
    const source = await filled();
    const exported = source.cache.exportHistory('api')!;
    assert.equal(exported.samples.length, 20);
    assert.ok(Object.isFrozen(exported.samples));
    const bytes = encodeHistory(exported);
    assert.ok(bytes.byteLength < 20 * 10 + 600, `${bytes.byteLength} bytes`);
    const decoded = decodeHistory(bytes);

    const target = setup({ historySize: 20, start: source.clock.now() });
    assert.equal(target.cache.importHistory('api', decoded), true);
    // Before any status: the history and windows are there already.
    assert.equal(target.cache.get('api'), undefined);
    assert.equal(target.cache.history('api').length, 20);
    const status = source.cache.get('api')!;
    assert.equal(target.cache.restore(status), true, 'the saved status, no sample: nothing counted twice');
    assert.deepEqual(target.cache.windows('api'), source.cache.windows('api'));
    assert.deepEqual(
      target.cache.history('api').map((sample) => [sample.checkedAt.getTime(), sample.latency, sample.state]),
      source.cache.history('api').map((sample) => [sample.checkedAt.getTime(), sample.latency, sample.state]),
    );
    assert.deepEqual(target.cache.get('api')!.history, status.history);
    // Both go on alike.
    for (const env of [source, target])
      await checkAt(env, env.clock.now() + HOUR, { healthy: false, latency: 2 });
    assert.deepEqual(target.cache.windows('api'), source.cache.windows('api'));
    assert.deepEqual(target.cache.get('api')!.history, source.cache.get('api')!.history);
  });

  it('takes an import right after a restore without a sample too (either order)', async () => {
    const source = await filled();
    const target = setup({ historySize: 20, start: source.clock.now() });
    assert.equal(target.cache.restore(source.cache.get('api')!), true);
    assert.equal(target.cache.importHistory('api', source.cache.exportHistory('api')!), true);
    assert.deepEqual(target.cache.windows('api'), source.cache.windows('api'));
    assert.equal(target.cache.history('api').length, 20);
  });

  it('never merges: refused once the provider has a history, or when it is not registered', async () => {
    const source = await filled();
    const data = source.cache.exportHistory('api')!;
    const target = setup({ start: source.clock.now() });
    await checkAt(target, source.clock.now() + 1, { healthy: true, latency: 1 });
    assert.equal(target.cache.importHistory('api', data), false);
    assert.equal(target.cache.history('api').length, 1, 'unchanged');
    assert.equal(target.cache.importHistory('nobody', data), false);
    assert.equal(target.cache.exportHistory('nobody'), undefined);
    const fresh = setup();
    assert.equal(fresh.cache.importHistory('api', data), true);
    assert.equal(fresh.cache.importHistory('api', data), false, 'a second import is refused');
  });

  it('keeps the last historySize samples of a longer import, in the order given', async () => {
    const source = await filled();
    const data = source.cache.exportHistory('api')!;
    const target = setup({ historySize: 5, start: source.clock.now() });
    assert.equal(target.cache.importHistory('api', data), true);
    assert.deepEqual(
      target.cache.history('api').map((sample) => sample.checkedAt.getTime()),
      data.samples.slice(-5).map((sample) => sample.checkedAt.getTime()),
    );
  });

  it('refuses malformed data with a TypeError naming the problem, changing nothing', () => {
    const env = setup();
    const windows =
      new HealthCache(new ProviderRegistry()).exportHistory('x')?.windows ?? Uint8Array.of(2, 0);
    const sample = { checkedAt: new Date(T0), latency: 1, state: 'healthy', silenced: false };
    const bad: [unknown, RegExp][] = [
      [null, /importHistory\("api"\): expected \{ samples, windows \}, got null/],
      [{ samples: 'x', windows }, /samples must be an array/],
      [{ samples: [], windows: [2, 0] }, /windows must be a Uint8Array/],
      [{ samples: [], windows: Uint8Array.of(2) }, /windows: Uptime windows: the bytes end too soon/],
      [{ samples: [{ ...sample, checkedAt: T0 }], windows }, /samples\[0\]\.checkedAt is not a valid Date/],
      [{ samples: [sample, { ...sample, latency: -1 }], windows }, /samples\[1\]\.latency is not a finite/],
      [{ samples: [{ ...sample, latency: Infinity }], windows }, /samples\[0\]\.latency/],
      [{ samples: [{ ...sample, state: 'stale' }], windows }, /samples\[0\]\.state is not healthy/],
      [{ samples: [{ ...sample, silenced: 1 }], windows }, /samples\[0\]\.silenced is not a boolean/],
    ];
    for (const [data, message] of bad) {
      assert.throws(
        () => env.cache.importHistory('api', data as HistoryExport),
        (error: unknown) => error instanceof TypeError && message.test(error.message),
        String(message),
      );
    }
    assert.throws(() => env.cache.importHistory('', { samples: [], windows }), TypeError);
    assert.equal(env.cache.history('api').length, 0);
    assert.equal(env.cache.windows('api'), undefined, 'nothing was taken');
  });

  it('decodeHistory refuses bytes it cannot read', async () => {
    const source = await filled();
    const bytes = encodeHistory(source.cache.exportHistory('api')!);
    assert.throws(() => decodeHistory(bytes.subarray(0, bytes.byteLength - 3)), /History|Uptime windows/);
    const future = Uint8Array.from(bytes);
    future[0] = 7;
    assert.throws(() => decodeHistory(future), /History: unknown format 7/);
    assert.throws(
      () => decodeHistory(Uint8Array.of(1, 200, 1)),
      /over its bound/,
      'a count the bytes cannot hold',
    );
    assert.throws(() => decodeHistory(Uint8Array.of(1, 1, 0x13, 0, 0, 2, 2, 0)), /bad header 19/);
    assert.throws(
      () => decodeHistory(Uint8Array.of(1, 1, 0x08, 5, 0, 2, 2, 0)),
      /no valid time/,
      'before 1970',
    );
    assert.throws(() => decodeHistory(Uint8Array.of(1, 0, 2, 2, 0, 9)), /1 byte left over/);
    assert.deepEqual(decodeHistory(Uint8Array.of(1, 0, 2, 2, 0)).samples, []);
  });

  it('keeps whether each sample was silenced, and times to the ms, latencies to the ns', () => {
    const at = T0 + 0.4;
    const bytes = encodeHistory({
      samples: [
        { checkedAt: new Date(at), latency: 1.23456789, state: 'degraded', silenced: true },
        { checkedAt: new Date(T0 - 5_000), latency: 0, state: 'unhealthy', silenced: false },
      ],
      windows: Uint8Array.of(2, 0),
    });
    const { samples } = decodeHistory(bytes);
    assert.deepEqual(
      samples.map((sample) => [sample.checkedAt.getTime(), sample.latency, sample.state, sample.silenced]),
      [
        [T0, 1.234568, 'degraded', true],
        [T0 - 5_000, 0, 'unhealthy', false],
      ],
    );
    assert.throws(() => samples[0]!.checkedAt.setTime(0), TypeError, 'frozen dates');
  });
});

describe('window figures on the wire', () => {
  it(
    'adds uptime_24h … latency_p95_30d beside the recent figures, fresh at each hour without a result',
    { timeout: 30_000 },
    async () => {
      const env = setup({ start: T0 + 10 * HOUR + 30 * MINUTE });
      env.registry.register('never', scripted());
      await checkAt(env, env.clock.now(), { healthy: true, latency: 12 });
      await checkAt(env, env.clock.now() + MINUTE, { healthy: false, latency: 12 });
      const handler = createHealthHandler(env.cache, { metrics: false, clock: env.clock });
      const server = await serve(handler);
      const get = async <T>(path: string): Promise<T> => (await request(`${server.url}${path}`)).json<T>();
      try {
        const one = await get<ProviderJSON>('/api/providers/api');
        assert.equal(one.uptime, 0.5);
        assert.equal(one.uptime_24h, 0.5);
        assert.equal(one.uptime_7d, 0.5);
        assert.equal(one.uptime_30d, 0.5);
        for (const field of ['latency_p50_24h', 'latency_p95_24h', 'latency_p50_30d'] as const) {
          const value = one[field]!;
          assert.ok(Number.isInteger(value) && value >= 8e6 && value < 16e6, `${field} ${value} ns`);
        }
        const keys = Object.keys(one);
        assert.deepEqual(keys.slice(keys.indexOf('samples')), ['samples', ...WINDOW_FIELDS]);
        const never = (await get<ProviderJSON[]>('/api/providers')).find((row) => row.name === 'never')!;
        assert.equal(never.state, 'unknown');
        assert.equal(never.uptime_24h, 0, 'zeros before any result');
        // List rows: the three uptimes only; the six percentiles only per provider or with ?fields=.
        const listed = (await get<ProviderJSON[]>('/api/providers')).find((row) => row.name === 'api')!;
        const listedKeys = Object.keys(listed);
        assert.deepEqual(listedKeys.slice(listedKeys.indexOf('samples')), [
          'samples',
          'uptime_24h',
          'uptime_7d',
          'uptime_30d',
        ]);
        assert.equal(listed.uptime_24h, 0.5);
        assert.equal(Object.keys(never).includes('latency_p50_24h'), false, 'placeholders too');
        const picked = await get<Record<string, unknown>[]>(
          '/api/providers?fields=uptime_24h,latency_p95_7d',
        );
        assert.deepEqual(Object.keys(picked[0]!), ['name', 'uptime_24h', 'latency_p95_7d']);

        assert.equal(
          (await get<ProviderJSON>('/api/providers/api')).uptime_24h,
          0.5,
          'served from the cache',
        );
        // A day later, no result since: the 24-hour figures emptied, the 7-day ones stay.
        await env.clock.advance(DAY);
        const later = await get<ProviderJSON>('/api/providers/api');
        assert.equal(later.uptime_24h, 0);
        assert.equal(later.latency_p50_24h, 0);
        assert.equal(later.uptime_7d, 0.5);
        const list = await get<ProviderJSON[]>('/api/providers');
        assert.equal(
          list.find((row) => row.name === 'api')!.uptime_24h,
          0,
          'the cached list was rebuilt too',
        );
      } finally {
        handler.close();
        await server.close();
      }
    },
  );
});

describe('window figures in the metrics', () => {
  it(
    'adds uptime_ratio{provider,window} for 24h, 7d and 30d; promtool accepts it',
    { timeout: 30_000 },
    async () => {
      const env = setup();
      env.registry.register('never', scripted());
      await checkAt(env, T0, { healthy: true, latency: 5 });
      await checkAt(env, T0 + MINUTE, { healthy: true, latency: 5 });
      await checkAt(env, T0 + 2 * MINUTE, { healthy: false, latency: 5 });
      await checkAt(env, T0 + 2 * DAY, { healthy: true, latency: 5 });
      const metrics = await createMetrics(env.cache);
      try {
        const lines = (await metrics.render())
          .split('\n')
          .filter((line) => line.startsWith('provider_health_uptime_ratio{'));
        assert.deepEqual(lines, [
          'provider_health_uptime_ratio{provider="api"} 0.75',
          'provider_health_uptime_ratio{provider="api",window="24h"} 1',
          'provider_health_uptime_ratio{provider="api",window="7d"} 0.75',
          'provider_health_uptime_ratio{provider="api",window="30d"} 0.75',
        ]);
        const lint = await promtool(await metrics.render());
        assert.equal(lint.code, 0, lint.output);
      } finally {
        metrics.dispose();
      }
    },
  );
});

describe('window figures on the status page', () => {
  it(
    'shows 24 h, 7 d and 30 d uptime in the uptime cell tooltip (Chromium)',
    { timeout: 90_000 },
    async () => {
      const env = setup({ start: Date.now() - 2 * MINUTE });
      env.registry.register('never', scripted());
      await checkAt(env, env.clock.now(), { healthy: true, latency: 12 });
      await checkAt(env, env.clock.now() + MINUTE, { healthy: false, latency: 40 });
      const handler = createHealthHandler(env.cache, { metrics: false, clock: env.clock });
      const server = await serve(handler);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(`${server.url}/`);
        await page.waitForSelector('tr[data-provider="api"]', { timeout: 30_000 });
        const title = await page.locator('tr[data-provider="api"] td.uptime').getAttribute('title');
        assert.match(
          title ?? '',
          // The page's rows come from the event stream: no window percentiles there.
          /^Uptime: 24 h 50\.00%, 7 d 50\.00%, 30 d 50\.00%$/,
        );
        const never = await page.locator('tr[data-provider="never"] td.uptime').getAttribute('title');
        assert.equal(never ?? '', '', 'no figures before a result');
      } finally {
        await browser.close();
        handler.close();
        await server.close();
      }
    },
  );
});
