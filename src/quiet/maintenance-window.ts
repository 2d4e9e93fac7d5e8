import { Cron } from 'croner';
import type { Labels } from '../labels.js';
import { isSelectorError, parseSelector, type Selector } from '../selector.js';
import { describeValue, optionRangeError, optionTypeError } from '../validate.js';
import { OptionRangeError, OptionTypeError } from '../errors.js';

/**
 * A maintenance window: every time a cron expression fires (in an IANA time
 * zone), the providers a selector picks are silenced for a duration. Pure:
 * it answers for any time given; `MaintenanceSchedule` follows the clock.
 *
 * Across daylight-saving changes the cron library's rules apply: a start in
 * the hour skipped in spring happens at the first instant after the gap (a
 * 02:30 window in Europe/Berlin starts at 03:00 on that day), and a start in
 * the hour repeated in autumn happens once, at its first occurrence.
 */

/** The shortest window: 1 second. */
export const MIN_WINDOW_DURATION = 1000;
/** The longest window: 7 days. */
export const MAX_WINDOW_DURATION = 7 * 24 * 3_600_000;
/** The longest cron expression, in characters. */
export const MAX_CRON_LENGTH = 256;
/** The longest window name, in characters. */
export const MAX_WINDOW_NAME_LENGTH = 128;
/** The longest comment, in characters. */
export const MAX_WINDOW_COMMENT_LENGTH = 1024;

/** A window as written in a config file (untrusted until {@link parseMaintenanceWindow}). */
export interface MaintenanceWindowInput {
  /** Unique among windows; shown where a silence id would be. */
  readonly name: string;
  /** Five fields (minute hour day-of-month month day-of-week), or six with seconds first. */
  readonly cron: string;
  /** Milliseconds from each start. */
  readonly duration: number;
  /** An IANA zone such as `Europe/Berlin`; default `UTC`. */
  readonly timeZone?: string;
  /** Which providers; `""` selects every provider. */
  readonly selector: string;
  readonly comment?: string;
}

/** One occurrence of a window: `[start, end)`. */
export interface WindowOccurrence {
  readonly start: Date;
  readonly end: Date;
}

const FIELDS = ['name', 'cron', 'duration', 'timeZone', 'selector', 'comment'];
// Before any time this library will be asked about: a pattern with no run after it never fires.
const EPOCH = new Date(Date.UTC(2000, 0, 1));

/** A validated maintenance window. Immutable. */
export class MaintenanceWindow {
  readonly name: string;
  readonly cron: string;
  /** Milliseconds. */
  readonly duration: number;
  readonly timeZone: string;
  readonly selector: Selector;
  readonly comment: string;
  readonly #cron: Cron;

  /** @internal Use {@link parseMaintenanceWindow}. */
  constructor(
    fields: Omit<MaintenanceWindow, 'activeAt' | 'nextStart' | 'nextEnd' | 'matches' | 'toJSON'>,
    cron: Cron,
  ) {
    this.name = fields.name;
    this.cron = fields.cron;
    this.duration = fields.duration;
    this.timeZone = fields.timeZone;
    this.selector = fields.selector;
    this.comment = fields.comment;
    this.#cron = cron;
    Object.freeze(this);
  }

  /** The occurrence in force at `time`, or `undefined`. Overlapping occurrences: the latest started. */
  activeAt(time: number | Date): WindowOccurrence | undefined {
    const at = +time;
    // previousRuns is exclusive of its reference: one millisecond later includes a start at `at`.
    const start = this.#cron.previousRuns(1, new Date(at + 1))[0];
    if (start === undefined || at >= start.getTime() + this.duration) return undefined;
    return occurrence(start.getTime(), this.duration);
  }

  /** The first start strictly after `time`, or `undefined` if the pattern never fires again. */
  nextStart(time: number | Date): Date | undefined {
    return this.#cron.nextRun(new Date(+time)) ?? undefined;
  }

  /** The end of the occurrence in force at `time`, else of the next one. */
  nextEnd(time: number | Date): Date | undefined {
    const current = this.activeAt(time);
    if (current !== undefined) return current.end;
    const next = this.nextStart(time);
    return next === undefined ? undefined : new Date(next.getTime() + this.duration);
  }

