import type { Clock } from '../clock.js';
import type { HealthChecker, HealthReport } from '../provider.js';

/** Options every checker takes. */
export interface CheckerOptions {
  /** A success slower than this many ms is reported `degraded`. Default: none. */
  slowThreshold?: number | undefined;
  /** Source of time for the latency; default the system clock (tests inject `ManualClock`). */
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
