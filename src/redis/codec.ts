import type { HistorySample } from '../history.js';
import { FrozenDate, type Status } from '../status.js';

/** The raw result of one check, before thresholds. */
type SampleState = HistorySample['state'];

/**
 * One provider's status as stored in the Redis hash and published to the
 * other replicas: JSON, times as epoch milliseconds. `token` and `checkedAt`
 * are read by the write script to refuse a record from an older lease or an
 * older check. @internal
 */
export interface StatusRecord {
  readonly v: 1;
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
  readonly history: Status['history'];
  readonly details: Readonly<Record<string, unknown>> | null;
}

/** A record read back from Redis. @internal */
export interface DecodedStatus {
  readonly status: Status;
  readonly sample: HistorySample;
  readonly token: number;
}

const SAMPLE_STATES: readonly string[] = ['healthy', 'degraded', 'unhealthy'];

/**
 * Encodes a fresh (not stale) status. `details` that JSON cannot carry
 * (a BigInt, a cycle) are dropped rather than failing the write. @internal
 */
export function encodeStatus(status: Status, token: number, sample: SampleState): string {
  if (status.state === 'stale') throw new TypeError(`cannot share the stale status of ${status.name}`);
  const record: StatusRecord = {
    v: 1,
    token,
    name: status.name,
    healthy: status.healthy,
    message: status.message,
    latency: status.latency,
    checkedAt: status.checkedAt.getTime(),
    state: status.state,
    sample,
    consecutiveFailures: status.consecutiveFailures,
    consecutiveSuccesses: status.consecutiveSuccesses,
    lastSuccessAt: status.lastSuccessAt?.getTime() ?? null,
    lastFailureAt: status.lastFailureAt?.getTime() ?? null,
    lastTransitionAt: status.lastTransitionAt.getTime(),
    history: status.history,
    details: status.details ?? null,
  };
  try {
    return JSON.stringify(record);
  } catch {
    return JSON.stringify({ ...record, details: null });
  }
}

/**
 * Validates a parsed record and rebuilds a frozen {@link Status}. Returns a
 * message naming the first bad field instead of throwing, so one bad record
 * never stops a replica from reading the others. @internal
 */
export function decodeStatus(value: unknown): DecodedStatus | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'record is not an object';
  const r = value as Partial<Record<keyof StatusRecord, unknown>>;
  if (r.v !== 1) return `unsupported record version ${JSON.stringify(r.v)}`;
  if (typeof r.name !== 'string' || r.name.length === 0) return 'record has no name';
  const bad = (field: string): string => `record of ${JSON.stringify(r.name)} has an invalid \`${field}\``;
  if (!isCount(r.token)) return bad('token');
  if (typeof r.healthy !== 'boolean') return bad('healthy');
  if (typeof r.message !== 'string') return bad('message');
  if (!isTime(r.latency)) return bad('latency');
  if (!isTime(r.checkedAt)) return bad('checkedAt');
  if (typeof r.state !== 'string' || !SAMPLE_STATES.includes(r.state)) return bad('state');
  if (typeof r.sample !== 'string' || !SAMPLE_STATES.includes(r.sample)) return bad('sample');
  if (!isCount(r.consecutiveFailures)) return bad('consecutiveFailures');
  if (!isCount(r.consecutiveSuccesses)) return bad('consecutiveSuccesses');
  if (r.lastSuccessAt !== null && !isTime(r.lastSuccessAt)) return bad('lastSuccessAt');
  if (r.lastFailureAt !== null && !isTime(r.lastFailureAt)) return bad('lastFailureAt');
  if (!isTime(r.lastTransitionAt)) return bad('lastTransitionAt');
  const history = r.history as Partial<Record<keyof Status['history'], unknown>> | undefined;
  if (
    typeof history !== 'object' ||
    history === null ||
    !isCount(history.samples) ||
    !isTime(history.uptime) ||
    !isTime(history.latencyP50) ||
    !isTime(history.latencyP95)
  ) {
    return bad('history');
  }
  if (r.details !== null && (typeof r.details !== 'object' || Array.isArray(r.details)))
    return bad('details');

  const checkedAt = new FrozenDate(r.checkedAt);
  const status: Status = Object.freeze({
    name: r.name,
    healthy: r.healthy,
    message: r.message,
    latency: r.latency,
    checkedAt,
    state: r.state as SampleState,
    stale: false,
    consecutiveFailures: r.consecutiveFailures,
    consecutiveSuccesses: r.consecutiveSuccesses,
    lastSuccessAt: r.lastSuccessAt === null ? undefined : new FrozenDate(r.lastSuccessAt),
    lastFailureAt: r.lastFailureAt === null ? undefined : new FrozenDate(r.lastFailureAt),
    lastTransitionAt: new FrozenDate(r.lastTransitionAt),
    history: Object.freeze({
      samples: history.samples,
      uptime: history.uptime,
      latencyP50: history.latencyP50,
      latencyP95: history.latencyP95,
    }),
    details: r.details ? Object.freeze({ ...(r.details as Record<string, unknown>) }) : undefined,
  });
  const sample: HistorySample = Object.freeze({
    checkedAt,
    latency: r.latency,
    state: r.sample as SampleState,
  });
  return { status, sample, token: r.token };
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
