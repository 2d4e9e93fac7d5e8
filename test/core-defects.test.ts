// Defects of issue 9 in the core, each through the public surface (a child
// process where a user meets it), each failing on the code before its fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  HealthCache,
  OptionRangeError,
  ProviderRegistry,
  isAlreadyRunningError,
  isDisposedError,
  isUnknownProviderError,
  resolveOptions,
  statusToJSON,
  type CheckerFault,
  type CheckResult,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { restoredStatus } from './fixtures/core-status.js';
import { controlledChecker } from './support/checkers.js';
import { runChild } from './support/child.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const HOUR = 3_600_000;
const MAX_DURATION = 2 ** 31 - 1;

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('a plain script awaiting a check of a hung checker', () => {
  for (const mode of ['checkNow', 'checkProvider']) {
    it(
      `${mode}() resolves after checkTimeout with "timed out" instead of exiting with code 13`,
      { timeout: 40_000 },
      async () => {
        const result = await runChild(process.execPath, [
          '--import',
          'tsx',
          fixture('core-check-now.ts'),
          mode,
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), `${mode}: timed out after 200 ms`);
      },
    );
  }
});

describe('a background poll alone', () => {
  it(
    "does not keep a program alive through a hung check (its timeout timer is unref'd)",
    { timeout: 40_000 },
    async () => {
      const result = await runChild(process.execPath, ['--import', 'tsx', fixture('core-background.ts')]);
      assert.equal(result.code, 0, result.stderr);
      // Had the 10 s check timeout kept the process alive, the sweep would have ended first.
      assert.equal(result.stdout.trim(), 'work done');
    },
  );
});

describe('durations a timer cannot honour', () => {
  const cases: [string, Record<string, number>][] = [
    ['pollInterval', { pollInterval: 600 * HOUR }],
    ['checkTimeout', { checkTimeout: 599 * HOUR }],
    ['staleAfter', { staleAfter: 720 * HOUR }],
  ];
  for (const [option, options] of cases) {
    it(`rejects ${option} above 2^31 − 1 ms with an OptionRangeError naming it`, () => {
      assert.throws(
        () => new HealthCache(new ProviderRegistry(), options),
        (error: unknown) =>
          error instanceof OptionRangeError &&
          error.option === option &&
          error.value === options[option] &&
          new RegExp(`\`${option}\`.*at most ${MAX_DURATION}`).test(error.message),
      );
    });
  }

  it('caps a derived staleAfter (3 × pollInterval) at 2^31 − 1 ms instead of rejecting it', () => {
    const options = resolveOptions({ pollInterval: 10 * 24 * HOUR });
    assert.equal(options.pollInterval, 10 * 24 * HOUR);
    assert.equal(options.staleAfter, MAX_DURATION);
    assert.equal(resolveOptions({ pollInterval: MAX_DURATION }).staleAfter, MAX_DURATION);
  });
});

describe('a checker whose clock runs behind ours', () => {
  it(
    'keeps its healthy results after one timeout (ordered by start, not by its clock)',
    { timeout: 10_000 },
    async () => {
      const clock = new ManualClock();
      const registry = new ProviderRegistry();
      const cache = new HealthCache(registry, { pollInterval: 30_000, checkTimeout: 100, clock });
      const checker = controlledChecker();
      registry.register('late', checker);
      const first = cache.checkNow();
      await clock.advance(100);
      await first;
      assert.equal(cache.get('late')?.message, 'timed out after 100 ms');
      checker.calls[0]!.resolve();
      for (let i = 1; i <= 3; i++) {
        await clock.advance(1_000);
        const sweep = cache.checkNow();
        await clock.settle();
        // The checker's clock is 20 s behind ours.
        checker.calls[i]!.resolve({
          healthy: true,
          message: `fine ${i}`,
          checkedAt: new Date(clock.now() - 20_000),
        });
        await sweep;
        assert.equal(cache.get('late')?.message, `fine ${i}`, `result ${i} is applied`);
        assert.equal(cache.get('late')?.state, 'healthy');
      }
    },
  );
});

