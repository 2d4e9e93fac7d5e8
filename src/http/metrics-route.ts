import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { HealthMetrics } from '../metrics/health-metrics.js';
import type { AlertMetricsSource } from '../metrics/info-alert-metrics.js';
import type { AlertsSource } from './alerts-route.js';
import { createMetrics, MetricsUnavailableError } from '../metrics/metrics.js';
import { BASE_HEADERS, sendError, sendFailure } from './responses.js';
import { READ, type Route } from './route-table.js';

/**
 * `GET /metrics`: metrics the handler builds (and disposes) or metrics it was
 * given (left to their owner). @internal
 */
export class MetricsRoute implements Disposable {
  /** Settles with the metrics or with why there are none. */
  readonly #metrics: Promise<HealthMetrics>;
  readonly #owned: boolean;

  /**
   * `metrics: true` builds them with `eventStreams` as the stream gauge (and
   * the alert metrics when `alerts` can count deliveries); otherwise serves the ones given.
   */
  constructor(
    view: HealthView,
    metrics: true | HealthMetrics,
    eventStreams: () => number,
    alerts?: AlertsSource,
  ) {
    this.#owned = metrics === true;
    const counted = alerts !== undefined && typeof Reflect.get(alerts, 'counts') === 'function';
    this.#metrics =
      metrics === true
        ? createMetrics(view, {
            eventStreams,
            alerts: counted ? (alerts as AlertsSource & AlertMetricsSource) : undefined,
          })
        : Promise.resolve(metrics);
    // Failure (prom-client missing) is reported by GET /metrics, not as an unhandled rejection.
    this.#metrics.catch(() => {});
  }

  /** The route table row. */
  get route(): Route {
    return {
      path: ['metrics'],
      methods: READ,
      serve: (req, res) => void this.#serve(req, res).catch((error: unknown) => sendFailure(req, res, error)),
    };
  }

  dispose(): void {
    if (!this.#owned) return;
    this.#metrics.then(
      (metrics) => metrics.dispose(),
      () => {},
    );
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let metrics: HealthMetrics;
    try {
      metrics = await this.#metrics;
    } catch (error) {
      const message =
        error instanceof MetricsUnavailableError ? error.message : 'Metrics could not be set up';
      return sendError(req, res, 501, message);
    }
    const body = Buffer.from(await metrics.render());
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': metrics.contentType,
      'Cache-Control': 'no-store',
      'Content-Length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
