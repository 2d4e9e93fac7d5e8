import type { Clock } from '../clock.js';
import type { HealthMetrics } from '../metrics/health-metrics.js';

/** Options of {@link createHealthHandler}. Durations are milliseconds; `undefined` means the default. */
export interface HealthHandlerOptions {
  /**
   * Secret that `POST` refresh requests must send as `Authorization: Bearer <token>`
   * (compared in constant time). Without it, only loopback clients (127.0.0.0/8,
   * ::1) may refresh. Default: none.
   */
  token?: string | undefined;
  /** At most one forced sweep (and one forced check per provider) per this interval; beyond it 429. Default 5,000. */
  minRefreshInterval?: number | undefined;
  /** How long a refresh request waits for its sweep before answering 202 with the statuses so far. Default 10,000. */
  refreshTimeout?: number | undefined;
  /** Interval of `: ping` comments on `/api/events`, which also let the cache notice stale statuses. Default 15,000. */
  heartbeatInterval?: number | undefined;
  /** The path the handler is mounted under, such as `/health`; `""` for the root. Default `""`. */
  basePath?: string | undefined;
  /** Time source for the refresh limiter and heartbeats. Default: the view's clock. */
  clock?: Clock | undefined;
  /** Heading and `<title>` of the status page. Default `"Provider health"`. */
  title?: string | undefined;
  /** Serve the status page at the base path. Default `true`. */
  page?: boolean | undefined;
  /**
   * `GET /metrics`: `true` builds Prometheus metrics with `createMetrics` (needs
   * the optional `prom-client`; without it the endpoint answers 501), `false`
   * turns the endpoint off (404), or pass metrics you made. Default `true`.
   */
  metrics?: boolean | HealthMetrics | undefined;
  /** Longer request targets get 414. Default 4,096. */
  maxUrlLength?: number | undefined;
  /** Larger request bodies get 413 (no endpoint takes a body). Default 1,024 bytes. */
  maxBodySize?: number | undefined;
  /** Concurrent `/api/events` streams; beyond it 503. Default 1,000. */
  maxEventStreams?: number | undefined;
}

/** {@link HealthHandlerOptions} with defaults applied. @internal */
export interface ResolvedHandlerOptions {
  readonly token: string | undefined;
  readonly minRefreshInterval: number;
  readonly refreshTimeout: number;
  readonly heartbeatInterval: number;
  readonly basePath: string;
  readonly clock: Clock;
  readonly title: string;
  readonly page: boolean;
  readonly metrics: boolean | HealthMetrics;
  readonly maxUrlLength: number;
  readonly maxBodySize: number;
  readonly maxEventStreams: number;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

function numberOption(name: string, value: unknown, fallback: number, min: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected \`${name}\` to be a number, got ${describe(value)}`);
  }
  if (!Number.isFinite(value)) throw new RangeError(`Expected \`${name}\` to be finite, got ${value}`);
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`Expected \`${name}\` to be an integer, got ${value}`);
  }
  if (value < min) throw new RangeError(`Expected \`${name}\` to be at least ${min}, got ${value}`);
  return value;
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new TypeError(`Expected \`${name}\` to be a boolean, got ${describe(value)}`);
  return value;
}

function basePathOption(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string')
    throw new TypeError(`Expected \`basePath\` to be a string, got ${describe(value)}`);
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed !== '' && !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(trimmed)) {
    throw new RangeError(
      `Expected \`basePath\` to be a path such as "/health" (starting with "/", no "?", "#" or empty segments), got ${describe(value)}`,
    );
  }
  return trimmed;
}

/** Applies defaults and validates; errors name the option and the value. @internal */
export function resolveHandlerOptions(
  options: HealthHandlerOptions,
  viewClock: Clock,
): ResolvedHandlerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected handler options to be an object, got ${describe(options)}`);
  }
  const { token, title, clock = viewClock, metrics = true } = options;
  if (token !== undefined) {
    // The value itself is never echoed: it is a secret.
    if (typeof token !== 'string')
      throw new TypeError(`Expected \`token\` to be a string, got ${typeof token}`);
    if (token.length === 0 || /\s/.test(token)) {
      throw new RangeError('Expected `token` to be a non-empty string without whitespace');
    }
  }
  if (title !== undefined && (typeof title !== 'string' || title.length === 0 || title.length > 200)) {
    throw new TypeError(`Expected \`title\` to be a string of 1 to 200 characters, got ${describe(title)}`);
  }
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof (clock as unknown as Record<string, unknown>)[method] !== 'function') {
      throw new TypeError(`Expected \`clock.${method}\` to be a function`);
    }
  }
  if (
    typeof metrics !== 'boolean' &&
    (typeof metrics !== 'object' || metrics === null || typeof metrics.render !== 'function')
  ) {
    throw new TypeError(
      `Expected \`metrics\` to be a boolean or the result of createMetrics(), got ${describe(metrics)}`,
    );
  }
  return Object.freeze({
    token,
    minRefreshInterval: numberOption('minRefreshInterval', options.minRefreshInterval, 5_000, 0),
    refreshTimeout: numberOption('refreshTimeout', options.refreshTimeout, 10_000, 1),
    heartbeatInterval: numberOption('heartbeatInterval', options.heartbeatInterval, 15_000, 10),
    basePath: basePathOption(options.basePath),
    clock,
    title: title ?? 'Provider health',
    page: booleanOption('page', options.page, true),
    metrics,
    maxUrlLength: numberOption('maxUrlLength', options.maxUrlLength, 4_096, 64, true),
    maxBodySize: numberOption('maxBodySize', options.maxBodySize, 1_024, 0, true),
    maxEventStreams: numberOption('maxEventStreams', options.maxEventStreams, 1_000, 1, true),
  });
}
