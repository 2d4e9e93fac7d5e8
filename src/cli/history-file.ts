/**
 * How `serve` keeps each provider's last status and history in the state
 * file (single mode): an index document `history` and up to
 * {@link MAX_PARTS} part documents `history.0` … each holding providers as
 * `{ name, status, history }`, where `status` is the last fresh status in
 * plain JSON (times as epoch ms) and `history` the base64 of
 * `encodeHistory` (recent samples and the 24h/7d/30d buckets, about 1 KB).
 * Everything read back is checked: a bad entry is skipped with its reason,
 * never trusted.
 */
import { decodeHistory, encodeHistory } from '../history-codec.js';
import type { HistoryExport } from '../history-keeper.js';
import { HistoryRing } from '../history.js';
import { NO_LABELS } from '../labels.js';
import { cleanMessage } from '../messages.js';
import { MAX_DOCUMENT_BYTES, type JsonValue } from '../state/state-store.js';
import { FrozenDate, type CheckState, type Status } from '../status.js';

/** The index document's key. */
export const HISTORY_KEY = 'history';
/** The version of the history documents this code writes and reads. */
export const HISTORY_VERSION = 1;
/** One part document at most: room below the store's 4 MiB per document. */
export const MAX_PART_BYTES = MAX_DOCUMENT_BYTES - 256 * 1024;
/**
 * The history kept in the state file at most, all parts together: 24 MiB of
 * the file's 32 MiB (about 16,000 providers at about 1.5 KB each), the rest
 * left to the silences and other documents.
 */
export const HISTORY_BUDGET = 24 * 1024 * 1024;
/** Part documents at most. */
export const MAX_PARTS = Math.ceil(HISTORY_BUDGET / MAX_PART_BYTES);
/** `details` longer than this, serialised, are not saved (the next check brings them back). */
export const MAX_SAVED_DETAILS = 2_048;

/** The key of part `index`. */
export function partKey(index: number): string {
  return `${HISTORY_KEY}.${index}`;
}

const STATES: readonly string[] = ['healthy', 'degraded', 'unhealthy'];
const MAX_TIME = 8.64e15;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One provider as saved. */
interface SavedEntry {
  readonly name: string;
  readonly status?: SavedStatus;
  readonly history?: string;
}

/** A fresh status as saved: what `restore` needs, times as epoch ms. */
interface SavedStatus {
  readonly state: CheckState;
  readonly message: string;
  readonly latency: number;
  readonly checkedAt: number;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly lastSuccessAt?: number;
  readonly lastFailureAt?: number;
  readonly lastTransitionAt: number;
  readonly details?: JsonValue;
}

/** The saved form of one provider; its serialised length is what it costs in the file. */
export function savedEntry(
  name: string,
  status: Status | undefined,
  history: HistoryExport | undefined,
): { readonly value: JsonValue; readonly bytes: number } {
  const entry: SavedEntry = {
    name,
    ...(status && { status: savedStatus(status) }),
    ...(history && { history: Buffer.from(encodeHistory(history)).toString('base64') }),
  };
  const value = entry as unknown as JsonValue;
  return { value, bytes: Buffer.byteLength(JSON.stringify(value)) };
}

function savedStatus(status: Status): SavedStatus {
  const details = plainDetails(status.details);
  return {
    state: status.state as CheckState,
    message: status.message,
    latency: status.latency,
    checkedAt: status.checkedAt.getTime(),
    consecutiveFailures: status.consecutiveFailures,
    consecutiveSuccesses: status.consecutiveSuccesses,
    ...(status.lastSuccessAt && { lastSuccessAt: status.lastSuccessAt.getTime() }),
    ...(status.lastFailureAt && { lastFailureAt: status.lastFailureAt.getTime() }),
    lastTransitionAt: status.lastTransitionAt.getTime(),
    ...(details !== undefined && { details }),
  };
}

/** `details` as JSON when short enough to save (the core already copied and scrubbed them). */
function plainDetails(details: Status['details']): JsonValue | undefined {
  if (details === undefined) return undefined;
  try {
    const text = JSON.stringify(details);
    return text.length <= MAX_SAVED_DETAILS ? (JSON.parse(text) as JsonValue) : undefined;
  } catch {
    return undefined;
  }
}

/** A part document holding `entries`. */
export function partDocument(entries: readonly JsonValue[]): JsonValue {
  return { version: HISTORY_VERSION, providers: entries as JsonValue[] };
}

/** The index document. */
export function indexDocument(parts: number, providers: number, savedAt: number): JsonValue {
  return { version: HISTORY_VERSION, savedAt: new Date(savedAt).toISOString(), parts, providers };
}

/** What {@link parseIndex} found: the part count, or why the document cannot be used. */
export type ParsedIndex =
  { readonly parts: number } | { readonly newer: number } | { readonly problem: string };

