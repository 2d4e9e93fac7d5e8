import type { Gauge, Registry } from 'prom-client';
import type { HealthView } from '../health-view.js';
import type { HealthState } from '../status.js';

type PromClient = typeof import('prom-client');

const STATES: readonly HealthState[] = ['healthy', 'degraded', 'unhealthy', 'stale', 'unknown'];
const WINDOWS = ['24h', '7d', '30d'] as const;

/**
 * The per-provider gauges (`up`, `state`, `last_check_timestamp_seconds`,
 * `consecutive_failures`, `uptime_ratio`) and `providers`, each read from the
 * view when scraped. Their names go to `names` (removed on dispose). Over 60
 * lines: six declarative gauge definitions, each a few lines, read best together.
 * @internal
 */
export function registerStatusGauges(
  prom: PromClient,
  view: HealthView,
  p: string,
  registers: Registry[],
  names: string[],
): void {
  const perProvider = (
    name: string,
    help: string,
    value: (providerName: string) => number | undefined,
  ): Gauge<'provider'> => {
    names.push(p + name);
    return new prom.Gauge({
      name: p + name,
      help,
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const provider of view.registry.names()) {
          const v = value(provider);
          if (v !== undefined) this.set({ provider }, v);
        }
      },
    });
  };

  perProvider('up', 'Whether the provider is healthy or degraded (1) or not (0); 0 until checked.', (name) =>
    view.get(name)?.healthy === true ? 1 : 0,
  );
  names.push(`${p}state`);
  new prom.Gauge({
    name: `${p}state`,
    help: 'The provider state: 1 for the current one (healthy, degraded, unhealthy, stale, unknown), 0 for the others.',
    labelNames: ['provider', 'state'],
    registers,
    collect() {
      this.reset();
      for (const provider of view.registry.names()) {
        const current = view.get(provider)?.state ?? 'unknown';
        for (const state of STATES) this.set({ provider, state }, state === current ? 1 : 0);
      }
    },
  });
  perProvider(
    'last_check_timestamp_seconds',
    'When the provider was last checked, in seconds since the Unix epoch.',
    (name) => {
      const status = view.get(name);
      return status === undefined ? undefined : status.checkedAt.getTime() / 1000;
    },
  );
  perProvider(
    'consecutive_failures',
    'Failed checks of the provider in a row.',
    (name) => view.get(name)?.consecutiveFailures,
  );
  registerUptimeRatio(prom, view, p, registers, names);
  names.push(`${p}providers`);
  new prom.Gauge({
    name: `${p}providers`,
    help: 'Registered providers.',
    registers,
    collect() {
      this.set(view.registry.size);
    },
  });
}

/**
 * `uptime_ratio{provider}` over the recent history (as before, no `window`
 * label) and, when the view keeps windows, `uptime_ratio{provider,window}`
 * for `24h`, `7d` and `30d` (series only once the provider has results).
 */
function registerUptimeRatio(
  prom: PromClient,
  view: HealthView,
  p: string,
  registers: Registry[],
  names: string[],
): void {
  names.push(`${p}uptime_ratio`);
  new prom.Gauge({
    name: `${p}uptime_ratio`,
    help: 'Share of the checks of the provider that were healthy or degraded: the recent history without a window label, else the last 24h, 7d or 30d.',
    labelNames: ['provider', 'window'],
    registers,
    collect() {
      this.reset();
      for (const provider of view.registry.names()) {
        const status = view.get(provider);
        if (status !== undefined) this.set({ provider }, status.history.uptime);
        const windows = view.windows?.(provider);
        if (windows === undefined) continue;
        for (const window of WINDOWS)
          if (windows[window].samples > 0) this.set({ provider, window }, windows[window].uptime);
      }
    },
  });
}

/** `abandoned_checks`, `abandoned_checks_total` and, when given, `event_streams`. @internal */
export function registerServiceGauges(
  prom: PromClient,
  view: HealthView,
  p: string,
  registers: Registry[],
  names: string[],
  eventStreams: (() => number) | undefined,
): void {
  names.push(`${p}abandoned_checks`);
  new prom.Gauge({
    name: `${p}abandoned_checks`,
    help: 'Checks that timed out and have not settled yet (hung checkers).',
    registers,
    collect() {
      this.set(view.abandonedChecks);
    },
  });
  names.push(`${p}abandoned_checks_total`);
  let abandonedSeen = 0;
  new prom.Counter({
    name: `${p}abandoned_checks_total`,
    help: 'Checks given up on at their timeout.',
    registers,
    collect() {
      const total = view.abandonedChecksTotal;
      if (total > abandonedSeen) this.inc(total - abandonedSeen);
      abandonedSeen = total;
    },
  });
  if (eventStreams) {
    names.push(`${p}event_streams`);
    new prom.Gauge({
      name: `${p}event_streams`,
      help: 'Open server-sent event streams of the HTTP handler.',
      registers,
      collect() {
        this.set(eventStreams());
      },
    });
  }
}

/**
 * The `details` keys the bundled TLS-speaking checkers put each credential's
 * expiry in (ISO 8601), by the `certificate` label they get. The same names
 * as the checkers' `EXPIRY_DETAIL_KEYS`; spelled here so metrics need no checker module.
 */
const CERTIFICATE_DETAILS = {
  server: 'serverCertificateNotAfter',
  client: 'clientCertificateNotAfter',
  token: 'tokenNotAfter',
} as const;

/** Seconds since the epoch of an ISO 8601 date in `details`; `undefined` when absent or not a date. */
function expirySeconds(
  details: Readonly<Record<string, unknown>> | undefined,
  key: string,
): number | undefined {
  const value = details?.[key];
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * `certificate_expiry_timestamp_seconds{provider,certificate}`: when the
 * server certificate, the client certificate or the bearer token of the
 * provider's last check stops being valid, from its `details`. Read from the
 * view at each scrape, so a key the last check did not report, or a removed
 * provider, has no series. @internal
 */
export function registerCertificateGauge(
  prom: PromClient,
  view: HealthView,
  p: string,
  registers: Registry[],
  names: string[],
): void {
  names.push(`${p}certificate_expiry_timestamp_seconds`);
  new prom.Gauge({
    name: `${p}certificate_expiry_timestamp_seconds`,
    help: 'When the certificate (server or client) or token the provider was last checked with expires, in seconds since the Unix epoch.',
    labelNames: ['provider', 'certificate'],
    registers,
    collect() {
      this.reset();
      for (const provider of view.registry.names()) {
        const details = view.get(provider)?.details;
        if (details === undefined) continue;
        for (const [certificate, key] of Object.entries(CERTIFICATE_DETAILS)) {
          const seconds = expirySeconds(details, key);
          if (seconds !== undefined) this.set({ provider, certificate }, seconds);
        }
      }
    },
  });
}
