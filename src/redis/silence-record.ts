import { optionRangeError } from '../validate.js';
import { parseStoredSilence, type Silence } from '../quiet/silence.js';

/**
 * One shared silence as stored in Redis: a field of the silences hash, named
 * by the silence id, holding JSON with the times as epoch milliseconds (so
 * the add script can compare them without parsing dates):
 * `{ v: 1, id, matchers, startsAt, endsAt, comment, createdBy, endsOnRecovery }`.
 * @internal
 */
export interface SilenceRecord {
  readonly v: 1;
  readonly id: string;
  /** A selector's canonical text, or provider names sorted and distinct. */
  readonly matchers: string | readonly string[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly comment: string;
  readonly createdBy: string;
  readonly endsOnRecovery: boolean;
}

/**
 * The longest silence record, in characters: twice the 16 KiB an HTTP body
 * may hold, so any silence the API accepts fits. A silence added through the
 * library with more (a long list of names) is refused; a longer record found
 * in Redis is skipped unread.
 */
export const MAX_SILENCE_RECORD_LENGTH = 32_768;

/** The latest valid `Date`, in ms. */
const MAX_TIME = 8.64e15;

/**
 * The record of `silence`.
 * @throws OptionRangeError (`matchers`) when it is over {@link MAX_SILENCE_RECORD_LENGTH}.
 */
export function encodeSilence(silence: Silence): string {
  const record: SilenceRecord = {
    v: 1,
    id: silence.id,
    matchers: silence.matchers,
    startsAt: silence.startsAt.getTime(),
    endsAt: silence.endsAt.getTime(),
    comment: silence.comment,
    createdBy: silence.createdBy,
    endsOnRecovery: silence.endsOnRecovery,
  };
  const text = JSON.stringify(record);
  if (text.length > MAX_SILENCE_RECORD_LENGTH) {
    throw optionRangeError(
      'matchers',
      `small enough for a shared silence of at most ${MAX_SILENCE_RECORD_LENGTH} characters (this one has ${text.length})`,
      typeof silence.matchers === 'string' ? silence.matchers : `${silence.matchers.length} names`,
      { scope: 'silence' },
    );
  }
  return text;
}

/**
 * What the add script compares to find a conflict: the same matchers (the
 * script builds the same key from each stored record). @internal
 */
export function matchersKey(silence: Silence): string {
  const { matchers } = silence;
  return typeof matchers === 'string' ? `s:${matchers}` : `n:${matchers.join('\n')}`;
}

/**
 * Validates the record stored under hash field `id` with the rules of a
 * stored silence (`parseStoredSilence`): the same bounds as an API request,
 * an id that is a UUID and names its own field. Returns the silence, or why
 * it was refused (a value, not thrown: one bad record never stops the others).
 */
export function decodeSilence(id: string, text: string): Silence | string {
  if (text.length > MAX_SILENCE_RECORD_LENGTH)
    return `record is over ${MAX_SILENCE_RECORD_LENGTH} characters`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'record is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'record is not an object';
  const { v, startsAt, endsAt, ...rest } = value as Partial<Record<keyof SilenceRecord, unknown>>;
  if (v !== 1) return `unsupported record version ${typeof v === 'number' ? v : typeof v}`;
  if (rest.id !== id) return 'record names another silence';
  if (!isTime(startsAt)) return 'record has an invalid `startsAt`';
  if (!isTime(endsAt)) return 'record has an invalid `endsAt`';
  try {
    return parseStoredSilence({ ...rest, startsAt: new Date(startsAt), endsAt: new Date(endsAt) });
  } catch (error) {
    return `record is not a valid silence: ${(error as Error).message}`;
  }
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TIME;
}

/**
 * A silence record in Redis that was skipped, emitted (as an error) by
 * `SharedHealthCache.onRedisError`: too long, not JSON, or not a valid
 * silence. The other silences still load; this one is in force nowhere.
 * Reported once per id and reason until it is fixed or gone.
 */
export class BadSilenceRecordError extends Error {
  /** The hash field (the silence id) it was stored under. */
  readonly id: string;
  /** What is wrong with it. */
  readonly reason: string;

  constructor(id: string, reason: string) {
    super(`ignored the silence record ${JSON.stringify(id.slice(0, 100))} in Redis: ${reason}`);
    this.name = 'BadSilenceRecordError';
    this.id = id;
    this.reason = reason;
  }
}

/** Whether `error` is a {@link BadSilenceRecordError}. */
export function isBadSilenceRecordError(error: unknown): error is BadSilenceRecordError {
  return error instanceof BadSilenceRecordError;
}
