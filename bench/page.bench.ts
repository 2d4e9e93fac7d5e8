// The status page in headless Chromium at 1,000 and 10,000 providers served
// by a real handler, with the virtual table and with it turned off
// (?virtual=0: every row in the DOM), in the same run:
//  - first paint and first contentful paint (the shell, before any data);
//  - rows known: the snapshot parsed; rows rendered: the first frame after it;
//  - a live update: one provider changes in the cache -> its row's state in the
//    DOM (median of 5, page clock and server clock are the same machine's);
//  - a burst where every provider changes: time until the page holds every
//    change, render work per frame (max), applying one `changes` event (max),
//    the longest gap between animation frames, and main-thread long tasks in
//    total.
// Then 1,000 labelled providers in 20 groups: the page grouped by that label
// (?group=group), and grouped with one group collapsed and a selector box
// value (?selector=env=prod), against the same fleet ungrouped, in the same run.
// Run: node --import tsx bench/page.bench.ts [1000] [10000]
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.js';
import { createPageFleet, fleetName, pageWait, type PageFleet } from '../test/support/page-fleet.js';

/** Providers and groups of the grouped section (the "1,000 providers in 20 groups"). */
const GROUPED_COUNT = 1_000;
const GROUPS = 20;
/** Runs per variant in the grouped section, in rotating order; each figure is the median (a shared machine is noisy). */
const RUNS = 3;

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Figures {
  firstPaint: number;
  fcp: number;
  rowsKnown: number;
  rowsRendered: number;
  domRows: number;
  update: number;
  burst: number;
  frameWorkMax: number;
  applyMax: number;
  frames: number;
  gapMax: number;
  longTasks: number;
}

/** Page-side: records frame gaps and long tasks until `window.__burst.stop()`. */
const BURST_PROBE = `(() => {
  const probe = { gapMax: 0, longTasks: 0, doneAt: 0, last: performance.now(), running: true };
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) probe.longTasks += e.duration; });
  observer.observe({ type: 'longtask' });
  const tick = (now) => { probe.gapMax = Math.max(probe.gapMax, now - probe.last); probe.last = now; if (probe.running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  performance.clearMeasures('status-render');
  performance.clearMeasures('status-apply');
  window.__burst = probe;
})()`;