  /** Whether the window covers a provider with `labels`. */
  matches(labels: Labels | undefined): boolean {
    return this.selector.matches(labels);
  }

  /** The config form. */
  toJSON(): Required<MaintenanceWindowInput> {
    const { name, cron, duration, timeZone, comment } = this;
    return { name, cron, duration, timeZone, selector: this.selector.toString(), comment };
  }
}

function occurrence(start: number, duration: number): WindowOccurrence {
  return Object.freeze({ start: new Date(start), end: new Date(start + duration) });
}

/**
 * Validates a window from a config file.
 * @param path The option path for errors, such as `maintenance[2]`: a bad cron is `maintenance[2].cron`.
 * @throws OptionTypeError / OptionRangeError naming the field: a bad cron (with the
 *   cron library's reason), an unknown time zone, a duration out of range, a bad selector.
 */
export function parseMaintenanceWindow(input: unknown, path = 'maintenance'): MaintenanceWindow {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw optionTypeError(path, 'an object', input);
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key))
      throw new OptionTypeError(
        `Unknown field \`${path}.${key.slice(0, 60)}\` (known: ${FIELDS.join(', ')})`,
        {
          option: `${path}.${key}`,
          value: undefined,
        },
      );
  }
  const fields = input as Record<string, unknown>;
  const name = text(`${path}.name`, fields.name, MAX_WINDOW_NAME_LENGTH, false);
  const timeZone = parseTimeZone(`${path}.timeZone`, fields.timeZone);
  const cronText = text(`${path}.cron`, fields.cron, MAX_CRON_LENGTH, false);
  const cron = parseCron(`${path}.cron`, cronText, timeZone);
  return new MaintenanceWindow(
    {
      name,
      cron: cronText,
      duration: parseDuration(`${path}.duration`, fields.duration),
      timeZone,
      selector: parseWindowSelector(`${path}.selector`, fields.selector),
      comment:
        fields.comment === undefined
          ? ''
          : text(`${path}.comment`, fields.comment, MAX_WINDOW_COMMENT_LENGTH, true),
    },
    cron,
  );
}

function text(option: string, value: unknown, max: number, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === ''))
    throw optionTypeError(option, allowEmpty ? 'a string' : 'a non-empty string', value);
  if (value.length > max) throw optionRangeError(option, `at most ${max} characters`, value);
  return value;
}

/** A canonical IANA zone name (`utc` gives `UTC`); default `UTC`. */
function parseTimeZone(option: string, value: unknown): string {
  if (value === undefined) return 'UTC';
  const zone = text(option, value, 64, false);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw optionRangeError(option, 'an IANA time zone such as "Europe/Berlin"', value);
  }
}

function parseCron(option: string, pattern: string, timeZone: string): Cron {
  let cron: Cron;
  try {
    // Paused and without a function: croner then never sets a timer; it only computes times.
    cron = new Cron(pattern, { timezone: timeZone, paused: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw new OptionRangeError(
      `Expected \`${option}\` to be a cron expression (${reason.slice(0, 200)}), got ${describeValue(pattern)}`,
      { option, value: pattern },
    );
  }
  if (cron.nextRun(EPOCH) === null)
    throw optionRangeError(option, 'a cron expression that ever fires', pattern);
  return cron;
}

function parseDuration(option: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw optionTypeError(option, 'a number of milliseconds', value);
  if (!(value >= MIN_WINDOW_DURATION && value <= MAX_WINDOW_DURATION))
    throw optionRangeError(
      option,
      `from ${MIN_WINDOW_DURATION} ms (1 s) to ${MAX_WINDOW_DURATION} ms (7 days)`,
      value,
    );
  return value;
}

function parseWindowSelector(option: string, value: unknown): Selector {
  if (typeof value !== 'string')
    throw optionTypeError(option, 'a selector string ("" for every provider)', value);
  try {
    return parseSelector(value);
  } catch (error) {
    if (!isSelectorError(error)) throw error;
    throw new OptionRangeError(`Invalid \`${option}\`: ${error.message}`, { option, value });
  }
}
