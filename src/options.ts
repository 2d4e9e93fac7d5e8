import type { Clock } from './clock.js';
import type { SilenceSource } from './silencing.js';
import { OptionRangeError } from './errors.js';
import {
  MAX_DURATION,
  clockOption,
  durationOption,
  functionOption,
  numberOption,
  optionTypeError,
  optionsObject,
} from './validate.js';

/** Options of a {@link HealthCache}. Every duration is in milliseconds; `undefined` means the default. */
export interface HealthCacheOptions {
  /** Time from the end of one sweep to the start of the next. Default 30,000; at most 2^31 − 1 (about 24.8 days, the longest timer Node honours). */
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
  /** A status older than this is `stale` (no longer healthy); at least `pollInterval`, at most 2^31 − 1. Default 3 x `pollInterval` (capped at 2^31 − 1). */
  staleAfter?: number | undefined;
  /** Consecutive failures before a healthy provider turns unhealthy; integer >= 1. Default 1. */
  failureThreshold?: number | undefined;
  /** Consecutive successes before an unhealthy provider recovers; integer >= 1. Default 1. */
  successThreshold?: number | undefined;
  /** Results kept per provider for uptime, percentiles and sparklines; integer >= 0. Default 60. */
  historySize?: number | undefined;
  /** Longer messages are cut to this many characters; integer >= 16. Default 1,024. */
  maxMessageLength?: number | undefined;
  /**
   * While results stream in, `snapshot()` is rebuilt at most once per this
   * many ms, so readers polling it during a large sweep do not rebuild an
   * O(n) array after every result. A snapshot trails the newest results by at
   * most this (plus however late a busy event loop runs the timer), never past
   * the end of a sweep: the end of every sweep, the first change after a quiet
   * interval, removals and `forget` publish at once. `get()` is always exact.
   * 0 publishes every change at once. Default 100; from 0 to 60,000.
   */
  snapshotInterval?: number | undefined;
  /** Source of time and timers. Default `systemClock`. */
  clock?: Clock | undefined;
  /** Source of randomness for `jitter`, returning [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  /**
   * Which providers are silenced (`createSilenceSource` from `provider-health/quiet`
   * builds one from silences and maintenance windows): asked at every commit
   * and, for every provider, whenever it fires `onChange`. Default none.
   */
  silences?: SilenceSource | undefined;
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
  readonly snapshotInterval: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly silences: SilenceSource | undefined;
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

/** The default of `snapshotInterval` and its bound (ms). */
const SNAPSHOT_INTERVAL = 100;
const MAX_SNAPSHOT_INTERVAL = 60_000;

/**
 * Applies defaults and validates. Unlike the Go original, which silently
 * replaced bad values, a bad option throws an `OptionTypeError` (a `TypeError`)
 * or `OptionRangeError` (a `RangeError`) that names the option and the value.
 * Durations are bounded by 2^31 − 1 ms, the longest timer Node honours.
 */
export function resolveOptions(options: HealthCacheOptions = {}): ResolvedHealthCacheOptions {
  const given = optionsObject(options);
  const defaults = defaultConfig();
  const pollInterval = durationOption('pollInterval', given.pollInterval, defaults.pollInterval);
  const checkTimeout = durationOption(
    'checkTimeout',
    given.checkTimeout,
    Math.min(defaults.checkTimeout, pollInterval / 2),
  );
  if (checkTimeout >= pollInterval) {
    throw new OptionRangeError(
      `Expected \`checkTimeout\` (${checkTimeout}) to be below \`pollInterval\` (${pollInterval}), so a hung provider cannot stall the schedule`,
      { option: 'checkTimeout', value: checkTimeout },
    );
  }
  // A derived default is capped, not rejected: a long interval alone is valid.
  const staleAfter = durationOption(
    'staleAfter',
    given.staleAfter,
    Math.min(3 * pollInterval, MAX_DURATION),
    {
      min: pollInterval,
    },
  );
  const integer = (option: keyof typeof DEFAULTS, min: number): number =>
    numberOption(option, given[option], DEFAULTS[option], { min, integer: true });
  return Object.freeze({
    pollInterval,
    checkTimeout,
    jitter: numberOption('jitter', given.jitter, DEFAULTS.jitter, { min: 0, max: 1 }),
    concurrency: numberOption('concurrency', given.concurrency, DEFAULTS.concurrency, {
      min: 1,
      integer: true,
      infinity: true,
    }),
    staleAfter,
    failureThreshold: integer('failureThreshold', 1),
    successThreshold: integer('successThreshold', 1),
    historySize: integer('historySize', 0),
    maxMessageLength: integer('maxMessageLength', 16),
    snapshotInterval: durationOption('snapshotInterval', given.snapshotInterval, SNAPSHOT_INTERVAL, {
      min: 0,
      exclusiveMin: false,
      max: MAX_SNAPSHOT_INTERVAL,
    }),
    clock: clockOption(given.clock),
    random: functionOption<() => number, () => number>('random', given.random, Math.random),
    silences: silenceSourceOption(given.silences),
  });
}

/** A {@link SilenceSource}, or `undefined`: an object whose `silencedBy` and `onChange` are functions. */
function silenceSourceOption(value: unknown): SilenceSource | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null)
    throw optionTypeError('silences', 'a SilenceSource ({ silencedBy, onChange })', value);
  for (const method of ['silencedBy', 'onChange'] as const) {
    const member: unknown = Reflect.get(value, method);
    if (typeof member !== 'function') throw optionTypeError(`silences.${method}`, 'a function', member);
  }
  return value as SilenceSource;
}