describe('checker details', () => {
  it('are served as frozen, JSON-safe, scrubbed and bounded copies', { timeout: 10_000 }, async () => {
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const unlistable = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no listing');
        },
      },
    );
    let deep: Record<string, unknown> = { bottom: true };
    for (let i = 0; i < 50; i++) deep = { deeper: deep };
    const many = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, i]));
    const details = {
      version: '1.2',
      nested: { revoked: revocable.proxy, unlistable, list: [1, 'two', revocable.proxy] },
      endpoint: 'https://admin:hunter2@10.0.0.5:8443/v1',
      header: 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig',
      password: 'p4ssw0rd',
      deep,
      many,
      long: 'x'.repeat(100_000),
      when: new Date(0),
    };
    const registry = new ProviderRegistry();
    registry.register('p', { healthCheck: async () => ({ healthy: true, details }) });
    const cache = new HealthCache(registry, { clock: new ManualClock() });
    await cache.checkNow();
    const served = cache.get('p')!.details!;
    const json = JSON.stringify(statusToJSON(cache.get('p')!));
    assert.doesNotMatch(json, /hunter2|eyJhbGciOiJIUzI1NiJ9|p4ssw0rd/);
    assert.ok(Object.isFrozen(served) && Object.isFrozen(served.nested));
    assert.equal(served.version, '1.2');
    assert.equal(served.when, '1970-01-01T00:00:00.000Z');
    const nested = served.nested as Record<string, unknown>;
    assert.equal(nested.revoked, '[Unreadable]');
    assert.equal(nested.unlistable, '[Unreadable]');
    assert.deepEqual((nested.list as unknown[]).slice(0, 2), [1, 'two']);
    assert.equal(
      Object.keys(served.many as object).length,
      65,
      'keys per object are bounded (64 and a marker)',
    );
    assert.equal((served.long as string).length, 512, 'strings are bounded');
    assert.ok(json.length < 20_000, `the whole copy is bounded (${json.length} characters)`);
    assert.match(json, /\[Too deep\]/);
    assert.notEqual(served, details);
  });
});

describe('running out of file descriptors', () => {
  it(
    'never reports the provider unhealthy: its status stays and onCheckerFault says why',
    { timeout: 40_000 },
    async () => {
      const result = await runChild('sh', [
        '-c',
        `ulimit -n 256 && exec "${process.execPath}" --import tsx "${fixture('core-emfile.ts')}"`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const outcome = JSON.parse(result.stdout) as {
        before: string;
        during: string;
        unchanged: boolean;
        faults: Pick<CheckerFault, 'name' | 'kind' | 'code' | 'message'>[];
        total: number;
      };
      assert.equal(outcome.before, 'healthy');
      assert.equal(outcome.during, 'healthy');
      assert.equal(outcome.unchanged, true);
      assert.equal(outcome.total, 1);
      assert.equal(outcome.faults[0]?.name, 'tcp');
      assert.equal(outcome.faults[0]?.kind, 'resource-exhausted');
      assert.equal(outcome.faults[0]?.code, 'EMFILE');
    },
  );

  it(
    'also when a checker wraps the error (fetch) or only says it in its message',
    { timeout: 10_000 },
    async () => {
      const registry = new ProviderRegistry();
      let mode: 'ok' | 'cause' | 'message' | 'checker' = 'ok';
      registry.register('p', {
        healthCheck: async () => {
          if (mode === 'cause') {
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error('connect EMFILE'), { code: 'EMFILE' }),
            });
          }
          if (mode === 'message')
            return { healthy: false, message: "EMFILE: too many open files, open '/etc/hosts'" };
          // How the bundled checkers word a Node error code.
          if (mode === 'checker') return { healthy: false, message: 'connection failed (ENFILE)' };
          return { healthy: true };
        },
      });
      const cache = new HealthCache(registry, { clock: new ManualClock() });
      const faults: string[] = [];
      cache.onCheckerFault((fault) => faults.push(fault.code));
      await cache.checkNow();
      const healthy = cache.get('p');
      for (const next of ['cause', 'message', 'checker'] as const) {
        mode = next;
        await cache.checkNow();
      }
      assert.equal(cache.get('p'), healthy);
      assert.deepEqual(faults, ['EMFILE', 'EMFILE', 'ENFILE']);
    },
  );
});

