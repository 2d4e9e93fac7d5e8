/**
 * The status page's organising features in headless Chromium, served by a
 * real handler over a real cache with labels, dependencies and silences:
 * grouping by a label (from the select and the URL), collapsing groups,
 * blocked providers under their dependency, the selector box (server-side
 * `?selector=`, a bad selector's message next to the box), silenced rows,
 * the list of silences and expiring one (allowed from loopback; with a
 * token, refused until it is given), and the firing-alerts strip.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createHealthHandler, type HealthHandler } from '../src/http/index.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import {
  createSilenceSource,
  localSilenceControl,
  MaintenanceSchedule,
  parseMaintenanceWindow,
  SilenceSet,
} from '../src/quiet/index.js';
import { launchChromium } from './support/chromium.js';
import { serve, type TestServer } from './support/http.js';
import {
  contrastProbe,
  createPageFleet,
  fleetGroup,
  fleetName,
  openWatched,
  pageWait,
  type PageFleet,
} from './support/page-fleet.js';

/** What `/api/alerts` reads (the `Alerting` class's two methods); the test sets what fires. */
interface FakeAlerts {
  firingNow: { rule: string; incident: string; startedAt: string; providers: string[] }[];
  firing(): FakeAlerts['firingNow'];
  recentDeliveries(): [];
}

const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_COMMENT = 'disk swap <img src=x onerror=alert(4)>';
const TOKEN = 'page-token-456';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);
/** The new text on the page: group rows, nested and silenced rows, silences, alerts, the selector box. */
const ORGANISED_TEXT = [
  '.group-name',
  '.group-size',
  '.group-counts li',
  '.group-counts li.zero',
  '.blocked-note',
  'tr.silenced td.name',
  'tr.silenced td.message',
  '.quiet-note',
  '.silence-what',
  '.silence-comment',
  '.silence-meta',
  '.alert-rule',
  '.alert-providers',
  '.field-error',
  '#selector',
  '.grouping',
];

/** Every row of the table in DOM order: `[group]` for headers, `name@depth` for nested rows. */
async function rowOrder(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('tbody tr')].map((tr) =>
    tr.dataset.group !== undefined ? '[' + tr.dataset.group + ']' : tr.dataset.provider + (tr.dataset.depth ? '@' + tr.dataset.depth : ''))`);
}

async function providersShown(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll('tbody tr[data-provider]')].map((tr) => tr.dataset.provider).sort()`,
  );
}

const groupCounts = (page: Page, group: string): Promise<string> =>
  page.evaluate<string>(
    `[...document.querySelectorAll('tr.group')].find((tr) => tr.dataset.group === ${JSON.stringify(group)})?.querySelector('.group-counts').textContent ?? 'missing'`,
  );

const query = (page: Page): Promise<string> => page.evaluate<string>('location.search');

