import { systemClock, type Clock } from '../../clock.js';
import { redactSecrets } from '../../messages.js';

/**
 * Validation shared by the checker factories: each throws a TypeError or
 * RangeError naming the option and the value it got.
 * @internal
 */

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A short, safe rendering of a bad value for an error message: long strings
 * are not quoted, short ones lose any URL userinfo or token they carry.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 60
      ? `a string of ${value.length} characters`
      : JSON.stringify(redactSecrets(value));
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Throws unless `options` is undefined or a plain object. */
export function assertOptionsObject(checker: string, options: unknown, required = false): void {
  if (options === undefined && !required) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${checker}: options must be an object, got ${describeValue(options)}`);
  }
}

/** `slowThreshold`: undefined, or a finite number of ms > 0. */
export function slowThresholdOption(checker: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(
      `${checker}: slowThreshold must be a number of milliseconds, got ${describeValue(value)}`,
    );
  }
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `${checker}: slowThreshold must be a finite number of milliseconds > 0, got ${value}`,
    );
  }
  return value;
}

/** An optional non-empty string option. */
export function stringOption(checker: string, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${checker}: ${name} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

/** An optional boolean option. */
export function booleanOption(checker: string, name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${checker}: ${name} must be a boolean, got ${describeValue(value)}`);
  }
  return value;
}

/** The `env` option: undefined means `process.env`. */
export function envOption(checker: string, value: unknown): Env {
  if (value === undefined) return process.env;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${checker}: env must be an object of environment variables, got ${describeValue(value)}`,
    );
  }
  return value as Env;
}

/** A set environment variable (empty counts as unset, as the docker, kubectl and nomad CLIs do). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Parses a boolean environment variable the way Go's `strconv.ParseBool` does. */
export function envBoolean(checker: string, env: Env, name: string): boolean | undefined {
  const value = envValue(env, name);
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new TypeError(
    `${checker}: environment variable ${name} must be true or false, got ${describeValue(value)}`,
  );
}

/** The `clock` option: anything with `now()` in ms; default the system clock. */
export function clockOption(checker: string, value: unknown): Pick<Clock, 'now'> {
  if (value === undefined) return systemClock;
  const now: unknown = typeof value === 'object' && value !== null ? Reflect.get(value, 'now') : undefined;
  if (typeof now !== 'function') {
    throw new TypeError(
      `${checker}: clock must be an object with a now() method, got ${describeValue(value)}`,
    );
  }
  return value as Pick<Clock, 'now'>;
}
