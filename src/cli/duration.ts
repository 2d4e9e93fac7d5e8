/**
 * Durations in the config file: `"30s"`, `"1m30s"`, `"250ms"`, `"1.5h"`,
 * `"14d"`, or a plain number of milliseconds, at most {@link MAX_DURATION}
 * unless a caller gives another bound (`certExpiryWarning`, compared with
 * dates and never used as a timer, goes up to 366 days).
 */
import { MAX_DURATION } from '../validate.js';
import { quoteString } from './quote.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y;

/** What a duration looks like, for error messages. */
export const DURATION_HINT = 'a duration like "30s", "1m30s", "250ms" or a number of milliseconds';

/** Texts longer than this are not durations: refused before the parse. */
const MAX_DURATION_TEXT = 64;

/** A bound other than {@link MAX_DURATION}, for a duration that is never a timer. */
export interface DurationBound {
  /** The longest duration accepted, in ms. */
  readonly max: number;
  /** How the bound reads in the message: `366d`. */
  readonly text: string;
}

/**
 * Parses a duration to milliseconds.
 * @throws RangeError saying what was expected, for anything else (negative,
 * no unit, unknown unit, not finite, longer than `bound` or else {@link MAX_DURATION}:
 * 2^31 − 1 ms, about 24.8 days, the longest timer Node.js honours; a longer one fires at once).
 */
export function parseDuration(value: string | number, bound?: DurationBound): number {
  const ms = typeof value === 'number' ? parseNumber(value) : parseText(value);
  if (bound === undefined) return bounded(ms, value);
  if (ms <= bound.max) return ms;
  const got = typeof value === 'number' ? String(value) : quoteString(value);
  throw new RangeError(`expected a duration of at most ${bound.text} (${bound.max} ms), got ${got}`);
}

function parseNumber(value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`expected ${DURATION_HINT}, got ${value}`);
  return value;
}

function bounded(ms: number, value: string | number): number {
  if (ms <= MAX_DURATION) return ms;
  const got = typeof value === 'number' ? String(value) : quoteString(value);
  throw new RangeError(
    `expected a duration of at most ${MAX_DURATION} ms (about 24.8 days, the longest timer Node.js honours), got ${got}`,
  );
}

function parseText(value: string): number {
  if (value.length > MAX_DURATION_TEXT)
    throw new RangeError(`expected ${DURATION_HINT}, got ${quoteString(value)}`);
  const text = value.trim();
  if (text === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(text)) {
    // A quoted number is ambiguous in a file that elsewhere says "5s": ask for a unit.
    throw new RangeError(
      `expected ${DURATION_HINT}, got ${JSON.stringify(value)} (add a unit, e.g. "${text}ms")`,
    );
  }
  let total = 0;
  let index = 0;
  PART.lastIndex = 0;
  while (index < text.length) {
    PART.lastIndex = index;
    const match = PART.exec(text);
    if (match === null) throw new RangeError(`expected ${DURATION_HINT}, got ${JSON.stringify(value)}`);
    const [whole, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
    total += Number(amount) * UNIT_MS[unit];
    index += whole.length;
  }
  if (text.length === 0) throw new RangeError(`expected ${DURATION_HINT}, got ""`);
  return total;
}

/** Formats milliseconds the way the config file spells them: `1m30s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000 || !Number.isInteger(ms / 1_000)) return `${ms}ms`;
  let rest = ms / 1_000;
  const hours = Math.floor(rest / 3_600);
  rest -= hours * 3_600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  return `${hours > 0 ? `${hours}h` : ''}${minutes > 0 ? `${minutes}m` : ''}${seconds > 0 ? `${seconds}s` : ''}`;
}
