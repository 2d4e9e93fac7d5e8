import type { Clock } from '../clock.js';
import type { HealthMetrics } from '../metrics/health-metrics.js';
import type { SilenceControl } from '../quiet/silence-control.js';
import type { AlertsSource } from './alerts-route.js';
import {
  booleanOption,
  clockOption,
  durationOption,
  numberOption,
  optionRangeError,
  optionsObject,
  optionTypeError,
  stringOption,
} from '../validate.js';
import { hostsOption, type HostPattern } from './host-patterns.js';
import { reloadOption, type Reload } from './reload-route.js';

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
  /** Interval of `: ping` comments on `/api/events`, which keep proxies from closing idle streams. Default 15,000. */
  heartbeatInterval?: number | undefined;
  /** The path the handler is mounted under, such as `/health`; `""` for the root. Default `""`. */
  basePath?: string | undefined;
  /** Time source for the refresh limiter, refresh timeouts and heartbeats. Default: the view's clock. */
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
  /** Longer request targets get 414. Default 4,096 (64 to 65,536). */
  maxUrlLength?: number | undefined;
  /**
   * Larger request bodies get 413, except on `POST /api/silences`, whose
   * JSON body may be up to 16 KiB. Default 1,024 bytes (0 to 1 MiB).
   */
  maxBodySize?: number | undefined;
  /** Concurrent `/api/events` streams; beyond it 503. Default 1,000 (1 to 100,000). */
  maxEventStreams?: number | undefined;
  /**
   * While statuses keep changing (a sweep), JSON bodies are serialised (and
   * compressed) at most once per this interval, so they trail the newest
   * results by at most this long; the first change after a quiet interval,
   * registrations, removals and event streams are never delayed. `0`
   * re-serialises after every change. Default 250 (0 to 60,000).
   */
  publishInterval?: number | undefined;
  /**
   * Host names (the `Host` header, port ignored) the handler answers besides
   * the ones always allowed: `localhost`, `*.localhost` and IP literals.
   * Other hosts get 403, so a DNS-rebinding page cannot read the API.
   * Entries are names (`health.example.com`), `*.example.com` for every
   * subdomain, or `*` for any host (when a proxy in front checks it).
   * Default `[]` (at most 1,000 entries).
   */
  allowedHosts?: readonly string[] | undefined;
  /** Serve `GET /livez` and `GET /readyz` for orchestrator probes (see the README). Default `false`. */
  probes?: boolean | undefined;
  /** Serve `GET /api/status`: version, uptime, mode and, in shared mode, the replica. Default `false`. */
  status?: boolean | undefined;
  /** Serve `POST /api/reload` (authorised like refresh): calls this and answers what changed. Default: none. */
  reload?: Reload | undefined;
  /**
   * Serves `/api/silences` (list, create, expire) over this control: a
   * `SilenceSet` in this process (`localSilenceControl` of
   * `provider-health/quiet`) or the Redis-shared one. Writes need the
   * refresh authorisation (`token`, else loopback only). Default: none
   * (the paths are unknown: 404).
   */
  silences?: SilenceControl | undefined;
  /**
   * Serves `/api/alerts` (firing incidents, recent deliveries) from this
   * source; an `Alerting` of `provider-health/alerts` is one. Default: none (404).
   */
  alerts?: AlertsSource | undefined;
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
  readonly allowedHosts: readonly HostPattern[];
  readonly publishInterval: number;
  readonly probes: boolean;
  readonly status: boolean;
  readonly reload: Reload | undefined;
  readonly silences: SilenceControl | undefined;
  readonly alerts: AlertsSource | undefined;
}

const BASE_PATH = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;

function basePathOption(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw optionTypeError('basePath', 'a string', value);
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed !== '' && (trimmed.length > 1_000 || !BASE_PATH.test(trimmed))) {
    throw optionRangeError(
      'basePath',
      'a path such as "/health" (starting with "/", no "?", "#" or empty segments)',
      value,
    );
  }
  return trimmed;
}

function tokenOption(value: unknown): string | undefined {
  // The value itself is never echoed: it is a secret.
  const token = stringOption('token', value, undefined, { secret: true });
  if (token !== undefined && /\s/.test(token)) {
    throw optionRangeError('token', 'a non-empty string without whitespace', token, { secret: true });
  }
  return token;
}

function titleOption(value: unknown): string {
  const title = stringOption('title', value, 'Provider health');
  if (title.length > 200) throw optionRangeError('title', 'a string of 1 to 200 characters', title);
  return title;
}

function metricsOption(value: unknown): boolean | HealthMetrics {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'object' && value !== null && typeof Reflect.get(value, 'render') === 'function') {
    return value as HealthMetrics;
  }
  throw optionTypeError('metrics', 'a boolean or the result of createMetrics()', value);
}

/** An object with the methods `methods`, or `undefined`; otherwise a TypeError naming the option. */
function objectWith<T>(
  option: string,
  value: unknown,
  methods: readonly string[],
  expected: string,
): T | undefined {
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    methods.every((method) => typeof Reflect.get(value, method) === 'function');
  if (!ok) throw optionTypeError(option, expected, value);
  return value as T;
}

/** Applies defaults and validates; errors name the option and the value. @internal */
export function resolveHandlerOptions(
  options: HealthHandlerOptions | undefined,
  viewClock: Clock,
): ResolvedHandlerOptions {
  const o = optionsObject(options);
  return Object.freeze({
    token: tokenOption(o.token),
    minRefreshInterval: durationOption('minRefreshInterval', o.minRefreshInterval, 5_000, { min: 0 }),
    refreshTimeout: durationOption('refreshTimeout', o.refreshTimeout, 10_000, { min: 1 }),
    heartbeatInterval: durationOption('heartbeatInterval', o.heartbeatInterval, 15_000, { min: 10 }),
    basePath: basePathOption(o.basePath),
    clock: o.clock === undefined ? viewClock : clockOption(o.clock),
    title: titleOption(o.title),
    page: booleanOption('page', o.page, true),
    metrics: metricsOption(o.metrics),
    maxUrlLength: numberOption('maxUrlLength', o.maxUrlLength, 4_096, {
      min: 64,
      max: 65_536,
      integer: true,
    }),
    maxBodySize: numberOption('maxBodySize', o.maxBodySize, 1_024, { min: 0, max: 1 << 20, integer: true }),
    maxEventStreams: numberOption('maxEventStreams', o.maxEventStreams, 1_000, {
      min: 1,
      max: 100_000,
      integer: true,
    }),
    allowedHosts: hostsOption(o.allowedHosts),
    publishInterval: durationOption('publishInterval', o.publishInterval, 250, { min: 0, max: 60_000 }),
    probes: booleanOption('probes', o.probes, false),
    status: booleanOption('status', o.status, false),
    reload: reloadOption(o.reload),
    silences: objectWith<SilenceControl>(
      'silences',
      o.silences,
      ['list', 'openWindows', 'add', 'expire'],
      'a SilenceControl (list, openWindows, add, expire)',
    ),
    alerts: objectWith<AlertsSource>(
      'alerts',
      o.alerts,
      ['firing', 'recentDeliveries'],
      'an alerts source such as Alerting (firing, recentDeliveries)',
    ),
  });
}