describe('status page groups, selector, silences and alerts in Chromium', () => {
  let browser: Browser;
  let cache: HealthCache;
  let set: SilenceSet;
  let source: ReturnType<typeof createSilenceSource>;
  let schedule: MaintenanceSchedule;
  let alerts: FakeAlerts;
  const servers: TestServer[] = [];
  const handlers: HealthHandler[] = [];
  let url: string;
  let guardedUrl: string;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const registry = new ProviderRegistry();
    const up = (message: string, degraded = false) => ({
      healthCheck: async () => ({ healthy: true, degraded, message }),
    });
    const down = (message: string) => ({
      healthCheck: async (): Promise<never> => {
        throw new Error(message);
      },
    });
    registry.register('cluster-eu', down('apiserver unreachable'), { labels: { env: 'prod', region: 'eu' } });
    registry.register('api-eu', down('502 from upstream'), {
      labels: { env: 'prod', region: 'eu', team: 'web' },
      dependsOn: ['cluster-eu'],
    });
    registry.register('worker-eu', down('no nodes'), {
      labels: { env: 'prod', region: 'eu' },
      dependsOn: ['cluster-eu'],
    });
    registry.register('db-eu', up('primary ok'), { labels: { env: 'prod', region: 'eu', team: 'db' } });
    registry.register('cluster-us', up('readyz ok'), { labels: { env: 'prod', region: 'us' } });
    registry.register('api-us', up('slow answers', true), {
      labels: { env: 'prod', region: 'us', team: 'web' },
      dependsOn: ['cluster-us'],
    });
    registry.register('cache-us', down('evicting'), { labels: { env: 'staging', region: 'us', team: 'db' } });
    registry.register('batch', down('queue full'), { labels: { env: 'dev', team: 'data' } });
    registry.register(XSS_NAME, up('hostile name'), { labels: { env: 'lab' } });
    set = new SilenceSet();
    // A window open all the time: every minute, for an hour.
    const window = {
      name: 'lab-patching',
      cron: '* * * * *',
      duration: 3_600_000,
      selector: 'env=lab',
      comment: 'OS patching',
    };
    schedule = new MaintenanceSchedule([parseMaintenanceWindow(window)]);
    source = createSilenceSource({ silences: set, schedule });
    cache = new HealthCache(registry, { pollInterval: 3_600_000, checkTimeout: 2_000, silences: source });
    set.add({ matchers: ['cache-us'], duration: 3_600_000, comment: XSS_COMMENT, createdBy: 'ops' });
    await cache.checkNow();
    assert.deepEqual(cache.get('api-eu')?.blockedBy, ['cluster-eu']);
    assert.equal(cache.get('cache-us')?.silencedBy.length, 1);
    alerts = { firingNow: [], firing: () => alerts.firingNow, recentDeliveries: () => [] };
    const control = localSilenceControl(set, schedule);
    const open = createHealthHandler(cache, {
      title: 'Organised',
      metrics: false,
      silences: control,
      alerts,
    });
    const guarded = createHealthHandler(cache, {
      title: 'Guarded',
      metrics: false,
      silences: control,
      token: TOKEN,
    });
    handlers.push(open, guarded);
    servers.push(await serve(open), await serve(guarded));
    url = servers[0]!.url;
    guardedUrl = servers[1]!.url;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const handler of handlers) handler.close();
    for (const server of servers) await server.close();
    cache?.dispose();
    source?.dispose();
    schedule?.dispose();
    set?.dispose();
  });

  it(
    'groups by the label in the URL, nests blocked providers under their dependency, sums up each group',
    { timeout: 60_000 },
    async () => {
      const { page, problems, dialogs } = await openWatched(browser, `${url}/?group=region`);
      try {
        await page.waitForSelector('tr.group', { timeout: 10_000 });
        await pageWait(page, `document.querySelectorAll('tbody tr').length === 12`, 10_000);
        assert.deepEqual(await rowOrder(page), [
          '[eu]',
          'cluster-eu',
          'api-eu@1',
          'worker-eu@1',
          'db-eu',
          '[us]',
          'api-us',
          'cache-us',
          'cluster-us',
          '[(none)]',
          XSS_NAME,
          'batch',
        ]);
        assert.equal(
          await page.locator('tr[data-provider="api-eu"] .blocked-note').textContent(),
          'blocked by cluster-eu',
        );
        assert.equal(await page.locator('tr[data-provider="api-eu"] .pname').textContent(), 'api-eu');
        assert.equal(await groupCounts(page, 'eu'), '1 unhealthy0 degraded1 healthy2 blocked0 silenced');
        assert.equal(await groupCounts(page, 'us'), '0 unhealthy1 degraded1 healthy1 silenced');
        assert.match(
          (await page.locator('tr[data-group="(none)"] .group-name').textContent()) ?? '',
          /No region label/,
        );
        const options = await page.evaluate<string[]>(
          `[...document.querySelectorAll('#group option')].map((o) => o.value)`,
        );
        assert.deepEqual(options, ['', 'env', 'region', 'team']);
        assert.equal(await page.inputValue('#group'), 'region');
        // As in /api/health, blocked and silenced providers are counted apart.
        assert.equal(
          await page.locator('#overall').textContent(),
          '2 of 9 not healthy · 2 blocked · 2 silenced',
        );
        assert.equal(await page.locator('tbody img').count(), 0);
        await page.screenshot({ path: new URL('http-page-groups.png', ARTIFACTS).pathname, fullPage: true });
        assert.deepEqual(dialogs, []);
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    },
  );

  it(
    'picks a grouping from the select, collapses a group, keeps both in the URL over a reload',
    { timeout: 60_000 },
    async () => {
      const { page, problems } = await openWatched(browser, `${url}/`);
      try {
        await page.waitForSelector('tr[data-provider="cluster-eu"]', { timeout: 10_000 });
        assert.equal(await page.locator('tr.group').count(), 0, 'no groups until one is picked');
        await page.selectOption('#group', 'region');
        await page.waitForSelector('tr.group[data-group="eu"]', { timeout: 5_000 });
        assert.equal(await query(page), '?group=region');
        await page.click('tr[data-group="eu"] .group-toggle');
        await page.waitForSelector('tr[data-provider="cluster-eu"]', { state: 'detached', timeout: 5_000 });
        assert.equal(await query(page), '?group=region&collapsed=eu');
        assert.equal(await page.getAttribute('tr[data-group="eu"] .group-toggle', 'aria-expanded'), 'false');
        // The summary of a collapsed group still counts its rows.
        assert.match(await groupCounts(page, 'eu'), /1 unhealthy.*2 blocked/);
        await page.reload();
        await page.waitForSelector('tr.group[data-group="us"]', { timeout: 10_000 });
        assert.equal(await page.inputValue('#group'), 'region');
        assert.equal(await page.locator('tr[data-provider="cluster-eu"]').count(), 0, 'still collapsed');
        assert.equal(await page.getAttribute('tr[data-group="eu"] .group-toggle', 'aria-expanded'), 'false');
        await page.click('tr[data-group="eu"] .group-toggle');
        await page.waitForSelector('tr[data-provider="cluster-eu"]', { timeout: 5_000 });
        assert.equal(await query(page), '?group=region');
        await page.selectOption('#group', '');
        await pageWait(page, `document.querySelectorAll('tr.group').length === 0`, 5_000);
        assert.equal(await query(page), '');
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    },
  );

  it(
    "filters by a selector on the server, shows a bad one's position beside the box, keeps it in the URL",
    { timeout: 60_000 },
    async () => {
      const { page, problems } = await openWatched(browser, `${url}/?group=region`);
      const prod = ['api-eu', 'api-us', 'cluster-eu', 'cluster-us', 'worker-eu'];
      try {
        await page.waitForSelector('tr[data-provider="batch"]', { timeout: 10_000 });
        await page.fill('#selector', 'env=prod,team!=db');
        await page.press('#selector', 'Enter');
        await pageWait(page, `!document.querySelector('tr[data-provider="batch"]')`, 10_000);
        assert.deepEqual(await providersShown(page), prod);
        assert.equal(await query(page), '?group=region&selector=env%3Dprod%2Cteam%21%3Ddb');
        assert.match((await page.locator('#shown').textContent()) ?? '', /^5 providers$/);
        assert.equal(await page.locator('#selector-error').isVisible(), false);

        await page.fill('#selector', 'env=prod,,team');
        await page.press('#selector', 'Enter');
        await page.waitForSelector('#selector-error:not([hidden])', { timeout: 5_000 });
        assert.match((await page.locator('#selector-error').textContent()) ?? '', /position 9/);
        assert.equal(await page.getAttribute('#selector', 'aria-invalid'), 'true');
        assert.deepEqual(await providersShown(page), prod, 'a refused selector changes nothing');
        assert.equal(await query(page), '?group=region&selector=env%3Dprod%2Cteam%21%3Ddb');

        await page.reload();
        await page.waitForSelector('#connection[data-state="live"]', { timeout: 10_000 });
        await page.waitForSelector('tr[data-provider="cluster-eu"]', { timeout: 10_000 });
        assert.deepEqual(await providersShown(page), prod);
        assert.equal(await page.inputValue('#selector'), 'env=prod,team!=db');

        await page.fill('#selector', '');
        await page.waitForSelector('tr[data-provider="batch"]', { timeout: 10_000 });
        assert.equal(await query(page), '?group=region');
        // The refused selector's 400 is logged by Chromium as a failed resource load.
        assert.deepEqual(
          problems.filter((p) => !p.includes('400')),
          [],
        );
      } finally {
        await page.close();
      }
    },
  );

  it(
    'mutes silenced rows with the comment and end, lists silences and open windows, hostile comments as text',
    { timeout: 60_000 },
    async () => {
      const { page, problems, dialogs } = await openWatched(browser, `${url}/`);
      try {
        await page.waitForSelector('tr.silenced[data-provider="cache-us"]', { timeout: 10_000 });
        await pageWait(
          page,
          `/until/.test(document.querySelector('tr[data-provider="cache-us"] .quiet-note').textContent)`,
          10_000,
        );
        const note = (await page.locator('tr[data-provider="cache-us"] .quiet-note').textContent()) ?? '';
        assert.match(note, /^Silenced until .+ · disk swap <img src=x onerror=alert\(4\)>$/);
        assert.equal(await page.locator('tr.silenced').count(), 2);
        // A maintenance window silences too: its comment and end, and no Expire (it is configuration).
        const windowed = page.locator('tbody tr.silenced').filter({ hasText: 'OS patching' });
        assert.equal(await windowed.getAttribute('data-provider'), XSS_NAME);
        assert.match(
          (await windowed.locator('.quiet-note').textContent()) ?? '',
          /^Silenced until .+ · OS patching$/,
        );
        assert.equal(await page.locator('#silences').isVisible(), true);
        assert.equal(await page.locator('#silence-count').textContent(), '1 silence, 1 maintenance window');
        const item = page.locator('#silence-list li.silence:not(.window)');
        assert.equal(await item.count(), 1);
        assert.match((await item.textContent()) ?? '', /cache-us.*disk swap.*by ops/);
        const window = page.locator('#silence-list li.window');
        assert.match(
          (await window.textContent()) ?? '',
          /lab-patching: env=lab.*OS patching.*maintenance window/,
        );
        assert.equal(await window.locator('button').count(), 0);
        assert.equal(await page.locator('img').count(), 0);
        assert.deepEqual(dialogs, []);
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    },
  );

  it('expires a silence from the page from loopback', { timeout: 60_000 }, async () => {
    const silence = set.add({
      matchers: ['batch'],
      duration: 600_000,
      comment: 'queue drain',
      createdBy: 'ci',
    });
    const { page, problems } = await openWatched(browser, `${url}/`);
    try {
      await page.waitForSelector('tr.silenced[data-provider="batch"]', { timeout: 10_000 });
      const button = page.locator(`li[data-silence-id="${silence.id}"] button`);
      await button.click();
      assert.equal(await button.textContent(), 'Confirm expire', 'the first click only arms the button');
      assert.ok(set.get(silence.id));
      await button.click();
      await page.waitForSelector('#feedback[data-kind="ok"]', { timeout: 10_000 });
      assert.equal(await page.locator('#feedback').textContent(), 'Silence expired.');
      assert.equal(set.get(silence.id), undefined);
      await page.waitForSelector('tr[data-provider="batch"]:not(.silenced)', { timeout: 10_000 });
      await page.waitForSelector(`li[data-silence-id="${silence.id}"]`, {
        state: 'detached',
        timeout: 10_000,
      });
      assert.deepEqual(problems, []);
    } finally {
      set.expire(silence.id);
      await page.close();
    }
  });

  it('refuses to expire without the token, asks for it, then expires', { timeout: 60_000 }, async () => {
    const silence = set.add({
      matchers: 'team=db',
      duration: 600_000,
      comment: 'failover drill',
      createdBy: 'db',
    });
    const { page, problems } = await openWatched(browser, `${guardedUrl}/`);
    try {
      const button = page.locator(`li[data-silence-id="${silence.id}"] button`);
      await button.waitFor({ timeout: 10_000 });
      await button.click();
      await button.click();
      await page.waitForSelector('#token-form:not([hidden])', { timeout: 10_000 });
      assert.match((await page.locator('#feedback').textContent()) ?? '', /needs a token to expire silences/);
      assert.ok(set.get(silence.id), 'refused: the silence stays');
      await page.fill('#token', 'wrong-token');
      await page.press('#token', 'Enter');
      await pageWait(page, `/not accepted/.test(document.getElementById('feedback').textContent)`, 10_000);
      assert.ok(set.get(silence.id), 'a wrong token changes nothing');
      await page.fill('#token', TOKEN);
      await page.press('#token', 'Enter');
      await pageWait(page, `document.getElementById('feedback').textContent === 'Silence expired.'`, 10_000);
      assert.equal(set.get(silence.id), undefined);
      assert.deepEqual(
        problems.filter((p) => !p.includes('401')),
        [],
      );
    } finally {
      set.expire(silence.id);
      await page.close();
    }
  });

  it(
    'shows firing alerts in a strip, and no strip (nor request) where alerting is off',
    { timeout: 60_000 },
    async () => {
      alerts.firingNow = [
        {
          rule: 'prod-down',
          incident: 'inc-1',
          startedAt: new Date(Date.now() - 120_000).toISOString(),
          providers: ['cluster-eu', 'api-eu'],
        },
      ];
      try {
        const { page, problems } = await openWatched(browser, `${url}/`);
        try {
          await page.waitForSelector('#alerts:not([hidden])', { timeout: 10_000 });
          assert.equal(await page.locator('#alerts-title').textContent(), '1 alert firing');
          const text = (await page.locator('#alert-list li.alert').textContent()) ?? '';
          assert.match(text, /prod-down/);
          assert.match(text, /cluster-eu \(unhealthy\), api-eu \(unhealthy\)/);
          assert.deepEqual(problems, []);
        } finally {
          await page.close();
        }
        const asked: string[] = [];
        const off = await openWatched(browser, `${guardedUrl}/`);
        try {
          off.page.on('request', (request) => asked.push(new URL(request.url()).pathname));
          await off.page.reload();
          await off.page.waitForSelector('tr[data-provider="batch"]', { timeout: 10_000 });
          await off.page.waitForTimeout(300);
          assert.equal(await off.page.locator('#alerts').isVisible(), false);
          assert.ok(asked.includes('/api/silences') && !asked.includes('/api/alerts'), asked.join(' '));
          assert.deepEqual(off.problems, []);
        } finally {
          await off.page.close();
        }
      } finally {
        alerts.firingNow = [];
      }
    },
  );

  it(
    'keeps the new text at WCAG AA (4.5:1) in light and dark, and as cards on a narrow screen',
    { timeout: 60_000 },
    async () => {
      alerts.firingNow = [
        { rule: 'prod-down', incident: 'inc-2', startedAt: new Date().toISOString(), providers: ['batch'] },
      ];
      try {
        for (const colorScheme of ['light', 'dark'] as const) {
          const { page } = await openWatched(browser, `${url}/?group=region`, { colorScheme });
          try {
            await page.waitForSelector('#alerts:not([hidden])', { timeout: 10_000 });
            await page.waitForSelector('tr.silenced', { timeout: 10_000 });
            // A refused selector, so its message is on screen too.
            await page.fill('#selector', 'env in (');
            await page.press('#selector', 'Enter');
            await page.waitForSelector('#selector-error:not([hidden])', { timeout: 5_000 });
            const report = await page.evaluate<{ selector: string; ratio: number }[]>(
              contrastProbe(ORGANISED_TEXT),
            );
            assert.equal(report.length, ORGANISED_TEXT.length, 'every probed element is on the page');
            assert.deepEqual(
              report.filter((r) => r.ratio < 4.5),
              [],
              `${colorScheme}: text below 4.5:1`,
            );
          } finally {
            await page.close();
          }
        }
        const { page } = await openWatched(browser, `${url}/?group=region`, { width: 420 });
        try {
          await page.waitForSelector('tr.group', { timeout: 10_000 });
          const heights = await page.evaluate<number[]>(
            `[...new Set([...document.querySelectorAll('tbody tr')].map((row) => row.getBoundingClientRect().height))]`,
          );
          assert.equal(heights.length, 1, `group and provider rows share one height: ${heights.join(', ')}`);
          await page.screenshot({
            path: new URL('http-page-groups-narrow.png', ARTIFACTS).pathname,
            fullPage: true,
          });
        } finally {
          await page.close();
        }
      } finally {
        alerts.firingNow = [];
      }
    },
  );
});

describe('status page with 1,000 providers in 20 groups in Chromium', () => {
  const COUNT = 1_000;
  const GROUPS = 20;
  /** Rows in the DOM at most: a screen of rows plus the margins, far below the fleet. */
  const MAX_RENDERED = 80;
  let browser: Browser;
  let fleet: PageFleet;

  before(async () => {
    fleet = await createPageFleet(COUNT, [], { groups: GROUPS });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it(
    'keeps the table virtual when grouped, reaches the last group by keyboard, updates a group summary live',
    { timeout: 90_000 },
    async () => {
      // The first three groups collapsed, so g-03's header is on screen.
      const { page, problems } = await openWatched(
        browser,
        `${fleet.url}/?group=group&collapsed=g-00,g-01,g-02`,
      );
      try {
        await page.waitForSelector(`#table[aria-rowcount="${COUNT - 150 + GROUPS + 1}"]`, {
          timeout: 20_000,
        });
        const rendered = await page.locator('tbody tr').count();
        assert.ok(rendered > 10 && rendered <= MAX_RENDERED, `rendered ${rendered} rows`);
        assert.equal(
          await page.locator('tr.group').first().getAttribute('data-group'),
          fleetGroup(0, GROUPS),
        );
        // g-00 holds providers 0, 20, 40, …, all healthy; g-03 the degraded ones (i % 20 === 3).
        // A collapsed group's summary still counts its rows.
        assert.equal(await groupText(page, 'g-00'), '0 unhealthy0 degraded50 healthy0 silenced');
        assert.equal(await groupText(page, 'g-03'), '0 unhealthy50 degraded0 healthy0 silenced');

        // A live change updates the summary of its group.
        await fleet.set('unhealthy', [fleetName(3)]);
        await pageWait(
          page,
          `document.querySelector('tr[data-group="g-03"] .group-counts')?.textContent === '1 unhealthy49 degraded0 healthy0 silenced'`,
          10_000,
        );

        // End from the first group's toggle: the last row of the last group, rendered on demand.
        await page.locator('tr.group .group-toggle').first().focus();
        await page.keyboard.press('End');
        const last = fleetName(COUNT - 1);
        await pageWait(page, `document.activeElement?.closest('tr')?.dataset.provider === '${last}'`, 5_000);
        assert.ok((await page.locator('tbody tr').count()) <= MAX_RENDERED);
        // Home goes back to the first group's toggle; Enter expands it.
        await page.keyboard.press('Home');
        await pageWait(page, `document.activeElement?.closest('tr')?.dataset.group === 'g-00'`, 5_000);
        await page.keyboard.press('Enter');
        await page.waitForSelector(`#table[aria-rowcount="${COUNT - 100 + GROUPS + 1}"]`, { timeout: 5_000 });
        assert.equal(await page.evaluate<string>('location.search'), '?group=group&collapsed=g-01%2Cg-02');
        assert.ok((await page.locator('tbody tr').count()) <= MAX_RENDERED);
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
        await fleet.set('healthy');
      }
    },
  );
});

function groupText(page: Page, group: string): Promise<string> {
  return page.evaluate<string>(
    `document.querySelector('tr[data-group=${JSON.stringify(group)}] .group-counts')?.textContent ?? 'missing'`,
  );
}
