import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Disposable } from '../disposable.js';
import type { CheckResult } from '../health-cache.js';
import type { HealthView } from '../health-view.js';
import type { HealthState } from '../status.js';
import type { HealthMetrics } from './health-metrics.js';

type PromClient = typeof import('prom-client');

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Prepended to every metric name. Default `"provider_health_"`. */
  prefix?: string | undefined;
  /** A prom-client `Registry` to add the metrics to (to merge with your own). Default: a new one. */
  registry?: Registry | undefined;
  /** Upper bounds of the check-duration histogram, in seconds. Default 0.005 … 10 (prom-client's defaults). */
  buckets?: readonly number[] | undefined;
  /** Reports open `/api/events` streams as `<prefix>event_streams`; the HTTP handler passes its own. Default: none. */
  eventStreams?: (() => number) | undefined;
}

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

const STATES: readonly HealthState[] = ['healthy', 'degraded', 'unhealthy', 'stale', 'unknown'];
const RESULTS = ['healthy', 'degraded', 'unhealthy', 'stale'] as const;
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
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

interface ResolvedMetricsOptions {
  readonly prefix: string;
  readonly registry: Registry | undefined;
  readonly buckets: number[];
  readonly eventStreams: (() => number) | undefined;
}

function resolveMetricsOptions(options: MetricsOptions): ResolvedMetricsOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `Expected metrics options to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { prefix = 'provider_health_', registry, eventStreams } = options;
  const buckets: unknown = options.buckets ?? DEFAULT_BUCKETS;
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new RangeError(
      `Expected \`prefix\` to be a valid Prometheus metric name prefix, got ${JSON.stringify(prefix)}`,
    );
  }
  if (registry !== undefined && (typeof registry !== 'object' || typeof registry?.metrics !== 'function')) {
    throw new TypeError('Expected `registry` to be a prom-client Registry');
  }
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some(
      (b, i) =>
        typeof b !== 'number' || !(b > 0) || !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] ?? 0)),
    )
  ) {
    throw new RangeError(
      'Expected `buckets` to be a non-empty, strictly increasing array of positive finite seconds',
    );
  }
  if (eventStreams !== undefined && typeof eventStreams !== 'function') {
    throw new TypeError(`Expected \`eventStreams\` to be a function, got ${typeof eventStreams}`);
  }
  return { prefix, registry, buckets: [...(buckets as number[])], eventStreams };
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
          view.snapshot();
          for (const provider of view.registry.names()) {
            const v = value(provider);
            if (v !== undefined) this.set({ provider }, v);
          }
        },
      });
    };

    perProvider(
      'up',
      'Whether the provider is healthy or degraded (1) or not (0); 0 until checked.',
      (name) => (view.get(name)?.healthy === true ? 1 : 0),
    );
    names.push(`${p}state`);
    new prom.Gauge({
      name: `${p}state`,
      help: 'The provider state: 1 for the current one (healthy, degraded, unhealthy, stale, unknown), 0 for the others.',
      labelNames: ['provider', 'state'],
      registers,
      collect() {
        this.reset();
        view.snapshot();
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
    perProvider(
      'uptime_ratio',
      'Share of the recent checks of the provider that were healthy or degraded.',
      (name) => view.get(name)?.history.uptime,
    );
    names.push(`${p}providers`);
    new prom.Gauge({
      name: `${p}providers`,
      help: 'Registered providers.',
      registers,
      collect() {
        this.set(view.registry.size);
      },
    });

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
    const eventStreams = options.eventStreams;
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
