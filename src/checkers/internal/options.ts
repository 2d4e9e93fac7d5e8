import { systemClock, type Clock } from '../../clock.js';
import { OptionRangeError, OptionTypeError } from '../../errors.js';
import { optionTypeError } from '../../validate.js';

/**
 * The checker-specific pieces of option validation: environment variables,
 * `slowThreshold` and `clock` with the checkers' message wording, and errors
 * whose text does not fit `must be …, got …`. Everything else comes from
 * `src/validate.ts` with `{ scope: checkerName }`.
 * @internal
 */

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * An option error whose message is `scope: text` (for messages that are not
 * `must be …, got …`, such as `url is required`). `range` makes it a
 * RangeError; `secret` keeps the value out of the error.
 */
export function optionFailure(
  scope: string,
  option: string,
  text: string,
  value: unknown,
  kind: { readonly range?: boolean; readonly secret?: boolean } = {},
): OptionTypeError | OptionRangeError {
  const init = { option, value, scope, secret: kind.secret };
  return kind.range === true
    ? new OptionRangeError(`${scope}: ${text}`, init)
    : new OptionTypeError(`${scope}: ${text}`, init);
}

/** `slowThreshold`: undefined, or a finite number of ms > 0. */
export function slowThresholdOption(scope: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw optionTypeError('slowThreshold', 'a number of milliseconds', value, { scope });
  if (!(value > 0) || !Number.isFinite(value)) {
    throw optionFailure(
      scope,
      'slowThreshold',
      `slowThreshold must be a finite number of milliseconds > 0, got ${value}`,
      value,
      { range: true },
    );
  }
  return value;
}

/** The `env` option: undefined means `process.env`. */
export function envOption(scope: string, value: unknown): Env {
  if (value === undefined) return process.env;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw optionTypeError('env', 'an object of environment variables', value, { scope });
  return value as Env;
}

/** A set environment variable (empty counts as unset, as the docker, kubectl and nomad CLIs do). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Parses a boolean environment variable the way Go's `strconv.ParseBool` does. */
export function envBoolean(scope: string, env: Env, name: string): boolean | undefined {
  const value = envValue(env, name);
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw optionTypeError(name, 'true or false', value, { scope });
}

/** The `clock` option: anything with `now()` in ms; default the system clock. */
export function checkerClockOption(scope: string, value: unknown): Pick<Clock, 'now'> {
  if (value === undefined) return systemClock;
  const now: unknown = typeof value === 'object' && value !== null ? Reflect.get(value, 'now') : undefined;
  if (typeof now !== 'function')
    throw optionTypeError('clock', 'an object with a now() method', value, { scope });
  return value as Pick<Clock, 'now'>;
}

/**
 * The clock a checker's own timers run on: the `clock` option when it is a
 * whole {@link Clock} (a `ManualClock` in tests), else the system clock.
 */
export function timerClock(clock: Pick<Clock, 'now'>): Clock {
  const { setTimeout, clearTimeout } = clock as Partial<Clock>;
  return typeof setTimeout === 'function' && typeof clearTimeout === 'function'
    ? (clock as Clock)
    : systemClock;
}
