import type { HistorySample } from '../history.js';
import type { Labels } from '../labels.js';
import { cleanMessage } from '../messages.js';
import { FrozenDate, type HistorySummary, type Status } from '../status.js';
import { MAX_DURATION } from '../validate.js';
import { decodeMetadata, encodeMetadata, type RecordMetadata } from './record-metadata.js';

/** The raw result of one check, before thresholds. */
type SampleState = HistorySample['state'];

/**
 * One provider's status as stored in the Redis hash and published to the
 * other replicas: JSON, times as epoch milliseconds on the writer's clock.
 * `token` and `checkedAt` are read by the write script to order records of
 * one tenure; `writtenAt` (Redis's clock, stamped by the write script) and
 * `age` let a reader date the check on its own clock. @internal
 */
export interface StatusRecord {
  readonly v: 1;
  /** Redis's clock when the record was written (added by the write script). */
  readonly writtenAt?: number;
  /** ms between the check and the write, on the writer's clock. */
  readonly age?: number;
  /** The fencing token of the lease under which it was written. */
  readonly token: number;
  readonly name: string;
  readonly healthy: boolean;
  readonly message: string;
  readonly latency: number;
  readonly checkedAt: number;
  readonly state: SampleState;
  /** The raw result of that check, for the readers' history. */
  readonly sample: SampleState;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly lastSuccessAt: number | null;
  readonly lastFailureAt: number | null;
  readonly lastTransitionAt: number;
  /** The silenced figures are absent from an older writer's records. */
  readonly history: RecordHistory;
  readonly details: Readonly<Record<string, unknown>> | null;
  readonly labels?: Labels;
  readonly dependsOn?: readonly string[];
  readonly blockedBy?: readonly string[];
  /** Cut to the first 256 ids (see record-metadata.ts). */
  readonly silencedBy?: readonly string[];
}

type SilencedFigures = 'uptimeExcludingSilenced' | 'silencedSamples';
/** A record's history summary. @internal */
export type RecordHistory = Omit<HistorySummary, SilencedFigures> &
  Partial<Pick<HistorySummary, SilencedFigures>>;

/** A record read back from Redis, its times still on the writer's clock. @internal */
export interface DecodedStatus {
  readonly status: Status;
  readonly sample: HistorySample;
  readonly token: number;
  /** Redis's clock at the write, when the writer's version stamps it. */
  readonly writtenAt: number | undefined;
  /** ms between the check and the write. */
  readonly age: number;
}

/** Bounds on what a decoded record may hold. @internal */
export interface RecordBounds {
  /** Longer messages are cut (as the writer would have, with the same option). */
  readonly maxMessageLength: number;
}

/** The longest record text parsed, in characters; longer ones are refused unread. @internal */
export const MAX_RECORD_LENGTH = 65_536;
/** The deepest nesting of `details` accepted. @internal */
export const MAX_DETAILS_DEPTH = 32;
/** The latest valid `Date`, in ms. */
const MAX_TIME = 8.64e15;
const SAMPLE_STATES: readonly string[] = ['healthy', 'degraded', 'unhealthy'];

/**
 * Encodes a fresh (not stale) status, `now` on the writer's clock. `details`
 * that JSON cannot carry (a BigInt, a cycle) are dropped rather than failing the write. @internal
 */
export function encodeStatus(status: Status, token: number, sample: SampleState, now?: number): string {
  if (status.state === 'stale') throw new TypeError(`cannot share the stale status of ${status.name}`);
  const checkedAt = status.checkedAt.getTime();
  const record: StatusRecord = {
    v: 1,
    age: Math.max(0, (now ?? checkedAt) - checkedAt),
    token,
    name: status.name,
    healthy: status.healthy,
    message: status.message,
    latency: status.latency,
    checkedAt,
    state: status.state,
    sample,
    consecutiveFailures: status.consecutiveFailures,
    consecutiveSuccesses: status.consecutiveSuccesses,
    lastSuccessAt: status.lastSuccessAt?.getTime() ?? null,
    lastFailureAt: status.lastFailureAt?.getTime() ?? null,
    lastTransitionAt: status.lastTransitionAt.getTime(),
    history: status.history,
    details: status.details ?? null,
    ...encodeMetadata(status),
  };
  try {
    return JSON.stringify(record);
  } catch {
    return JSON.stringify({ ...record, details: null });
  }
}

/** Parses a record's text; a message instead when it is too long or not JSON. @internal */
export function parseRecord(text: string): unknown {
  if (text.length > MAX_RECORD_LENGTH)
    return new RecordError(`record is over ${MAX_RECORD_LENGTH} characters`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new RecordError('record is not JSON');
  }
}

/** Why a record was refused (a value, not thrown). @internal */
export class RecordError {
  constructor(readonly reason: string) {}
}

type Fields = Partial<Record<keyof StatusRecord, unknown>>;

/**
 * Validates a parsed record and rebuilds a frozen {@link Status}, times on
 * the writer's clock. Returns a message naming the first bad field instead
 * of throwing, so one bad record never stops a replica from reading the others. @internal
 */