describe('typed errors', () => {
  it('unknown provider, second run and use after dispose', { timeout: 10_000 }, async () => {
    const registry = new ProviderRegistry();
    const cache = new HealthCache(registry, { clock: new ManualClock() });
    await assert.rejects(
      cache.checkProvider('nope'),
      (error: unknown) => isUnknownProviderError(error) && error.provider === 'nope',
    );
    const stop = new AbortController();
    const running = cache.run(stop.signal);
    await assert.rejects(
      cache.run(),
      (error: unknown) => isAlreadyRunningError(error) && /already active/.test(error.message),
    );
    stop.abort();
    await running;
    cache.dispose();
    await assert.rejects(
      cache.checkNow(),
      (error: unknown) => isDisposedError(error) && error.method === 'HealthCache.checkNow',
    );
    await assert.rejects(cache.run(), isDisposedError);
  });
});

describe('CheckResult', () => {
  it('carries the raw sample behind the status', { timeout: 10_000 }, async () => {
    const registry = new ProviderRegistry();
    const cache = new HealthCache(registry, { clock: new ManualClock(), failureThreshold: 2 });
    let healthy = true;
    registry.register('p', { healthCheck: async () => ({ healthy, latency: 7 }) });
    const results: CheckResult[] = [];
    cache.onResult((result) => results.push(result));
    await cache.checkNow();
    healthy = false;
    await cache.checkNow();
    // The threshold holds the status healthy; the sample says what the check found.
    assert.equal(results[1]!.status.state, 'healthy');
    assert.equal(results[1]!.sample.state, 'unhealthy');
    assert.equal(results[1]!.sample.latency, 7);
    assert.equal(results[1]!.sample.checkedAt.getTime(), results[1]!.status.checkedAt.getTime());
    const kept = cache.history('p').at(-1)!;
    assert.deepEqual(
      [kept.checkedAt.getTime(), kept.latency, kept.state],
      [results[1]!.sample.checkedAt.getTime(), 7, 'unhealthy'],
    );
    assert.ok(Object.isFrozen(results[1]!.sample));
  });
});

describe('reads', () => {
  it(
    'get, snapshot and history never read the clock nor set timers, running or not',
    { timeout: 10_000 },
    async () => {
      const manual = new ManualClock();
      let nows = 0;
      let timers = 0;
      const clock = {
        now: () => (nows++, manual.now()),
        setTimeout: (callback: () => void, delay: number) => (timers++, manual.setTimeout(callback, delay)),
        clearTimeout: (handle: unknown) => manual.clearTimeout(handle),
      };
      const registry = new ProviderRegistry();
      registry.register('p', { healthCheck: async () => ({ healthy: true }) });
      const cache = new HealthCache(registry, { clock, pollInterval: 1_000, checkTimeout: 100 });
      await cache.checkNow();
      const readAll = (): void => {
        for (let i = 0; i < 100; i++) {
          cache.get('p');
          cache.snapshot();
          cache.history('p');
        }
      };
      const before = [nows, timers];
      readAll();
      assert.deepEqual([nows, timers], before, 'not running');
      const stop = new AbortController();
      const running = cache.run(stop.signal);
      await manual.advance(0);
      const during = [nows, timers];
      readAll();
      assert.deepEqual([nows, timers], during, 'running');
      stop.abort();
      await running;
      // Staleness still comes, from the one stale timer, with nobody reading.
      const changes: string[] = [];
      cache.onTransition((t) => changes.push(`${t.from}->${t.to}`));
      await manual.advance(3_000);
      assert.deepEqual(changes, ['healthy->stale']);
    },
  );
});

describe('restored details', () => {
  it(
    'are copied and scrubbed like a checker’s (a record from Redis is input too)',
    { timeout: 10_000 },
    () => {
      const clock = new ManualClock();
      const registry = new ProviderRegistry();
      registry.register('p', {});
      const cache = new HealthCache(registry, { clock });
      const revocable = Proxy.revocable({}, {});
      revocable.revoke();
      const status = {
        ...restoredStatus('p', clock.now()),
        details: { url: 'redis://app:hunter2@10.0.0.5:6379', odd: revocable.proxy },
      };
      assert.equal(cache.restore(status), true);
      assert.deepEqual(cache.get('p')?.details, { url: 'redis://***@10.0.0.5:6379', odd: '[Unreadable]' });
    },
  );
});
