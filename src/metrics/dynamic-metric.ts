import type { Metric, Registry } from 'prom-client';

/** One sample of a {@link registerDynamicMetric} metric. @internal */
export interface DynamicSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Registers a metric whose label names vary from series to series (the
 * provider info series carries each provider's own labels), which
 * prom-client's Gauge and Counter cannot hold: they fix label names up
 * front. The registry calls `get()` at each scrape and formats (and
 * escapes) what it returns like any other metric. @internal
 */
export function registerDynamicMetric(
  registry: Registry,
  init: { name: string; help: string; type: 'gauge' | 'counter'; samples: () => readonly DynamicSample[] },
): void {
  const metric = {
    name: init.name,
    help: init.help,
    type: init.type,
    aggregator: 'sum',
    get() {
      // `this.name`: an OpenMetrics registry renames counters (drops `_total`) before formatting.
      return Promise.resolve({
        name: metric.name,
        help: init.help,
        type: init.type,
        aggregator: 'sum',
        values: init.samples().map((sample) => ({ labels: { ...sample.labels }, value: sample.value })),
      });
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Metric);
}
