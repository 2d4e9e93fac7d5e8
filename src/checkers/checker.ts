import type { Clock } from '../clock.js';
import type { HealthChecker, HealthReport } from '../provider.js';

/** Options every checker takes. */
export interface CheckerOptions {
  /** A success slower than this many ms is reported `degraded`. Default: none. */
  slowThreshold?: number | undefined;
  /**
   * Source of time for the latency and certificate expiry; default the system
   * clock. A whole `Clock` (such as `ManualClock`) also runs the checker's own
   * timers (the Kubernetes follow-up budget).
   */
  clock?: Pick<Clock, 'now'> | undefined;
}

/** Options of checkers that read their defaults from environment variables. */
export interface EnvironmentOptions {
  /** Environment variables to read instead of `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** What every checker factory returns: a health checker that says what it asks. */
export interface Checker extends HealthChecker {
  /** What it asks, for people, without credentials (`unix:///var/run/docker.sock`, `https://10.0.0.1:6443`). */
  readonly target: string;
  /** Checks once; without a signal the check runs until the endpoint answers or fails. */
  healthCheck(signal?: AbortSignal): Promise<HealthReport>;
}

/** Options of the checkers that speak TLS (HTTP, Docker over TLS, Kubernetes, Nomad, gRPC). */
export interface CertExpiryOptions {
  /**
   * A successful check is `degraded` when the server certificate, the client
   * certificate or a JWT bearer token expires within this many ms (the dates
   * are in `details.serverCertificateNotAfter`, `details.clientCertificateNotAfter`
   * and `details.tokenNotAfter`). `0` turns the warning off (the dates are
   * still reported). Default 14 days; at most 366 days.
   */
  certExpiryWarning?: number | undefined;
}
