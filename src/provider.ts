/**
 * What a checker reports. Resolving `healthCheck` with nothing means healthy;
 * rejecting means unhealthy with the error's message.
 */
export interface HealthReport {
  /** Whether the provider works. */
  healthy: boolean;
  /** Healthy but impaired (slow, or one of several roles failing). Ignored when `healthy` is false. */
  degraded?: boolean;
  /** A short sentence a person understands. */
  message?: string;
  /** The checker's own latency measurement in ms; otherwise the cache measures it. */
  latency?: number;
  /** When the checker observed this; otherwise the time the call completed. */
  checkedAt?: Date;
  /** Extra facts worth showing (a version, the daemon kind). Kept on the status as `details`. */
  details?: Readonly<Record<string, unknown>>;
}

/** A provider that can check its own health. */
export interface HealthChecker {
  /**
   * Checks health once. Must stop its work when `signal` aborts (the cache
   * stops waiting at that moment anyway and will not call again until this
   * call settles). Checks started in the same millisecond share the signal,
   * so it may abort after this call returned: ignore it from then on.
   */
  healthCheck(signal: AbortSignal): Promise<HealthReport | void> | HealthReport | void;
}

/**
 * Anything registered with the registry. An object without `healthCheck` is
 * reported healthy with the message `provider does not implement HealthChecker`,
 * as in the Go original.
 */
export type Provider = object;

/** Whether `provider` has a callable `healthCheck`. */
export function isHealthChecker(provider: Provider): provider is HealthChecker {
  return typeof (provider as Partial<HealthChecker>).healthCheck === 'function';
}