/** Reads the index document (`undefined`: none, nothing saved yet). */
export function parseIndex(value: JsonValue | undefined): ParsedIndex {
  if (value === undefined) return { parts: 0 };
  const fields = isObject(value) ? value : {};
  const { version, parts } = fields;
  if (typeof version === 'number' && Number.isInteger(version) && version > HISTORY_VERSION)
    return { newer: version };
  if (version !== HISTORY_VERSION) return { problem: `"${HISTORY_KEY}" has no version ${HISTORY_VERSION}` };
  if (!Number.isInteger(parts) || (parts as number) < 0 || (parts as number) > MAX_PARTS)
    return { problem: `"${HISTORY_KEY}" has no part count from 0 to ${MAX_PARTS}` };
  return { parts: parts as number };
}

/**
 * The entries of a part document.
 * @throws TypeError when it is not `{ version: 1, providers: [...] }`.
 */
export function partEntries(key: string, value: JsonValue | undefined): readonly unknown[] {
  if (value === undefined) throw new TypeError(`"${key}" is missing`);
  const fields = isObject(value) ? value : {};
  if (fields.version !== HISTORY_VERSION || !Array.isArray(fields.providers))
    throw new TypeError(`"${key}" is not { version: ${HISTORY_VERSION}, providers: [...] }`);
  return fields.providers as unknown[];
}

/** One entry read back: its name (to report it), and what to restore. */
export interface LoadedEntry {
  readonly name: string;
  readonly status: Status | undefined;
  readonly history: HistoryExport | undefined;
}

/** The name of a saved entry, or `undefined` when it has none. */
export function entryName(value: unknown): string | undefined {
  const name = isObject(value) ? value.name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Checks and rebuilds one saved entry; the status's `history` summary is
 * computed again from the samples as this cache keeps them (`historySize`).
 * @throws TypeError naming the first bad field.
 */
export function parseEntry(
  value: unknown,
  options: { readonly historySize: number; readonly maxMessageLength: number },
): LoadedEntry {
  const name = entryName(value);
  if (name === undefined) throw new TypeError('it has no name');
  const fields = value as Record<string, unknown>;
  let history: HistoryExport | undefined;
  if (fields.history !== undefined) {
    const text = fields.history;
    if (typeof text !== 'string' || !BASE64.test(text) || text.length > MAX_PART_BYTES)
      throw new TypeError('"history" is not base64');
    history = decodeHistory(new Uint8Array(Buffer.from(text, 'base64')));
  }
  const status = fields.status === undefined ? undefined : parseStatus(name, fields.status, history, options);
  return { name, status, history };
}

function parseStatus(
  name: string,
  value: unknown,
  history: HistoryExport | undefined,
  options: { readonly historySize: number; readonly maxMessageLength: number },
): Status {
  if (!isObject(value)) throw new TypeError('"status" is not an object');
  const s = value;
  const bad = (field: string): TypeError => new TypeError(`"status.${field}" is not valid`);
  if (typeof s.state !== 'string' || !STATES.includes(s.state)) throw bad('state');
  if (typeof s.message !== 'string') throw bad('message');
  if (typeof s.latency !== 'number' || !(s.latency >= 0 && s.latency < Infinity)) throw bad('latency');
  const checkedAt = s.checkedAt;
  if (!isTime(checkedAt)) throw bad('checkedAt');
  for (const field of ['consecutiveFailures', 'consecutiveSuccesses'] as const)
    if (!Number.isSafeInteger(s[field]) || (s[field] as number) < 0) throw bad(field);
  for (const field of ['lastSuccessAt', 'lastFailureAt'] as const)
    if (s[field] !== undefined && !(isTime(s[field]) && s[field] <= checkedAt)) throw bad(field);
  if (!(isTime(s.lastTransitionAt) && s.lastTransitionAt <= checkedAt)) throw bad('lastTransitionAt');
  if (s.details !== undefined && !isObject(s.details)) throw bad('details');
  const state = s.state as CheckState;
  const ring = new HistoryRing(options.historySize);
  for (const sample of history?.samples ?? [])
    ring.push(sample.checkedAt.getTime(), sample.latency, sample.state, sample.silenced);
  return Object.freeze({
    name,
    healthy: state !== 'unhealthy',
    message: cleanMessage(s.message, options.maxMessageLength),
    latency: s.latency,
    checkedAt: new FrozenDate(checkedAt),
    state,
    stale: false,
    consecutiveFailures: s.consecutiveFailures as number,
    consecutiveSuccesses: s.consecutiveSuccesses as number,
    lastSuccessAt: s.lastSuccessAt === undefined ? undefined : new FrozenDate(s.lastSuccessAt as number),
    lastFailureAt: s.lastFailureAt === undefined ? undefined : new FrozenDate(s.lastFailureAt as number),
    lastTransitionAt: new FrozenDate(s.lastTransitionAt),
    history: ring.summary(),
    details: s.details,
    // The cache restoring it recomputes these from its own registry and silences.
    labels: NO_LABELS,
    dependsOn: [],
    blockedBy: [],
    silencedBy: [],
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_TIME;
}
