import { randomUUID } from 'node:crypto';
import { OptionRangeError, OptionTypeError } from '../errors.js';
import { isSelectorError, parseSelector } from '../selector.js';
import { optionRangeError, optionTypeError } from '../validate.js';

/**
 * A silence: for a while, the providers it matches are still checked and
 * shown, but flagged `silenced` and left out of notifications. This file holds
 * the model and the validation of untrusted input (an HTTP body, a state
 * file); `SilenceSet` keeps the silences in force.
 */

/** The longest a silence may last: 30 days. Recurring quiet belongs in a maintenance window. */
export const MAX_SILENCE_DURATION = 30 * 24 * 3_600_000;
/** How far ahead a silence may start: 365 days. */
export const MAX_SILENCE_LEAD = 365 * 24 * 3_600_000;
/** The longest `comment`, in characters. */
export const MAX_SILENCE_COMMENT_LENGTH = 1024;
/** The longest `createdBy`, in characters. */
export const MAX_SILENCE_CREATED_BY_LENGTH = 256;
/** The most provider names in one silence's `matchers`. */
export const MAX_SILENCE_NAMES = 1000;
/** The longest provider name in `matchers`, in characters. */
export const MAX_SILENCE_NAME_LENGTH = 256;
/**
 * Control characters (C0, DEL, C1) and the Unicode line and paragraph
 * separators, refused in `comment`, `createdBy` and provider names: these
 * texts come from any authorised client and end up in log lines and
 * terminals (`silence list`), where a carriage return or an escape sequence
 * could forge or hide what is shown.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** What a silence covers: a selector (its canonical text) or provider names (sorted, distinct). */
export type SilenceMatchers = string | readonly string[];

/** One silence. Frozen; its times are copies, so changing them changes nothing held elsewhere. */
export interface Silence {
  /** A random UUID given at creation. */
  readonly id: string;
  readonly matchers: SilenceMatchers;
  readonly startsAt: Date;
  readonly endsAt: Date;
  /** Why; shown on the status page. */
  readonly comment: string;
  /** Who; free text (a user name, a pipeline). */
  readonly createdBy: string;
  /** Ends as soon as every provider it matches is healthy again. */
  readonly endsOnRecovery: boolean;
}

/** The request to create a silence (an HTTP body, a CLI call): untrusted until {@link parseSilenceInput}. */
export interface SilenceInput {
  /** A selector (`env=prod,team=db`) or a list of provider names. */
  readonly matchers: string | readonly string[];
  /** RFC 3339 with a zone (`2026-03-29T02:00:00Z`) or a Date; default now. A past start counts from now. */
  readonly startsAt?: string | Date;
  /** RFC 3339 with a zone or a Date; give this or `duration`. */
  readonly endsAt?: string | Date;
  /** Milliseconds from the start; give this or `endsAt`. */
  readonly duration?: number;
  readonly comment: string;
  readonly createdBy: string;
  /** Default `false`. */
  readonly endsOnRecovery?: boolean;
}

/** The JSON form of a {@link Silence}: times as RFC 3339 strings. */
export interface SilenceJSON {
  readonly id: string;
  readonly matchers: string | readonly string[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly comment: string;
  readonly createdBy: string;
  readonly endsOnRecovery: boolean;
}

const SCOPE = { scope: 'silence' } as const;
const INPUT_FIELDS = ['matchers', 'startsAt', 'endsAt', 'duration', 'comment', 'createdBy', 'endsOnRecovery'];
const STORED_FIELDS = ['id', 'matchers', 'startsAt', 'endsAt', 'comment', 'createdBy', 'endsOnRecovery'];
// RFC 3339 with an explicit zone: a time without one would depend on the server's zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Validates a request to create a silence at `now` (ms since the epoch) and
 * returns the silence with a new id.
 * @throws OptionTypeError / OptionRangeError whose `option` names the field
 *   (`matchers[3]`, `endsAt`), with messages such as `silence: endsAt must be after startsAt …`.
 */
export function parseSilenceInput(input: unknown, now: number, newId: () => string = randomUUID): Silence {
  const fields = record(input, INPUT_FIELDS);
  const matchers = parseMatchers(fields.matchers);
  const requested = fields.startsAt === undefined ? now : parseTime('startsAt', fields.startsAt);
  if (requested - now > MAX_SILENCE_LEAD)
    throw optionRangeError('startsAt', `at most 365 days ahead`, fields.startsAt, SCOPE);
  const startsAt = Math.max(requested, now);
  const endsAt = parseEnd(fields, startsAt, now);
  return freezeSilence({
    id: newId(),
    matchers,
    startsAt,
    endsAt,
    comment: text('comment', fields.comment, MAX_SILENCE_COMMENT_LENGTH),
    createdBy: text('createdBy', fields.createdBy, MAX_SILENCE_CREATED_BY_LENGTH),
    endsOnRecovery: flag(fields.endsOnRecovery),
  });
}

/**
 * Validates a stored silence (a state file, a Redis record): the same rules
 * as {@link parseSilenceInput} but with its own id and times, which may lie in the past.
 */
export function parseStoredSilence(input: unknown): Silence {
  const fields = record(input, STORED_FIELDS);
  if (typeof fields.id !== 'string' || !UUID.test(fields.id))
    throw optionTypeError('id', 'a lower-case UUID', fields.id, SCOPE);
  const startsAt = parseTime('startsAt', fields.startsAt);
  const endsAt = parseTime('endsAt', fields.endsAt);
  checkSpan(startsAt, endsAt, 'endsAt', fields.endsAt);
  return freezeSilence({
    id: fields.id,
    matchers: parseMatchers(fields.matchers),
    startsAt,
    endsAt,
    comment: text('comment', fields.comment, MAX_SILENCE_COMMENT_LENGTH),
    createdBy: text('createdBy', fields.createdBy, MAX_SILENCE_CREATED_BY_LENGTH),
    endsOnRecovery: flag(fields.endsOnRecovery),
  });
}

/** The JSON form (what the HTTP API returns and the state store keeps). */
export function silenceToJSON(silence: Silence): SilenceJSON {
  return {
    id: silence.id,
    matchers: silence.matchers,
    startsAt: silence.startsAt.toISOString(),
    endsAt: silence.endsAt.toISOString(),
    comment: silence.comment,
    createdBy: silence.createdBy,
    endsOnRecovery: silence.endsOnRecovery,
  };
}

/** A copy of `silence` ending at `endsAt` (used to expire one early). */
export function withEnd(silence: Silence, endsAt: number): Silence {
  return freezeSilence({ ...silence, startsAt: silence.startsAt.getTime(), endsAt });
}

interface SilenceParts extends Omit<Silence, 'startsAt' | 'endsAt'> {
  readonly startsAt: number;
  readonly endsAt: number;
}

function freezeSilence(parts: SilenceParts): Silence {
  return Object.freeze({ ...parts, startsAt: new Date(parts.startsAt), endsAt: new Date(parts.endsAt) });
}

/** The input as a record of known fields; an unknown field is named (a typo such as `endAt`). */
function record(input: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw optionTypeError('body', 'an object', input, SCOPE);
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new OptionTypeError(
        `silence: unknown field ${JSON.stringify(key.slice(0, 60))} (known: ${known.join(', ')})`,
        {
          option: key,
          value: undefined,
          scope: 'silence',
        },
      );
    }
  }
  return input as Record<string, unknown>;
}

