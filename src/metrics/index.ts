export type { HealthMetrics } from './health-metrics.js';
export {
  createMetrics,
  MetricsUnavailableError,
  type MetricsOptions,
  type PrometheusMetrics,
} from './metrics.js';
