import type { Counter, Histogram, Registry } from 'prom-client';
import type { Disposable } from '../disposable.js';
import type { CheckResult } from '../health-cache.js';
import type { HealthView } from '../health-view.js';
import type { HealthMetrics } from './health-metrics.js';
import { registerCertificateGauge, registerServiceGauges, registerStatusGauges } from './gauges.js';
import { registerAlertMetrics, registerProviderInfo } from './info-alert-metrics.js';
import {
  resolveMetricsOptions,
  type MetricsOptions,
  type ResolvedMetricsOptions,
} from './metrics-options.js';

type PromClient = typeof import('prom-client');

/** Prometheus metrics of a {@link HealthView} in a prom-client registry. Disposing unsubscribes and removes them from the registry. */
export interface PrometheusMetrics extends HealthMetrics {
  /** The registry holding the metrics (yours when given as an option). */
  readonly registry: Registry;
}

/** Thrown by {@link createMetrics} when the optional peer dependency `prom-client` is not installed. */
export class MetricsUnavailableError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      'Prometheus metrics need the optional peer dependency prom-client (npm install prom-client)',
      options,
    );
    this.name = 'MetricsUnavailableError';
  }
}

const RESULTS = ['healthy', 'degraded', 'unhealthy', 'stale'] as const;
/** Results that finish while prom-client loads are replayed; more than this are dropped. */
const MAX_EARLY_RESULTS = 10_000;

/**
 * Builds Prometheus metrics for `view`, loading `prom-client` on first use:
 *
 * - `<prefix>up{provider}`: 1 when healthy or degraded, else 0
 * - `<prefix>state{provider,state}`: 1 for the current state, 0 for the others
 * - `<prefix>check_duration_seconds{provider}`: histogram of check latency
 * - `<prefix>checks_total{provider,result}`: check results by state
 * - `<prefix>last_check_timestamp_seconds{provider}`, `<prefix>consecutive_failures{provider}`,
 *   `<prefix>uptime_ratio{provider}`, `<prefix>providers`
 * - `<prefix>abandoned_checks` and `<prefix>abandoned_checks_total`: hung checks
 * - `<prefix>certificate_expiry_timestamp_seconds{provider,certificate}`: when the
 *   `server` or `client` certificate or the `token` of the last check expires
 *   (from `details.serverCertificateNotAfter`, `clientCertificateNotAfter`, `tokenNotAfter`)
 * - `<prefix>provider_info{provider, <labels>}`: 1 per provider, its labels sanitised
 *   to Prometheus label names (see `label-names.ts`)
 * - with `alerts`: `<prefix>notifications_total{notifier,result}`, `<prefix>alerts_firing{rule}`
 *
 * @throws MetricsUnavailableError when `prom-client` is not installed;
 * TypeError/RangeError naming a bad option.
 */
export async function createMetrics(
  view: HealthView,
  options: MetricsOptions = {},
): Promise<PrometheusMetrics> {
  const resolved = resolveMetricsOptions(options);
  // Listen before the import settles so results of a sweep running meanwhile are counted.
  const early: CheckResult[] = [];
  const earlySubscription = view.onResult((result) => {
    if (early.length < MAX_EARLY_RESULTS) early.push(result);
  });
  let prom: PromClient;
  try {
    prom = await loadPromClient();
  } finally {
    earlySubscription.dispose();
  }
  const metrics = new PrometheusHealthMetrics(view, prom, resolved);
  for (const result of early) metrics.observe(result);
  return metrics;
}

/** Loads prom-client, turning "not installed" into a {@link MetricsUnavailableError}. @internal */
export async function loadPromClient(): Promise<PromClient> {
  try {
    return await import('prom-client');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MetricsUnavailableError({ cause: error });
    }
    throw error;
  }
}

/** The prom-client implementation of {@link HealthMetrics}. */
class PrometheusHealthMetrics implements PrometheusMetrics {
  readonly registry: Registry;
  readonly #view: HealthView;
  readonly #names: string[] = [];
  readonly #duration: Histogram<'provider'>;
  readonly #checks: Counter<'provider' | 'result'>;
  readonly #subscriptions: Disposable[];
  #disposed = false;

  constructor(view: HealthView, prom: PromClient, options: ResolvedMetricsOptions) {
    this.#view = view;
    this.registry = options.registry ?? new prom.Registry();
    const registers = [this.registry];
    const p = options.prefix;
    const names = this.#names;
    registerStatusGauges(prom, view, p, registers, names);

    names.push(`${p}check_duration_seconds`);
    this.#duration = new prom.Histogram({
      name: `${p}check_duration_seconds`,
      help: 'How long checks of the provider took.',
      labelNames: ['provider'],
      buckets: options.buckets,
      registers,
    });
    names.push(`${p}checks_total`);
    this.#checks = new prom.Counter({
      name: `${p}checks_total`,
      help: 'Check results of the provider, by resulting state.',
      labelNames: ['provider', 'result'],
      registers,
    });

    registerServiceGauges(prom, view, p, registers, names, options.eventStreams);
    registerCertificateGauge(prom, view, p, registers, names);
    registerProviderInfo(view, p, this.registry, names);
    if (options.alerts) registerAlertMetrics(options.alerts, p, this.registry, names);

    this.#subscriptions = [
      view.onResult((result) => this.observe(result)),
      view.onRemove(({ name }) => {
        this.#duration.remove({ provider: name });
        for (const result of RESULTS) this.#checks.remove({ provider: name, result });
      }),
    ];
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Records one check result. @internal */
  observe({ name, status }: CheckResult): void {
    // A result for a provider removed meanwhile would resurrect its series.
    if (!this.#view.registry.has(name)) return;
    this.#duration.observe({ provider: name }, status.latency / 1000);
    this.#checks.inc({ provider: name, result: status.state });
  }

  render(): Promise<string> {
    if (this.#disposed) return Promise.reject(new Error('HealthMetrics.render() called after dispose()'));
    return this.registry.metrics();
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const subscription of this.#subscriptions) subscription.dispose();
    for (const name of this.#names) this.registry.removeSingleMetric(name);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
