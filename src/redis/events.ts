import type { LeaseRepairKind } from './lease.js';

export type { LeaseRepairKind } from './lease.js';

/**
 * What a replica is doing. `idle`: `run` is not active. `connecting`: run
 * started, no lease decision yet. `leader`: holds the lease, polls, writes.
 * `follower`: mirrors the leader through Redis. `local`: Redis has been
 * unreachable for longer than the lease, so it polls on its own.
 */
export type ReplicaRole = 'idle' | 'connecting' | 'leader' | 'follower' | 'local';

/** A change of role, emitted by `SharedHealthCache.onRoleChange`. */
export interface RoleChange {
  readonly role: ReplicaRole;
  readonly previous: ReplicaRole;
  /** Why, in a few words. */
  readonly reason: string;
  /** The fencing token of the lease, while `leader`. */
  readonly token: number | undefined;
}

/**
 * A status record in Redis that was ignored, emitted (as an error) by
 * `SharedHealthCache.onRedisError`: it is not JSON, too large, has a bad
 * field, or is dated ahead of Redis's clock (or, for a record without
 * `writtenAt`, of this replica's) by more than `maxClockSkew`.
 */
export class BadRecordError extends Error {
  /** The provider the record is about, when known. */
  readonly provider: string | undefined;
  /** What is wrong with it. */
  readonly reason: string;
  /** Where it was read: the status hash (`load`) or the updates channel (`update`). */
  readonly source: 'load' | 'update';

  constructor(provider: string | undefined, reason: string, source: 'load' | 'update') {
    const about = provider === undefined ? '' : ` of ${JSON.stringify(provider.slice(0, 200))}`;
    super(`ignored a status record${about} from Redis: ${reason}`);
    this.name = 'BadRecordError';
    this.provider = provider;
    this.reason = reason;
    this.source = source;
  }
}

/** Whether `error` is a {@link BadRecordError}. */
export function isBadRecordError(error: unknown): error is BadRecordError {
  return error instanceof BadRecordError;
}

/**
 * Garbage in the lease keys that this replica's lease script repaired,
 * emitted by `SharedHealthCache.onLeaseRepair`. `lease-without-expiry`: the
 * lease key had no TTL (it would have stopped every replica from polling);
 * `lease-not-a-string`: it held another type; `token-not-a-number`: the
 * fencing counter was not a whole number (it was rebuilt above every token in use).
 */
export interface LeaseRepair {
  readonly kind: LeaseRepairKind;
  /** The Redis key repaired. */
  readonly key: string;
}

/**
 * What a Redis setup problem is: `cluster-as-single` (a Redis Cluster node
 * given as one server: `redis.cluster` is needed), `unknown-sentinel-master`
 * (no sentinel knows the master name given), `cross-slot` (a script's keys on
 * several slots: keys not built through the one hash tag).
 */
export type RedisSetupKind = 'cluster-as-single' | 'unknown-sentinel-master' | 'cross-slot';

/**
 * A Redis that is not what the options claim, emitted (as an error) by
 * `SharedHealthCache.onRedisError` with a message saying what to change.
 * While it lasts the replica polls on its own (`local`): statuses stay
 * right, only the sharing is lost.
 */
export class RedisSetupError extends Error {
  readonly kind: RedisSetupKind;

  constructor(kind: RedisSetupKind, message: string) {
    super(message);
    this.name = 'RedisSetupError';
    this.kind = kind;
  }
}

/** Whether `error` is a {@link RedisSetupError}. */
export function isRedisSetupError(error: unknown): error is RedisSetupError {
  return error instanceof RedisSetupError;
}
