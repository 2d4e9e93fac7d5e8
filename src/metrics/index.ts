export {
  createMetrics,
  MetricsUnavailableError,
  type HealthMetrics,
  type MetricsOptions,
} from './metrics.js';
