import { decodeHistory, encodeHistory } from '../history-codec.js';
import type { HistoryExport } from '../history-keeper.js';

/**
 * Which status record a history's last sample came from: the fencing token it
 * was written under and its `checkedAt` as written (the checking replica's
 * clock). A replica importing the history compares it with the record it
 * mirrors first, so that record's sample is not counted twice. @internal
 */
export interface RecordIdentity {
  readonly token: number;
  readonly checkedAt: number;
}

/** One provider's history as kept in the `{prefix}:history` hash. @internal */
export interface HistoryEntry {
  /** The token of the tenure (lease or membership) that wrote the entry. */
  readonly writer: number;
  /** The record behind the last sample, when known. */
  readonly record: RecordIdentity | undefined;
  readonly history: HistoryExport;
}

/** The format tag every entry starts with. */
const TAG = 'h1';
/** Bytes of `encodeHistory` outside the samples: format, counts, the windows' longest form (3,474 bytes). */
const FIXED_BYTES = 1 + 9 + 9 + 3_474;
/** The most bytes one encoded sample takes (header, time and latency varints). */
const SAMPLE_BYTES = 17;
/** The header before the base64 text: tag, three numbers of at most 16 digits, spaces. */
const HEADER_LENGTH = 2 + 3 * 17;

/**
 * The longest entry read, in characters: what `encodeHistory` can produce
 * with `historySize` samples and 30 days of windows, in base64, plus the
 * header. About 10 KB with the default 60 samples; longer ones are not read.
 */
export function maxEntryLength(historySize: number): number {
  const bytes = FIXED_BYTES + historySize * SAMPLE_BYTES;
  return HEADER_LENGTH + Math.ceil(bytes / 3) * 4;
}

/** The entry's text: `h1 <writer> <token>|- <checkedAt>|- <base64 of encodeHistory>`. @internal */
export function encodeHistoryEntry(entry: HistoryEntry): string {
  const { writer, record, history } = entry;
  const bytes = encodeHistory(history);
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const token = record === undefined ? '-' : String(record.token);
  const checkedAt = record === undefined ? '-' : String(record.checkedAt);
  return `${TAG} ${writer} ${token} ${checkedAt} ${base64}`;
}

const NUMBER = /^\d{1,16}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads an entry; every part is checked (numbers are whole and bounded, the
 * history goes through `decodeHistory`, which bounds every count). Returns
 * what is wrong with it instead of throwing. @internal
 */
export function decodeHistoryEntry(text: string, maxLength: number): HistoryEntry | string {
  if (text.length > maxLength) return `entry of ${text.length} characters is over ${maxLength}`;
  const parts = text.split(' ');
  if (parts.length !== 5 || parts[0] !== TAG) return 'not a history entry (format h1 expected)';
  const [, writer = '', token = '', checkedAt = '', base64 = ''] = parts;
  if (!NUMBER.test(writer)) return 'writer token is not a whole number';
  const known = token !== '-' || checkedAt !== '-';
  if (known && !(NUMBER.test(token) && NUMBER.test(checkedAt)))
    return 'record identity is not two whole numbers';
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return 'history is not base64';
  let history: HistoryExport;
  try {
    history = decodeHistory(new Uint8Array(Buffer.from(base64, 'base64')));
  } catch (error) {
    return `history: ${error instanceof Error ? error.message : String(error)}`;
  }
  return Object.freeze({
    writer: Number(writer),
    record: known ? Object.freeze({ token: Number(token), checkedAt: Number(checkedAt) }) : undefined,
    history,
  });
}

/**
 * A history entry in Redis that was skipped, emitted (as an error) by
 * `SharedHealthCache.onRedisError`, once per provider and reason: it is
 * too long, not in the entry format, or its history does not decode. The
 * provider starts with the history this replica sees from then on.
 */
export class BadHistoryEntryError extends Error {
  /** The provider the entry is about (its hash field). */
  readonly provider: string;
  /** What is wrong with it. */
  readonly reason: string;

  constructor(provider: string, reason: string) {
    super(`skipped the history of ${JSON.stringify(provider.slice(0, 200))} kept in Redis: ${reason}`);
    this.name = 'BadHistoryEntryError';
    this.provider = provider;
    this.reason = reason;
  }
}

/** Whether `error` is a {@link BadHistoryEntryError}. */
export function isBadHistoryEntryError(error: unknown): error is BadHistoryEntryError {
  return error instanceof BadHistoryEntryError;
}