export function decodeStatus(value: unknown, bounds?: RecordBounds): DecodedStatus | string {
  if (value instanceof RecordError) return value.reason;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'record is not an object';
  const r = value as Fields;
  if (r.v !== 1) return `unsupported record version ${typeof r.v === 'number' ? r.v : typeof r.v}`;
  if (typeof r.name !== 'string' || r.name.length === 0) return 'record has no name';
  const invalid = firstInvalid(r);
  const metadata = invalid ?? decodeMetadata(r, r.name);
  if (typeof metadata === 'string')
    return `record of ${JSON.stringify(r.name.slice(0, 200))} has an invalid \`${metadata}\``;
  return build(r as StatusRecord, metadata, bounds);
}

/** The first field that is missing, of the wrong type or out of bounds. */
function firstInvalid(r: Fields): string | undefined {
  if (r.writtenAt !== undefined && !isTime(r.writtenAt)) return 'writtenAt';
  if (r.age !== undefined && !isDuration(r.age)) return 'age';
  if (!isCount(r.token)) return 'token';
  if (typeof r.healthy !== 'boolean') return 'healthy';
  if (typeof r.message !== 'string') return 'message';
  if (!isDuration(r.latency)) return 'latency';
  if (!isTime(r.checkedAt)) return 'checkedAt';
  if (typeof r.state !== 'string' || !SAMPLE_STATES.includes(r.state)) return 'state';
  if (typeof r.sample !== 'string' || !SAMPLE_STATES.includes(r.sample)) return 'sample';
  if (r.healthy !== (r.state !== 'unhealthy')) return 'healthy';
  if (!isCount(r.consecutiveFailures)) return 'consecutiveFailures';
  if (!isCount(r.consecutiveSuccesses)) return 'consecutiveSuccesses';
  // Every other time is of an earlier (or the same) check.
  if (r.lastSuccessAt !== null && !isTimeUpTo(r.lastSuccessAt, r.checkedAt)) return 'lastSuccessAt';
  if (r.lastFailureAt !== null && !isTimeUpTo(r.lastFailureAt, r.checkedAt)) return 'lastFailureAt';
  if (!isTimeUpTo(r.lastTransitionAt, r.checkedAt)) return 'lastTransitionAt';
  const history = r.history as Partial<Record<keyof Status['history'], unknown>> | undefined;
  if (
    typeof history !== 'object' ||
    history === null ||
    !isCount(history.samples) ||
    typeof history.uptime !== 'number' ||
    !(history.uptime >= 0 && history.uptime <= 1) ||
    !isDuration(history.latencyP50) ||
    !isDuration(history.latencyP95) ||
    !isSilencedHistory(history)
  ) {
    return 'history';
  }
  if (r.details !== null && !isDetails(r.details)) return 'details';
  return undefined;
}

function build(r: StatusRecord, metadata: RecordMetadata, bounds: RecordBounds | undefined): DecodedStatus {
  const checkedAt = new FrozenDate(r.checkedAt);
  const max = bounds?.maxMessageLength;
  const message = max !== undefined && r.message.length > max ? cleanMessage(r.message, max) : r.message;
  const status: Status = Object.freeze({
    name: r.name,
    healthy: r.healthy,
    message,
    latency: r.latency,
    checkedAt,
    state: r.state,
    stale: false,
    consecutiveFailures: r.consecutiveFailures,
    consecutiveSuccesses: r.consecutiveSuccesses,
    lastSuccessAt: r.lastSuccessAt === null ? undefined : new FrozenDate(r.lastSuccessAt),
    lastFailureAt: r.lastFailureAt === null ? undefined : new FrozenDate(r.lastFailureAt),
    lastTransitionAt: new FrozenDate(r.lastTransitionAt),
    history: Object.freeze({
      samples: r.history.samples,
      uptime: r.history.uptime,
      latencyP50: r.history.latencyP50,
      latencyP95: r.history.latencyP95,
      // A record of an older writer has neither: nothing was silenced.
      uptimeExcludingSilenced: r.history.uptimeExcludingSilenced ?? r.history.uptime,
      silencedSamples: r.history.silencedSamples ?? 0,
    }),
    details: r.details ? Object.freeze({ ...r.details }) : undefined,
    ...metadata,
  });
  const sample: HistorySample = Object.freeze({
    checkedAt,
    latency: r.latency,
    state: r.sample,
    silenced: metadata.silencedBy.length > 0,
  });
  return { status, sample, token: r.token, writtenAt: r.writtenAt, age: r.age ?? 0 };
}

/** The silenced figures of a history: both or neither (an older writer), within the samples. */
function isSilencedHistory(history: Partial<Record<keyof Status['history'], unknown>>): boolean {
  const { uptimeExcludingSilenced: uptime, silencedSamples: samples } = history;
  if (uptime === undefined && samples === undefined) return true;
  return (
    typeof uptime === 'number' &&
    uptime >= 0 &&
    uptime <= 1 &&
    isCount(samples) &&
    samples <= (history.samples as number)
  );
}

/** Epoch ms a `Date` can hold. */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_TIME;
}

function isTimeUpTo(value: unknown, limit: unknown): value is number {
  return isTime(value) && value <= (limit as number);
}

/** ms, at most the longest timer Node.js honours. */
function isDuration(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_DURATION;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A plain object of JSON values nested at most {@link MAX_DETAILS_DEPTH} deep. */
function isDetails(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const within = (item: unknown, depth: number): boolean => {
    if (typeof item !== 'object' || item === null) return true;
    if (depth > MAX_DETAILS_DEPTH) return false;
    return Object.values(item).every((child) => within(child, depth + 1));
  };
  return within(value, 1);
}