/** A selector in canonical form, or the names sorted and distinct. */
function parseMatchers(value: unknown): SilenceMatchers {
  if (typeof value === 'string') {
    let canonical: string;
    try {
      canonical = parseSelector(value).toString();
    } catch (error) {
      if (!isSelectorError(error)) throw error;
      throw new OptionRangeError(`silence: matchers: ${error.message}`, {
        option: 'matchers',
        value,
        scope: 'silence',
      });
    }
    // An empty selector selects every provider: too easy to send by mistake.
    if (canonical === '')
      throw optionRangeError('matchers', 'a selector with at least one requirement', value, SCOPE);
    return canonical;
  }
  if (!Array.isArray(value))
    throw optionTypeError('matchers', 'a selector string or an array of provider names', value, SCOPE);
  if (value.length === 0 || value.length > MAX_SILENCE_NAMES)
    throw optionRangeError(
      'matchers',
      `1 to ${MAX_SILENCE_NAMES} provider names`,
      `${value.length} names`,
      SCOPE,
    );
  value.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || name === '' || name.length > MAX_SILENCE_NAME_LENGTH)
      throw optionTypeError(
        `matchers[${i}]`,
        `a provider name of 1 to ${MAX_SILENCE_NAME_LENGTH} characters`,
        name,
        SCOPE,
      );
    if (CONTROL.test(name))
      throw optionRangeError(`matchers[${i}]`, 'a provider name without control characters', name, SCOPE);
  });
  return Object.freeze([...new Set(value as string[])].sort());
}

/** ms since the epoch from an RFC 3339 string with a zone, or a valid Date. */
function parseTime(field: string, value: unknown): number {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  if (typeof value !== 'string') throw optionTypeError(field, 'an RFC 3339 time with a zone', value, SCOPE);
  const ms = RFC3339.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw optionRangeError(
      field,
      'an RFC 3339 time with a zone, such as "2026-03-29T02:00:00Z"',
      value,
      SCOPE,
    );
  return ms;
}

/** The end, from `endsAt` or `duration` (exactly one), checked against the start and now. */
function parseEnd(fields: Record<string, unknown>, startsAt: number, now: number): number {
  if ((fields.endsAt === undefined) === (fields.duration === undefined))
    throw optionTypeError('endsAt', 'given, or else duration (exactly one of them)', fields.endsAt, SCOPE);
  let endsAt: number;
  if (fields.duration !== undefined) {
    const duration = fields.duration;
    if (typeof duration !== 'number' || !Number.isFinite(duration))
      throw optionTypeError('duration', 'a number of milliseconds', duration, SCOPE);
    if (duration <= 0) throw optionRangeError('duration', 'greater than 0', duration, SCOPE);
    endsAt = startsAt + duration;
  } else {
    endsAt = parseTime('endsAt', fields.endsAt);
    if (endsAt <= now) throw optionRangeError('endsAt', 'in the future', fields.endsAt, SCOPE);
  }
  const field = fields.duration === undefined ? 'endsAt' : 'duration';
  checkSpan(startsAt, endsAt, field, fields[field]);
  return endsAt;
}

function checkSpan(startsAt: number, endsAt: number, field: string, given: unknown): void {
  if (endsAt <= startsAt)
    throw optionRangeError(field, `after startsAt (${new Date(startsAt).toISOString()})`, given, SCOPE);
  if (endsAt - startsAt > MAX_SILENCE_DURATION)
    throw optionRangeError(field, 'at most 30 days after startsAt', given, SCOPE);
}

function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw optionTypeError(field, 'a non-empty string', value, SCOPE);
  if (value.length > max) throw optionRangeError(field, `at most ${max} characters`, value, SCOPE);
  if (CONTROL.test(value))
    throw optionRangeError(field, 'one line of text without control characters', value, SCOPE);
  return value;
}

function flag(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw optionTypeError('endsOnRecovery', 'a boolean', value, SCOPE);
  return value;
}
