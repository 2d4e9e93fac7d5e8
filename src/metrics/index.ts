export type { HealthMetrics } from './health-metrics.js';
export { createMetrics, MetricsUnavailableError, type PrometheusMetrics } from './metrics.js';
export type { MetricsOptions } from './metrics-options.js';
export type { AlertMetricsSource } from './info-alert-metrics.js';
export { prometheusLabels, sanitiseLabelName } from './label-names.js';