async function measure(browser: Browser, fleet: PageFleet, count: number, query: string): Promise<Figures> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${fleet.url}/?timing=1${query}`);
    await pageWait(page, `performance.getEntriesByName('rows-rendered').length > 0`, 120_000);
    const load = await page.evaluate<{
      fp: number;
      fcp: number;
      known: number;
      rendered: number;
      rows: number;
    }>(`({
      fp: performance.getEntriesByName('first-paint')[0]?.startTime ?? NaN,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      known: performance.getEntriesByName('rows-known')[0].startTime,
      rendered: performance.getEntriesByName('rows-rendered')[0].startTime,
      rows: document.querySelectorAll('tbody tr[data-provider]').length,
    })`);
    const update = await liveUpdate(page, fleet);
    const burst = await everyProviderChanges(page, fleet, count);
    return {
      firstPaint: load.fp,
      fcp: load.fcp,
      rowsKnown: load.known,
      rowsRendered: load.rendered,
      domRows: load.rows,
      update,
      ...burst,
    };
  } finally {
    await page.close();
    await fleet.set('healthy');
  }
}

/** Median time from a cache change of the first row to its new state in the DOM. */
async function liveUpdate(page: Page, fleet: PageFleet): Promise<number> {
  const name = fleetName(0);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const state = i % 2 === 0 ? 'unhealthy' : 'healthy';
    // A quiet publish interval first, so the change is written at once, as a lone change is.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await page.evaluate(`(() => {
      window.__seen = 0;
      const observer = new MutationObserver(() => {
        const row = document.querySelector('tr[data-provider="${name}"]');
        if (row && row.dataset.state === '${state}') { window.__seen = Date.now(); observer.disconnect(); }
      });
      observer.observe(document.getElementById('rows'), { subtree: true, attributes: true, attributeFilter: ['data-state'] });
    })()`);
    const started = Date.now();
    await fleet.set(state, [name]);
    await pageWait(page, 'window.__seen > 0', 10_000);
    times.push((await page.evaluate<number>('window.__seen')) - started);
  }
  return median(times);
}

async function everyProviderChanges(
  page: Page,
  fleet: PageFleet,
  count: number,
): Promise<Pick<Figures, 'burst' | 'frameWorkMax' | 'applyMax' | 'frames' | 'gapMax' | 'longTasks'>> {
  await new Promise((resolve) => setTimeout(resolve, 400));
  await page.evaluate(BURST_PROBE);
  await page.evaluate(`(() => {
    const chip = document.querySelector('.chip[data-state="degraded"] b');
    const observer = new MutationObserver(() => {
      if (chip.textContent === '${count}') { window.__burst.doneAt = Date.now(); observer.disconnect(); }
    });
    observer.observe(chip, { childList: true, characterData: true, subtree: true });
  })()`);
  const started = Date.now();
  await fleet.set('degraded');
  await pageWait(page, 'window.__burst.doneAt > 0', 120_000);
  // Let the last frames land before reading the probe.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const probe = await page.evaluate<{
    doneAt: number;
    gapMax: number;
    longTasks: number;
    work: number[];
    apply: number[];
  }>(`(() => {
    window.__burst.running = false;
    return { doneAt: window.__burst.doneAt, gapMax: window.__burst.gapMax, longTasks: window.__burst.longTasks,
      work: performance.getEntriesByName('status-render').map((e) => e.duration),
      apply: performance.getEntriesByName('status-apply').map((e) => e.duration) };
  })()`);
  return {
    burst: probe.doneAt - started,
    frameWorkMax: Math.max(0, ...probe.work),
    applyMax: Math.max(0, ...probe.apply),
    frames: probe.work.length,
    gapMax: probe.gapMax,
    longTasks: probe.longTasks,
  };
}

/** Each figure's median over runs. */
function medianFigures(runs: Figures[]): Figures {
  const keys = Object.keys(runs[0]!) as (keyof Figures)[];
  return Object.fromEntries(keys.map((key) => [key, median(runs.map((f) => f[key]))])) as unknown as Figures;
}

function print(title: string, virtual: Figures, full: Figures): void {
  const row = (label: string, pick: (f: Figures) => number, unit = 'ms', digits = 0): void => {
    const a = pick(virtual);
    const b = pick(full);
    const ratio = b > 0 ? ` (${fmt(a / b, 2)}x)` : '';
    console.log(
      `  ${label.padEnd(40)}: ${fmt(a, digits).padStart(8)} ${unit}  vs ${fmt(b, digits).padStart(8)} ${unit}${ratio}`,
    );
  };
  console.log(`\n${title}`);
  row('first paint', (f) => f.firstPaint);
  row('first contentful paint', (f) => f.fcp);
  row('rows known (snapshot parsed)', (f) => f.rowsKnown);
  row('rows rendered (first frame after)', (f) => f.rowsRendered);
  row('rows in the DOM', (f) => f.domRows, 'rows');
  row('live update, change -> DOM (median)', (f) => f.update);
  row('burst: every provider changed -> page', (f) => f.burst);
  row('burst: render work, longest frame', (f) => f.frameWorkMax, 'ms', 1);
  row('burst: applying a changes event, max', (f) => f.applyMax, 'ms', 1);
  row('burst: frames rendered', (f) => f.frames, 'frames');
  row('burst: longest gap between frames', (f) => f.gapMax);
  row('burst: long tasks in total', (f) => f.longTasks);
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const browser = await launchChromium();
try {
  for (const count of sizes.length > 0 ? sizes : [1_000, 10_000]) {
    const fleet = await createPageFleet(count);
    try {
      const virtual = await measure(browser, fleet, count, '');
      const full = await measure(browser, fleet, count, '&virtual=0');
      print(`${fmt(count)} providers: virtual table vs every row in the DOM (?virtual=0)`, virtual, full);
    } finally {
      await fleet.close();
    }
  }
  const fleet = await createPageFleet(GROUPED_COUNT, [], { groups: GROUPS });
  try {
    // 3 of 4 are env=prod (the rest staging); g-01 collapsed: fewer rows drawn, the same stream work.
    const variants = [
      { count: GROUPED_COUNT, query: '' },
      { count: GROUPED_COUNT, query: '&group=group' },
      { count: GROUPED_COUNT * 0.75, query: '&group=group&collapsed=g-01&selector=env%3Dprod' },
    ];
    const runs: Figures[][] = variants.map(() => []);
    for (let run = 0; run < RUNS; run++) {
      // Each variant takes each place in the order once: a page opened right after
      // another measures slower here, whichever it is.
      for (let k = 0; k < variants.length; k++) {
        const i = (k + run) % variants.length;
        const variant = variants[i]!;
        runs[i]!.push(await measure(browser, fleet, variant.count, variant.query));
      }
    }
    const [flat, grouped, selected] = runs.map(medianFigures) as [Figures, Figures, Figures];
    print(
      `${fmt(GROUPED_COUNT)} providers in ${GROUPS} groups, median of ${RUNS}: grouped (?group=group) vs ungrouped`,
      grouped,
      flat,
    );
    print('grouped, g-01 collapsed, ?selector=env=prod (750 providers) vs ungrouped', selected, flat);
  } finally {
    await fleet.close();
  }
} finally {
  await browser.close();
}
