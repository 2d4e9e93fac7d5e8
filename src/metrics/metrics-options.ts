import type { Registry } from 'prom-client';
import { functionOption, optionRangeError, optionsObject, optionTypeError } from '../validate.js';
import type { AlertMetricsSource } from './info-alert-metrics.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Prepended to every metric name. Default `"provider_health_"`. */
  prefix?: string | undefined;
  /** A prom-client `Registry` to add the metrics to (to merge with your own). Default: a new one. */
  registry?: Registry | undefined;
  /** Upper bounds of the check-duration histogram, in seconds. Default 0.005 … 10 (prom-client's defaults); at most 100 buckets. */
  buckets?: readonly number[] | undefined;
  /** Reports open `/api/events` streams as `<prefix>event_streams`; the HTTP handler passes its own. Default: none. */
  eventStreams?: (() => number) | undefined;
  /**
   * Adds `<prefix>notifications_total{notifier,result}` and
   * `<prefix>alerts_firing{rule}`, read from this source at each scrape (an
   * `Alerting` of `provider-health/alerts`). Default: none.
   */
  alerts?: AlertMetricsSource | undefined;
}

/** {@link MetricsOptions} with defaults applied. @internal */
export interface ResolvedMetricsOptions {
  readonly prefix: string;
  readonly registry: Registry | undefined;
  readonly buckets: number[];
  readonly eventStreams: (() => number) | undefined;
  readonly alerts: AlertMetricsSource | undefined;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MAX_BUCKETS = 100;
const PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** Validates and applies defaults; errors name the option and the value. @internal */
export function resolveMetricsOptions(options: MetricsOptions | undefined): ResolvedMetricsOptions {
  const o = optionsObject(options);
  const prefix: unknown = o.prefix ?? 'provider_health_';
  if (typeof prefix !== 'string' || prefix.length > 200 || !PREFIX.test(prefix)) {
    throw optionRangeError('prefix', 'a valid Prometheus metric name prefix', prefix);
  }
  const registry = o.registry;
  if (
    registry !== undefined &&
    (typeof registry !== 'object' || registry === null || typeof registry.metrics !== 'function')
  ) {
    throw optionTypeError('registry', 'a prom-client Registry', registry);
  }
  return {
    prefix,
    registry,
    buckets: bucketsOption(o.buckets),
    eventStreams: functionOption<() => number, undefined>('eventStreams', o.eventStreams, undefined),
    alerts: alertsOption(o.alerts),
  };
}

function alertsOption(value: unknown): AlertMetricsSource | undefined {
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'firing') === 'function' &&
    typeof Reflect.get(value, 'counts') === 'function';
  if (!ok) throw optionTypeError('alerts', 'an alerts source such as Alerting (firing, counts)', value);
  return value as AlertMetricsSource;
}

function bucketsOption(value: unknown): number[] {
  if (value === undefined) return [...DEFAULT_BUCKETS];
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.length <= MAX_BUCKETS &&
    value.every(
      (b: unknown, i) =>
        typeof b === 'number' && b > 0 && Number.isFinite(b) && (i === 0 || b > (value[i - 1] as number)),
    );
  if (!valid) {
    throw optionRangeError(
      'buckets',
      `a non-empty, strictly increasing array of at most ${MAX_BUCKETS} positive finite seconds`,
      value,
    );
  }
  return [...(value as number[])];
}
