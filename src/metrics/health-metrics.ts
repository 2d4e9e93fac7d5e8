import type { Disposable } from '../disposable.js';

/**
 * Metrics the HTTP handler can serve at `/metrics`: what `createMetrics`
 * returns, or anything else that renders the Prometheus text format.
 * Declared apart from prom-client's types, so code that never uses metrics
 * compiles without that optional dependency.
 */
export interface HealthMetrics extends Disposable {
  /** The `Content-Type` of {@link HealthMetrics.render}'s text. */
  readonly contentType: string;
  /** The metrics in the Prometheus text exposition format. */
  render(): Promise<string>;
}
