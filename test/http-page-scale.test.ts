/**
 * The status page at 10,000 providers in headless Chromium, served by a real
 * handler: only the rows in view are rendered, the last row is reachable by
 * scrolling and by keyboard, a change shows within 2 s, a burst is announced
 * once, the state and name filters narrow the rows and survive a reload, and
 * a hostile name stays text under the strict CSP.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { createPageFleet, fleetName, openWatched, pageWait, type PageFleet } from './support/page-fleet.js';

const COUNT = 10_000;
const XSS_NAME = '<img src=x onerror=alert(1)>';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);
/** Rows in the DOM at most: a screen of rows plus the margins, far below the fleet. */
const MAX_RENDERED = 80;

/** One attribute of every rendered row, in DOM order. */
async function rowAttribute(page: Page, attribute: string): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll('tbody tr[data-provider]')].map((row) => row.getAttribute(${JSON.stringify(attribute)}))`,
  );
}

async function renderedRows(page: Page): Promise<number> {
  return page.locator('tbody tr[data-provider]').count();
}

describe('status page with 10,000 providers in Chromium', () => {
  let browser: Browser;
  let fleet: PageFleet;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    fleet = await createPageFleet(COUNT, [XSS_NAME]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it(
    'renders only the rows in view, reaches the last row, keeps a hostile name as text',
    { timeout: 90_000 },
    async () => {
      const { page, problems, dialogs } = await openWatched(browser, `${fleet.url}/`);
      try {
        await page.waitForSelector(`#table[aria-rowcount="${COUNT + 2}"]`, { timeout: 20_000 });
        const rendered = await renderedRows(page);
        assert.ok(rendered > 10 && rendered <= MAX_RENDERED, `rendered ${rendered} rows`);
        // '<' sorts before 's': the hostile name is the first row, shown as typed.
        const first = page.locator('tbody tr[aria-rowindex="2"]');
        assert.equal(await first.getAttribute('data-provider'), XSS_NAME);
        assert.equal(await first.locator('.name').textContent(), XSS_NAME);
        assert.equal(await page.locator('tbody img').count(), 0);
        // Every row has the same height, which the scroll arithmetic relies on.
        const heights = await page.evaluate<number[]>(
          `[...new Set([...document.querySelectorAll('tbody tr[data-provider]')].map((row) => row.getBoundingClientRect().height))]`,
        );
        const rowHeight = await page.evaluate<number>(
          `parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h'))`,
        );
        assert.deepEqual(heights, [rowHeight], 'every row is --row-h tall');

        await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
        const last = page.locator(`tbody tr[aria-rowindex="${COUNT + 2}"]`);
        await last.waitFor({ timeout: 5_000 });
        assert.equal(await last.getAttribute('data-provider'), fleetName(COUNT - 1));
        assert.equal(await last.isVisible(), true);
        assert.ok((await renderedRows(page)) <= MAX_RENDERED);
        await page.screenshot({ path: new URL('http-page-scale-end.png', ARTIFACTS).pathname });

        // Keyboard: Home from the last row's button goes back to the first row, End to the last.
        await last.locator('button').focus();
        await page.keyboard.press('Home');
        await pageWait(
          page,
          'document.activeElement?.closest("tr")?.getAttribute("aria-rowindex") === "2"',
          5_000,
        );
        await page.keyboard.press('ArrowDown');
        assert.equal(
          await page.evaluate('document.activeElement.closest("tr").dataset.provider'),
          fleetName(0),
        );
        await page.keyboard.press('End');
        await pageWait(
          page,
          `document.activeElement?.closest("tr")?.getAttribute("aria-rowindex") === "${COUNT + 2}"`,
          5_000,
        );
        await page.waitForTimeout(300);
        assert.deepEqual(dialogs, [], 'no script ran from the hostile name');
        assert.deepEqual(problems, [], 'no script errors or CSP violations');
      } finally {
        await page.close();
      }
    },
  );

  it('shows a change to a row in view within 2 s and announces it', { timeout: 60_000 }, async () => {
    const { page, problems } = await openWatched(browser, `${fleet.url}/`);
    const name = fleetName(5_000);
    try {
      await page.waitForSelector(`#table[aria-rowcount="${COUNT + 2}"]`, { timeout: 20_000 });
      // Scroll row 5,000 into view (row i sits at aria-rowindex i + 3, after the hostile name).
      await page.evaluate(`(() => {
        const sizer = document.getElementById('sizer');
        const h = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h'));
        window.scrollTo(0, sizer.getBoundingClientRect().top + window.scrollY + 5001 * h);
      })()`);
      const row = page.locator(`tbody tr[aria-rowindex="${5_000 + 3}"]`);
      await row.waitFor({ timeout: 5_000 });
      assert.equal(await row.getAttribute('data-provider'), name);
      assert.equal(await row.getAttribute('data-state'), 'healthy');
      const started = Date.now();
      await fleet.set('unhealthy', [name]);
      await page.waitForSelector(`tbody tr[aria-rowindex="${5_000 + 3}"][data-state="unhealthy"]`, {
        timeout: 2_000,
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 2_000, `visible after ${elapsed} ms`);
      assert.equal(await row.locator('td.message').textContent(), `${name}: connection refused`);
      assert.match(
        (await page.locator('#announcer').textContent()) ?? '',
        new RegExp(`${name} is now unhealthy`),
      );
      await fleet.set('healthy', [name]);
      await page.waitForSelector(`tbody tr[aria-rowindex="${5_000 + 3}"][data-state="healthy"]`, {
        timeout: 2_000,
      });
      // Above 1,000 providers each row on screen fetches its own history: three checks, a sparkline.
      await page.waitForSelector(`tbody tr[aria-rowindex="${5_000 + 3}"] svg.spark`, { timeout: 5_000 });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it(
    'filters by state and name, and keeps the filter in the URL across a reload',
    { timeout: 60_000 },
    async () => {
      const { page, problems } = await openWatched(browser, `${fleet.url}/`);
      try {
        await page.waitForSelector(`#table[aria-rowcount="${COUNT + 2}"]`, { timeout: 20_000 });
        const unhealthy = fleet.names.filter((n) => fleet.cache.get(n)?.state === 'unhealthy').length;
        await page.click('.chip[data-state="unhealthy"]');
        await page.waitForSelector(`#table[aria-rowcount="${unhealthy + 1}"]`, { timeout: 5_000 });
        assert.equal(
          await page.locator('.chip[data-state="unhealthy"]').getAttribute('aria-pressed'),
          'true',
        );
        const states = [...new Set(await rowAttribute(page, 'data-state'))];
        assert.deepEqual(states, ['unhealthy']);
        // The unhealthy ones among svc-00000 to svc-00999 (every 50th from svc-00007): 20 rows.
        await page.fill('#filter', 'svc-00');
        const expected = fleet.names.filter(
          (n) => n.startsWith('svc-00') && fleet.cache.get(n)?.state === 'unhealthy',
        );
        await page.waitForSelector(`#table[aria-rowcount="${expected.length + 1}"]`, { timeout: 5_000 });
        assert.deepEqual(await rowAttribute(page, 'data-provider'), expected);
        await pageWait(page, 'location.search.includes("q=svc-00")', 5_000);
        assert.match(new URL(page.url()).search, /state=unhealthy/);
        await page.reload();
        await page.waitForSelector(`#table[aria-rowcount="${expected.length + 1}"]`, { timeout: 20_000 });
        assert.equal(await page.inputValue('#filter'), 'svc-00');
        assert.equal(
          await page.locator('.chip[data-state="unhealthy"]').getAttribute('aria-pressed'),
          'true',
        );
        assert.equal(await renderedRows(page), expected.length);
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    },
  );

  it('keeps one row height as cards on a narrow screen, and in dark', { timeout: 60_000 }, async () => {
    for (const [file, options] of [
      ['http-page-scale-narrow.png', { width: 420, height: 900 }],
      ['http-page-scale-dark.png', { colorScheme: 'dark' }],
    ] as const) {
      const { page, problems } = await openWatched(
        browser,
        `${fleet.url}/?state=unhealthy,degraded`,
        options,
      );
      try {
        await page.waitForSelector('tbody tr[data-provider]', { timeout: 20_000 });
        await page.evaluate('window.scrollTo(0, 3000)');
        await page.waitForTimeout(200);
        const heights = await page.evaluate<number[]>(
          `[...new Set([...document.querySelectorAll('tbody tr[data-provider]')].map((row) => row.getBoundingClientRect().height))]`,
        );
        const rowHeight = await page.evaluate<number>(
          `parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h'))`,
        );
        assert.deepEqual(heights, [rowHeight], `${file}: every row is --row-h tall`);
        assert.ok((await renderedRows(page)) <= MAX_RENDERED);
        await page.screenshot({ path: new URL(file, ARTIFACTS).pathname });
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
    }
  });

  it(
    'applies a burst where every provider changes, and announces it once as counts',
    { timeout: 120_000 },
    async () => {
      const { page, problems } = await openWatched(browser, `${fleet.url}/`);
      try {
        await page.waitForSelector(`#table[aria-rowcount="${COUNT + 2}"]`, { timeout: 20_000 });
        await fleet.set('degraded');
        await pageWait(
          page,
          `document.querySelector('.chip[data-state="degraded"] b').textContent === '${COUNT + 1}'`,
          30_000,
        );
        await pageWait(
          page,
          `/providers changed/.test(document.getElementById('announcer').textContent)`,
          5_000,
        );
        const rows = [...new Set(await rowAttribute(page, 'data-state'))];
        assert.deepEqual(rows, ['degraded']);
        assert.match(
          (await page.locator('#overall').textContent()) ?? '',
          new RegExp(`${COUNT + 1} of ${COUNT + 1} degraded`),
        );
        assert.deepEqual(problems, []);
      } finally {
        await fleet.set('healthy');
        await page.close();
      }
    },
  );
});
