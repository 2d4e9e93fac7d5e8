/**
 * The status page in headless Chromium (Debian's package, via playwright-core):
 * every state renders, changes arrive live, hostile names stay text, the CSP
 * holds, refresh feedback shows. Screenshots go to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createHealthHandler, type HealthHandler } from '../src/http/index.js';
import type { HealthCache } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { launchChromium } from './support/chromium.js';
import { contrastProbe, PAGE_TEXT } from './support/page-fleet.js';
import { demoCache, serve, switchable, type SwitchableProvider, type TestServer } from './support/http.js';

const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_MESSAGE = '<script>alert(2)</script><img src=x onerror=alert(3)>';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

describe('status page in Chromium', () => {
  let browser: Browser;
  let server: TestServer;
  let handler: HealthHandler;
  let cache: HealthCache;
  let api: SwitchableProvider;
  let clock: ManualClock;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    clock = new ManualClock(Date.now() - 10_000);
    api = switchable({ healthy: true, message: 'readyz: ok' });
    const setup = await demoCache(
      { 'build-cache': switchable({ healthy: true, message: 'last seen by the old poller' }) },
      { clock, pollInterval: 1_000, checkTimeout: 100 },
    );
    cache = setup.cache;
    const { registry } = setup;
    await clock.advance(2_500);
    registry.register('k8s-api', api);
    registry.register('docker-eu', switchable({ healthy: true, message: 'Docker 27.3.1 (API 1.47)' }));
    registry.register(
      'nomad',
      switchable({ healthy: true, degraded: true, message: '2 of 3 servers answer' }),
    );
    registry.register('registry', switchable(new Error('connect ECONNREFUSED 127.0.0.1:5000')));
    registry.register(XSS_NAME, switchable({ healthy: false, message: XSS_MESSAGE }));
    // Rounds of checks with made-up latencies, so the sparklines have a shape.
    for (let i = 0; i < 30; i++) {
      for (const name of ['k8s-api', 'docker-eu', 'nomad', 'registry', XSS_NAME]) {
        const provider = registry.get(name) as SwitchableProvider;
        const latency = 6 + ((i * 7 + name.length * 13) % 23) + (name === 'nomad' ? 120 + 4 * i : 0);
        if (!(provider.report instanceof Error)) provider.report = { ...provider.report, latency };
        await cache.checkProvider(name);
      }
      await clock.advance(40);
    }
    registry.register('edge-lb', switchable());
    await clock.advance(600);
    assert.equal(cache.get('build-cache')?.state, 'stale');
    handler = createHealthHandler(cache, { title: 'Platform health', metrics: false });
    server = await serve(handler);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    handler?.close();
    await server?.close();
  });

  /** Opens the page and records dialogs, CSP violations, script errors and navigations. */
  async function open(options: { colorScheme?: 'light' | 'dark'; width?: number } = {}) {
    const page = await browser.newPage({
      viewport: { width: options.width ?? 1280, height: 640 },
      colorScheme: options.colorScheme ?? 'light',
    });
    const dialogs: string[] = [];
    const problems: string[] = [];
    let navigations = 0;
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#connection[data-state="live"]', { timeout: 20_000 });
    await page.waitForSelector('tr[data-provider="edge-lb"]', { timeout: 20_000 });
    return { page, dialogs, problems, navigations: () => navigations };
  }

  async function rowState(page: Page, name: string): Promise<{ state: string; badge: string; name: string }> {
    // Matched by attribute value read back, not by a selector built from the (hostile) name.
    for (const row of await page.locator('tbody tr').all()) {
      if ((await row.getAttribute('data-provider')) !== name) continue;
      return {
        state: (await row.getAttribute('data-state')) ?? '',
        badge: (await row.locator('.badge').textContent()) ?? '',
        name: (await row.locator('.name').textContent()) ?? '',
      };
    }
    return { state: 'missing', badge: '', name: '' };
  }

  it(
    'renders every state with a text label, and hostile names and messages as text',
    { timeout: 60_000 },
    async () => {
      const { page, dialogs, problems } = await open();
      try {
        const expected: [string, string, string][] = [
          ['k8s-api', 'healthy', 'Healthy'],
          ['nomad', 'degraded', 'Degraded'],
          ['registry', 'unhealthy', 'Unhealthy'],
          ['build-cache', 'stale', 'Stale'],
          ['edge-lb', 'unknown', 'Unknown'],
          [XSS_NAME, 'unhealthy', 'Unhealthy'],
        ];
        for (const [name, state, label] of expected) {
          const row = await rowState(page, name);
          assert.equal(row.state, state, name);
          assert.match(row.badge, new RegExp(label), name);
          assert.equal(row.name, name, 'the name is shown as typed');
        }
        const hostile = {
          messageShown: (await page.locator('td.message').allTextContents()).includes(XSS_MESSAGE),
          images: await page.locator('tbody img').count(),
          scripts: await page.locator('script').count(),
        };
        assert.deepEqual(hostile, { messageShown: true, images: 0, scripts: 1 });
        // Sparklines come from the history: one per provider with two or more checks.
        assert.equal(await page.locator('svg.spark').count(), 5);
        assert.match((await page.locator('#overall').textContent()) ?? '', /4 of 7 not healthy/);
        await page.waitForTimeout(300);
        assert.deepEqual(dialogs, [], 'no script ran from a name or message');
        assert.deepEqual(problems, [], 'no script errors or CSP violations');
        await page.screenshot({
          path: new URL('http-status-page-light.png', ARTIFACTS).pathname,
          fullPage: true,
        });
      } finally {
        await page.close();
      }
    },
  );

  it('shows a state change within 2 s without a reload', { timeout: 60_000 }, async () => {
    const { page, dialogs, problems, navigations } = await open();
    try {
      assert.equal((await rowState(page, 'k8s-api')).state, 'healthy');
      api.report = new Error('readyz: etcd unreachable');
      await cache.checkProvider('k8s-api');
      await page.waitForSelector('tr[data-provider="k8s-api"][data-state="unhealthy"]', { timeout: 2_000 });
      const message = await page.locator('tr[data-provider="k8s-api"] td.message').textContent();
      assert.equal(message, 'readyz: etcd unreachable');
      assert.match((await page.locator('#announcer').textContent()) ?? '', /k8s-api is now unhealthy/);
      api.report = { healthy: true, message: 'readyz: ok' };
      await cache.checkProvider('k8s-api');
      // A change within publishInterval (250 ms) of the last one is sent when the
      // interval ends, on the handler's clock: here a manual one, so time is moved on.
      await clock.advance(250);
      await page.waitForSelector('tr[data-provider="k8s-api"][data-state="healthy"]', { timeout: 2_000 });
      assert.equal(navigations(), 1, 'the page was never reloaded');
      assert.deepEqual(dialogs, []);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('refreshes from the button and explains a 429', { timeout: 60_000 }, async () => {
    const { page, problems } = await open({ colorScheme: 'dark' });
    try {
      await page.click('#refresh-all');
      await page.waitForSelector('#feedback[data-kind="ok"]', { timeout: 20_000 });
      assert.match((await page.locator('#feedback').textContent()) ?? '', /Checked every provider/);
      await page.click('#refresh-all');
      await page.waitForSelector('#feedback[data-kind="error"]', { timeout: 20_000 });
      assert.match((await page.locator('#feedback').textContent()) ?? '', /try again in \d+ s/);
      await page.screenshot({
        path: new URL('http-status-page-dark.png', ARTIFACTS).pathname,
        fullPage: true,
      });
      // 429 is the expected answer: Chromium logs it as a failed resource load.
      assert.deepEqual(
        problems.filter((p) => !p.includes('429')),
        [],
      );
    } finally {
      await page.close();
    }
  });

  it('keeps text contrast at WCAG AA (4.5:1) in light and dark', { timeout: 60_000 }, async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page } = await open({ colorScheme });
      try {
        // Runs in the page (a string, as it uses the DOM): the contrast of each
        // text element against the first opaque background behind it.
        const report = await page.evaluate<{ selector: string; ratio: number }[]>(contrastProbe(PAGE_TEXT));
        assert.ok(report.length >= 10, 'probed the badges, names, messages, buttons and summary');
        const low = report.filter((r) => r.ratio < 4.5);
        assert.deepEqual(low, [], `${colorScheme}: text below 4.5:1`);
      } finally {
        await page.close();
      }
    }
  });

  it('lays rows out as cards on a narrow screen', { timeout: 60_000 }, async () => {
    const { page } = await open({ width: 420 });
    try {
      assert.equal(await page.locator('thead').isVisible(), false, 'no table header on a narrow screen');
      assert.equal(await page.locator('tbody tr').first().isVisible(), true);
      await page.screenshot({
        path: new URL('http-status-page-narrow.png', ARTIFACTS).pathname,
        fullPage: true,
      });
    } finally {
      await page.close();
    }
  });

  it('asks for the token on 401', { timeout: 60_000 }, async () => {
    const guarded = createHealthHandler(cache, { token: 'page-token-123', metrics: false });
    const local = await serve(guarded);
    const page = await browser.newPage();
    try {
      await page.goto(`${local.url}/`);
      await page.waitForSelector('tr[data-provider]', { timeout: 20_000 });
      assert.equal(await page.locator('#token-form').isVisible(), false);
      await page.click('#refresh-all');
      await page.waitForSelector('#token-form:not([hidden])', { timeout: 20_000 });
      assert.match((await page.locator('#feedback').textContent()) ?? '', /needs a token to refresh/);
      await page.fill('#token', 'page-token-123');
      await page.press('#token', 'Enter');
      await page.waitForSelector('#feedback[data-kind="ok"]', { timeout: 20_000 });
    } finally {
      await page.close();
      guarded.close();
      await local.close();
    }
  });
});
