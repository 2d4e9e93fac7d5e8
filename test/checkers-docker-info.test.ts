import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { dockerChecker } from '../src/checkers/docker.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { startPodmanProxy, startPodmanService, type PodmanService } from './support/podman.js';

/** Docker's opt-in `info: true` (issue 14), against a real Podman service's `/info`. */
describe('dockerChecker info (opt-in) against a real Podman /info', () => {
  let podman: PodmanService;
  before(async () => {
    podman = await startPodmanService();
  });
  after(async () => {
    await podman?.cleanup();
  });

  it('is not asked by default', async () => {
    const paths: string[] = [];
    const proxy = await startPodmanProxy(podman, { on: (path) => void paths.push(path) });
    try {
      const report = await dockerChecker({ host: proxy.host }).healthCheck(AbortSignal.timeout(30_000));
      assert.equal(report.healthy, true, report.message);
      assert.deepEqual(paths, ['/_ping']);
      assert.equal(report.details?.warnings, undefined);
    } finally {
      await proxy.close();
    }
  });

  it('is healthy with no daemon warnings, reporting the counts', async () => {
    const report = await dockerChecker({ host: podman.host, info: true }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, undefined, report.message);
    assert.deepEqual(report.details?.warnings, []);
    assert.equal(typeof report.details?.containers, 'number');
    assert.equal(typeof report.details?.images, 'number');
    assert.equal(report.details?.engine, 'podman');
  });

  it("surfaces the daemon's Warnings as degraded", async () => {
    const proxy = await startPodmanProxy(podman, {
      on: (path) =>
        path === '/info'
          ? (body) => {
              const info = JSON.parse(body) as { Warnings?: string[] };
              info.Warnings = [
                'WARNING: No swap limit support',
                'WARNING: API is accessible on http://0.0.0.0:2375 without encryption.',
              ];
              return JSON.stringify(info);
            }
          : undefined,
    });
    try {
      const report = await dockerChecker({ host: proxy.host, info: true }).healthCheck(
        AbortSignal.timeout(30_000),
      );
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, true);
      assert.match(
        report.message ?? '',
        /answered \/_ping \(API [\d.]+\) \(daemon warnings: No swap limit support; API is accessible on http:\/\/0\.0\.0\.0:2375 without encryption\.\)$/,
      );
      assert.deepEqual(report.details?.warnings, [
        'No swap limit support',
        'API is accessible on http://0.0.0.0:2375 without encryption.',
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('says so when /info is refused (403 from an authorisation plugin)', async () => {
    const proxy = await startPodmanProxy(podman, { on: (path) => (path === '/info' ? 403 : undefined) });
    try {
      const report = await dockerChecker({ host: proxy.host, info: true }).healthCheck(
        AbortSignal.timeout(30_000),
      );
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, true);
      assert.match(
        report.message ?? '',
        /\(\/info answered 403 Forbidden: not authorised to read the daemon info\)$/,
      );
    } finally {
      await proxy.close();
    }
  });

  // This test used to expect the whole check to fail with a TimeoutError when /info hung: that
  // was the defect (a daemon that answered /_ping is up). /info now has a budget of its own.
  it(
    'a hanging /info is degraded after its own 2 s budget (on the injected clock), nothing left open',
    { timeout: 30_000 },
    async () => {
      let open: number;
      let asked = false;
      const proxy = await startPodmanProxy(podman, {
        on: (path) => (path === '/info' ? ((asked = true), 'hang') : undefined),
      });
      try {
        const clock = new ManualClock(Date.now());
        // Longer than the budget: the check's own timeout is not what ends it.
        const signal = AbortSignal.timeout(10_000);
        const pending = dockerChecker({ host: proxy.host, info: true, clock }).healthCheck(signal);
        for (let i = 0; i < 1_000 && !asked; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.ok(asked, '/info was not asked');
        await clock.advance(2_000);
        const report = await pending;
        assert.equal(report.healthy, true, report.message);
        assert.equal(report.degraded, true);
        assert.match(
          report.message ?? '',
          /answered \/_ping \(API [\d.]+\) \(\/info failed: no answer within 2 s\)$/,
        );
        assert.equal(getEventListeners(signal, 'abort').length, 0);
        const deadline = Date.now() + 5_000;
        while ((open = await proxy.connections()) > 0 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 10));
      } finally {
        await proxy.close();
      }
      assert.equal(open, 0);
    },
  );

  it('validates info', () => {
    assert.throws(() => dockerChecker({ info: 'yes' as never }), {
      name: 'TypeError',
      message: 'dockerChecker: info must be a boolean, got "yes"',
    });
  });
});
