import { systemClock, type Clock } from './clock.js';
import { OptionRangeError, OptionTypeError, type OptionErrorInit } from './errors.js';
import { redactSecrets } from './messages.js';

/**
 * The one set of option validators every part uses (core, checkers, HTTP,
 * Redis, CLI). Each returns the value (or the fallback for `undefined`) and
 * throws an {@link OptionTypeError} or {@link OptionRangeError} carrying the
 * option and the value, with a message naming both.
 *
 * Messages read `Expected \`option\` to be …, got …` for the core's own
 * options and `scope: option must be …, got …` when a scope (a checker's
 * name) is given.
 * @internal
 */

/**
 * The longest duration any option takes: 2^31 − 1 ms (about 24.8 days), the
 * longest delay a Node.js timer honours (a longer one fires at once).
 */
export const MAX_DURATION = 2_147_483_647;

/** Where an option sits, for messages and for the error's fields. */
export interface OptionSite {
  /** Who validates it, such as `dockerChecker`; absent for the core's own options. */
  readonly scope?: string | undefined;
  /** The value may be a secret (a token, a URL with a password): it is never quoted or kept. */
  readonly secret?: boolean | undefined;
}

/** Limits of a number option. */
export interface NumberRule extends OptionSite {
  readonly min?: number | undefined;
  /** `min` itself is not allowed. */
  readonly exclusiveMin?: boolean | undefined;
  readonly max?: number | undefined;
  readonly integer?: boolean | undefined;
  /** `Infinity` is allowed (it skips `max`). */
  readonly infinity?: boolean | undefined;
}

/**
 * A short, safe rendering of a value for an error message: strings over 60
 * characters are not quoted, shorter ones lose any URL userinfo or token.
 */
export function describeValue(value: unknown, secret = false): string {
  if (typeof value === 'string') {
    if (secret) return 'a string';
    return value.length > 60
      ? `a string of ${value.length} characters`
      : JSON.stringify(redactSecrets(value));
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return secret && value !== undefined && value !== null ? `a ${typeof value}` : String(value);
  }
  if (typeof value === 'bigint') return secret ? 'a bigint' : `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Formats the message of an option error. */
export function optionMessage(
  option: string,
  expected: string,
  value: unknown,
  site: OptionSite = {},
): string {
  // A secret string is not described at all: not even its length is given away.
  const secretString = site.secret === true && typeof value === 'string';
  const got = secretString ? '' : `, got ${describeValue(value, site.secret === true)}`;
  return site.scope === undefined
    ? `Expected \`${option}\` to be ${expected}${got}`
    : `${site.scope}: ${option} must be ${expected}${got}`;
}

function init(option: string, value: unknown, site: OptionSite): OptionErrorInit {
  return { option, value, scope: site.scope, secret: site.secret };
}

/** A TypeError for `option`: the value is of the wrong kind. */
export function optionTypeError(
  option: string,
  expected: string,
  value: unknown,
  site: OptionSite = {},
): OptionTypeError {
  return new OptionTypeError(optionMessage(option, expected, value, site), init(option, value, site));
}

/** A RangeError for `option`: the value is of the right kind but not allowed. */
export function optionRangeError(
  option: string,
  expected: string,
  value: unknown,
  site: OptionSite = {},
): OptionRangeError {
  return new OptionRangeError(optionMessage(option, expected, value, site), init(option, value, site));
}

/** A number option; `undefined` gives `fallback`. */
export function numberOption<F extends number | undefined>(
  option: string,
  value: unknown,
  fallback: F,
  rule: NumberRule = {},
): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw optionTypeError(option, 'a number', value, rule);
  if (value === Infinity && rule.infinity === true) return value;
  if (!Number.isFinite(value)) throw optionRangeError(option, 'finite', value, rule);
  if (rule.integer === true && !Number.isInteger(value))
    throw optionRangeError(option, 'an integer', value, rule);
  const { min, max } = rule;
  if (min !== undefined && (rule.exclusiveMin === true ? value <= min : value < min)) {
    throw optionRangeError(
      option,
      rule.exclusiveMin === true ? `greater than ${min}` : `at least ${min}`,
      value,
      rule,
    );
  }
  if (max !== undefined && value > max) throw optionRangeError(option, `at most ${max}`, value, rule);
  return value;
}

/**
 * A duration in milliseconds: finite, at least `min` (default: greater than
 * 0) and at most {@link MAX_DURATION}, so that every timer built from it is
 * honoured.
 */
export function durationOption<F extends number | undefined>(
  option: string,
  value: unknown,
  fallback: F,
  rule: Omit<NumberRule, 'infinity' | 'integer'> = {},
): number | F {
  const bounded: NumberRule = {
    ...rule,
    min: rule.min ?? 0,
    exclusiveMin: rule.min === undefined ? true : rule.exclusiveMin,
  };
  const ms = numberOption(option, value, fallback, bounded);
  if (ms !== undefined && ms > (rule.max ?? MAX_DURATION)) {
    const max = rule.max ?? MAX_DURATION;
    const days = max === MAX_DURATION ? ' ms (about 24.8 days, the longest timer Node.js honours)' : ' ms';
    throw optionRangeError(option, `at most ${max}${days}`, ms, rule);
  }
  return ms;
}

/** A boolean option; `undefined` gives `fallback`. */
export function booleanOption<F extends boolean | undefined>(
  option: string,
  value: unknown,
  fallback: F,
  site: OptionSite = {},
): boolean | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw optionTypeError(option, 'a boolean', value, site);
  return value;
}

/** A non-empty string option; `undefined` gives `fallback`. */
export function stringOption<F extends string | undefined>(
  option: string,
  value: unknown,
  fallback: F,
  site: OptionSite = {},
): string | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    throw optionTypeError(option, 'a non-empty string', value, site);
  }
  return value;
}

/** A function option; `undefined` gives `fallback`. */
export function functionOption<T extends (...args: never[]) => unknown, F extends T | undefined>(
  option: string,
  value: unknown,
  fallback: F,
  site: OptionSite = {},
): T | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw optionTypeError(option, 'a function', value, site);
  return value as T;
}

/** The options bag itself: `undefined` or a plain object (not an array). */
export function optionsObject<T extends object>(
  value: T | undefined,
  site: OptionSite & { required?: boolean } = {},
): T {
  if (value === undefined && site.required !== true) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const message =
      site.scope === undefined
        ? `Expected options to be an object, got ${describeValue(value)}`
        : `${site.scope}: options must be an object, got ${describeValue(value)}`;
    throw new OptionTypeError(message, { option: 'options', value, scope: site.scope });
  }
  return value;
}

/** The `clock` option: a whole {@link Clock}; default {@link systemClock}. */
export function clockOption(value: unknown, site: OptionSite = {}): Clock {
  if (value === undefined) return systemClock;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    const member: unknown =
      typeof value === 'object' && value !== null ? Reflect.get(value, method) : undefined;
    if (typeof member !== 'function') throw optionTypeError(`clock.${method}`, 'a function', member, site);
  }
  return value as Clock;
}
