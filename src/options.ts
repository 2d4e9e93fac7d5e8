import { systemClock, type Clock } from './clock.js';

/** Options of a {@link HealthCache}. Every duration is in milliseconds; `undefined` means the default. */
export interface HealthCacheOptions {
  /** Time from the end of one sweep to the start of the next. Default 30,000. */
  pollInterval?: number | undefined;
  /** Hard limit on one check; must be below `pollInterval`. Default 5,000. */
  checkTimeout?: number | undefined;
  /**
   * Spreads sweeps of many replicas apart: each wait is shortened by a random
   * share of up to `jitter` x `pollInterval`, so it never exceeds the interval.
   * From 0 to 1. Default 0.
   */
  jitter?: number | undefined;
  /** How many checks run at once within a sweep; an integer >= 1 or `Infinity`. Default 16. */
  concurrency?: number | undefined;
  /** A status older than this is `stale` (no longer healthy); at least `pollInterval`. Default 3 x `pollInterval`. */
  staleAfter?: number | undefined;
  /** Consecutive failures before a healthy provider turns unhealthy; integer >= 1. Default 1. */
  failureThreshold?: number | undefined;
  /** Consecutive successes before an unhealthy provider recovers; integer >= 1. Default 1. */
  successThreshold?: number | undefined;
  /** Results kept per provider for uptime, percentiles and sparklines; integer >= 0. Default 60. */
  historySize?: number | undefined;
  /** Longer messages are cut to this many characters; integer >= 16. Default 1,024. */
  maxMessageLength?: number | undefined;
  /** Source of time and timers. Default {@link systemClock}. */
  clock?: Clock | undefined;
  /** Source of randomness for `jitter`, returning [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
}

/** {@link HealthCacheOptions} with every default applied. */
export interface ResolvedHealthCacheOptions {
  readonly pollInterval: number;
  readonly checkTimeout: number;
  readonly jitter: number;
  readonly concurrency: number;
  readonly staleAfter: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly historySize: number;
  readonly maxMessageLength: number;
  readonly clock: Clock;
  readonly random: () => number;
}

/** The Go original's defaults: poll every 30 s, give each check 5 s. */
export interface Config {
  readonly pollInterval: number;
  readonly checkTimeout: number;
}

/** Returns the defaults (`{ pollInterval: 30_000, checkTimeout: 5_000 }`), like Go's `DefaultConfig()`. */
export function defaultConfig(): Config {
  return { pollInterval: 30_000, checkTimeout: 5_000 };
}

const DEFAULTS = {
  jitter: 0,
  concurrency: 16,
  failureThreshold: 1,
  successThreshold: 1,
  historySize: 60,
  maxMessageLength: 1024,
} as const;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return typeof value;
}

function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  rule: { min: number; exclusiveMin?: boolean; max?: number; integer?: boolean; infinity?: boolean },
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be a number, got ${describe(value)} (${typeof value})`);
  }
  if (Number.isNaN(value)) throw new RangeError(`Expected \`${name}\` to be a number, got NaN`);
  if (value === Infinity && rule.infinity) return value;
  if (!Number.isFinite(value)) throw new RangeError(`Expected \`${name}\` to be finite, got ${value}`);
  if (rule.integer && !Number.isInteger(value)) {
    throw new RangeError(`Expected \`${name}\` to be an integer, got ${value}`);
  }
  if (rule.exclusiveMin ? value <= rule.min : value < rule.min) {
    const bound = rule.exclusiveMin ? `greater than ${rule.min}` : `at least ${rule.min}`;
    throw new RangeError(`Expected \`${name}\` to be ${bound}, got ${value}`);
  }
  if (rule.max !== undefined && value > rule.max) {
    throw new RangeError(`Expected \`${name}\` to be at most ${rule.max}, got ${value}`);
  }
  return value;
}

/**
 * Applies defaults and validates. Unlike the Go original, which silently
 * replaced bad values, a bad option throws a `TypeError` or `RangeError` that
 * names the option and the value.
 */
export function resolveOptions(options: HealthCacheOptions = {}): ResolvedHealthCacheOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  }
  const defaults = defaultConfig();
  const pollInterval = numberOption('pollInterval', options.pollInterval, defaults.pollInterval, {
    min: 0,
    exclusiveMin: true,
  });
  const checkTimeout = numberOption(
    'checkTimeout',
    options.checkTimeout,
    Math.min(defaults.checkTimeout, pollInterval / 2),
    { min: 0, exclusiveMin: true },
  );
  if (checkTimeout >= pollInterval) {
    throw new RangeError(
      `Expected \`checkTimeout\` (${checkTimeout}) to be below \`pollInterval\` (${pollInterval}), so a hung provider cannot stall the schedule`,
    );
  }
  const staleAfter = numberOption('staleAfter', options.staleAfter, 3 * pollInterval, { min: pollInterval });
  const clock = options.clock ?? systemClock;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    const member: unknown = (clock as unknown as Partial<Record<string, unknown>>)[method];
    if (typeof member !== 'function') {
      throw new TypeError(`Expected \`clock.${method}\` to be a function, got ${describe(member)}`);
    }
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') {
    throw new TypeError(`Expected \`random\` to be a function, got ${describe(random)}`);
  }
  return Object.freeze({
    pollInterval,
    checkTimeout,
    jitter: numberOption('jitter', options.jitter, DEFAULTS.jitter, { min: 0, max: 1 }),
    concurrency: numberOption('concurrency', options.concurrency, DEFAULTS.concurrency, {
      min: 1,
      integer: true,
      infinity: true,
    }),
    staleAfter,
    failureThreshold: numberOption('failureThreshold', options.failureThreshold, DEFAULTS.failureThreshold, {
      min: 1,
      integer: true,
    }),
    successThreshold: numberOption('successThreshold', options.successThreshold, DEFAULTS.successThreshold, {
      min: 1,
      integer: true,
    }),
    historySize: numberOption('historySize', options.historySize, DEFAULTS.historySize, {
      min: 0,
      integer: true,
    }),
    maxMessageLength: numberOption('maxMessageLength', options.maxMessageLength, DEFAULTS.maxMessageLength, {
      min: 16,
      integer: true,
    }),
    clock,
    random,
  });
}
