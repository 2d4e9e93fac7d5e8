/**
 * A fleet of providers served by a real health handler, for the status page's
 * scale tests and bench: each provider answers from a shared plan that a test
 * changes (one provider or all of them) before asking the cache to check.
 */
import type { Browser, Page } from 'playwright-core';
import { createHealthHandler, type HealthHandler } from '../../src/http/index.js';
import { HealthCache, ProviderRegistry, type HealthReport } from '../../src/index.js';
import { serve, type TestServer } from './http.js';

/** What each provider reports next. */
export type Plan = 'healthy' | 'degraded' | 'unhealthy';

/** A served fleet; `close` stops the server, the handler and the cache. */
export interface PageFleet {
  readonly url: string;
  readonly names: readonly string[];
  readonly cache: HealthCache;
  readonly handler: HealthHandler;
  /** Sets the next report of `names` (all when omitted) and checks them. */
  set(plan: Plan, names?: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The name of provider `i` of a fleet: sorts in index order. */
export const fleetName = (i: number): string => `svc-${String(i).padStart(5, '0')}`;

/** How a fleet is labelled. */
export interface FleetOptions {
  /**
   * Labels provider `i` with `group: g-NN` (`i % groups`, zero-padded) and
   * `env: staging` (i % 4 === 1) or `prod`. Default: no labels.
   */
  readonly groups?: number;
}

/** The `group` label value of provider `i` in a fleet of `groups` groups. */
export const fleetGroup = (i: number, groups: number): string => `g-${String(i % groups).padStart(2, '0')}`;

/** `count` providers (every 50th unhealthy, every 20th degraded) plus `extra` names, checked once. */
export async function createPageFleet(
  count: number,
  extra: readonly string[] = [],
  options: FleetOptions = {},
): Promise<PageFleet> {
  const plans = new Map<string, Plan>();
  const registry = new ProviderRegistry();
  const names = [...Array.from({ length: count }, (_, i) => fleetName(i)), ...extra];
  const { groups } = options;
  names.forEach((name, i) => {
    plans.set(name, i % 50 === 7 ? 'unhealthy' : i % 20 === 3 ? 'degraded' : 'healthy');
    const labels =
      groups === undefined
        ? undefined
        : { group: fleetGroup(i, groups), env: i % 4 === 1 ? 'staging' : 'prod' };
    registry.register(
      name,
      {
        healthCheck: async (): Promise<HealthReport> => {
          const plan = plans.get(name) ?? 'healthy';
          if (plan === 'unhealthy') throw new Error(`${name}: connection refused`);
          return {
            healthy: true,
            degraded: plan === 'degraded',
            message: `${name}: ${plan}`,
            latency: 1 + (i % 17),
          };
        },
      },
      labels === undefined ? undefined : { labels },
    );
  });
  const cache = new HealthCache(registry, { pollInterval: 3_600_000, checkTimeout: 5_000, concurrency: 256 });
  await cache.checkNow();
  const handler = createHealthHandler(cache, { title: 'Fleet health', metrics: false });
  let server: TestServer | undefined;
  try {
    server = await serve(handler);
  } catch (error) {
    handler.close();
    cache.dispose();
    throw error;
  }
  const served = server;
  return {
    url: served.url,
    names,
    cache,
    handler,
    async set(plan, which = names) {
      for (const name of which) plans.set(name, plan);
      if (which === names) await cache.checkNow();
      else for (const name of which) await cache.checkProvider(name);
    },
    async close() {
      handler.close();
      await served.close();
      cache.dispose();
    },
  };
}

/** A page with its script errors, console errors and CSP violations recorded. */
export interface WatchedPage {
  readonly page: Page;
  readonly problems: string[];
  readonly dialogs: string[];
}

/** Opens a page that records problems; `url` is loaded and the event stream awaited. */
export async function openWatched(
  browser: Browser,
  url: string,
  options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {},
): Promise<WatchedPage> {
  const page = await browser.newPage({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  // Injected by the browser driver, outside the page's CSP: reports every violation.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
  });
  await page.goto(url);
  await page.waitForSelector('#connection[data-state="live"]', { timeout: 30_000 });
  return { page, problems, dialogs };
}

/**
 * Polls `expression` (page-side JavaScript) every 20 ms until it is truthy,
 * failing after `timeout` ms. Unlike `waitForFunction`, it never asks the page
 * to evaluate a string, which the page's CSP (no 'unsafe-eval') refuses.
 */
export async function pageWait(page: Page, expression: string, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The text elements of the plain page whose contrast the tests check. */
export const PAGE_TEXT: readonly string[] = [
  '.badge.s-healthy',
  '.badge.s-degraded',
  '.badge.s-unhealthy',
  '.badge.s-stale',
  '.badge.s-unknown',
  'td.name',
  'td.message',
  'td.when',
  'th',
  '#refresh-all',
  'button.ghost',
  '.overall',
  '.counts li',
  '.conn',
  'footer',
];

/**
 * Page-side script: the WCAG contrast ratio of the first element matching
 * each selector against the first opaque background behind it (selectors
 * matching nothing are left out of the answer).
 */
export function contrastProbe(selectors: readonly string[]): string {
  return `(() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let n = el; n; n = n.parentElement) { const c = parse(getComputedStyle(n).backgroundColor); if (c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
  const out = [];
  for (const selector of ${JSON.stringify(selectors)}) {
    const el = document.querySelector(selector);
    if (!el) continue;
    const fg = lum(parse(getComputedStyle(el).color));
    const bg = lum(background(el));
    out.push({ selector, ratio: Math.round(((Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)) * 100) / 100 });
  }
  return out;
})()`;
}
