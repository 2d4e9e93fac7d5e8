import type {
  CheckResult,
  CheckerFault,
  HealthEvent,
  Removal,
  StatusChange,
  SweepSummary,
  Transition,
} from './events.js';
import type { HistorySample } from './history.js';
import type { ResolvedHealthCacheOptions } from './options.js';
import type { ProviderRegistry } from './registry.js';
import type { Status } from './status.js';
import type { WindowSummary, WindowUptimes } from './uptime-windows.js';

/**
 * What readers (the HTTP surface, metrics, the CLI) need of a cache. Both
 * `HealthCache` and the Redis-backed `SharedHealthCache` implement it, so every
 * reader works with either.
 */
export interface HealthView {
  /** The providers watched. */
  readonly registry: ProviderRegistry;
  /** The options in force. */
  readonly options: ResolvedHealthCacheOptions;
  /** The last status of `name`; `undefined` until checked once. O(1), no side effects. */
  get(name: string): Status | undefined;
  /** Every checked status, sorted by name; the same frozen array until something changes. No side effects. */
  snapshot(): readonly Status[];
  /** Recent results of `name`, oldest first. No side effects. */
  history(name: string): readonly HistorySample[];
  /**
   * Uptime and latency of `name` over the last 24 h, 7 d and 30 d as of now;
   * `undefined` without history. No side effects. Optional, so views written
   * before it still are views: readers show no window figures then.
   */
  windows?(name: string): WindowSummary | undefined;
  /** The uptimes of {@link windows} alone, cheaper; optional like it. No side effects. */
  uptimes?(name: string): WindowUptimes | undefined;
  /** A sweep now, coalesced with any in flight. */
  checkNow(signal?: AbortSignal): Promise<readonly Status[]>;
  /** One provider now, coalesced with any sweep in flight. */
  checkProvider(name: string, signal?: AbortSignal): Promise<Status | undefined>;
  /** Timed-out calls that have not settled yet. */
  readonly abandonedChecks: number;
  /** Every call given up on before it settled (at its timeout, or when `run` stopped). */
  readonly abandonedChecksTotal: number;
  readonly onResult: HealthEvent<CheckResult>;
  readonly onTransition: HealthEvent<Transition>;
  readonly onRemove: HealthEvent<Removal>;
  readonly onChange: HealthEvent<StatusChange>;
  readonly onSweep: HealthEvent<SweepSummary>;
}

/**
 * A {@link HealthView} that also polls: what a service (the CLI's `serve`)
 * starts, stops and listens to. `HealthCache` implements it.
 */
export interface RunnableHealthView extends HealthView {
  /** Polls until `signal` aborts; resolves once every check and timer is released. */
  run(signal?: AbortSignal): Promise<void>;
  /** Stops polling and releases listeners and timers. */
  dispose(): void | Promise<void>;
  /** Whether `run` is active. */
  readonly running: boolean;
  /** Errors thrown by listeners of the other events. */
  readonly onListenerError: HealthEvent<unknown>;
  /** Checks that failed because of this service (out of file descriptors), not the provider. */
  readonly onCheckerFault: HealthEvent<CheckerFault>;
}
