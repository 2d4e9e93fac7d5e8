import type { LeaseRepairKind } from './lease.js';

export type { LeaseRepairKind } from './lease.js';

/**
 * What a replica is doing. `idle`: `run` is not active. `connecting`: run
 * started, no lease decision yet. `leader`: holds the lease, polls, writes.
 * `follower`: mirrors the leader through Redis. `member` (with `shards`):
 * polls its share of the providers under its own fenced membership and
 * mirrors the rest. `local`: Redis has been unreachable for longer than the
 * lease (or is not what the options claim), so it polls on its own.
 */
export type ReplicaRole = 'idle' | 'connecting' | 'leader' | 'follower' | 'member' | 'local';

/** A change of role, emitted by `SharedHealthCache.onRoleChange`. */
export interface RoleChange {
  readonly role: ReplicaRole;
  readonly previous: ReplicaRole;
  /** Why, in a few words. */
  readonly reason: string;
  /** The fencing token of the lease, while `leader` (or of the membership, while `member`). */
  readonly token: number | undefined;
  /** While `follower`: the replica id of the leader it follows, when known. */
  readonly leader?: string | undefined;
}

/**
 * A change of this replica's share (with `shards`), emitted by
 * `SharedHealthCache.onShareChange`: when a member joins or leaves, or providers are (un)registered.
 */
export interface ShareChange {
  /** Providers this replica polls now. */
  readonly size: number;
  /** Providers registered. */
  readonly total: number;
  /** The live members' replica ids, sorted (this one included). */
  readonly members: readonly string[];
  /** Providers that came to this replica with this change. */
  readonly gained: number;
  /** Providers that went to other members with this change. */
  readonly lost: number;
}

/** What this replica is and does, for a status page or API (`SharedHealthCache.replica`). */
export interface ReplicaDescription {
  /** This replica's id. */
  readonly id: string;
  readonly role: ReplicaRole;
  /** `single`: one leader polls everything; `sharded`: every member polls its share. */
  readonly mode: 'single' | 'sharded';
  /** The fencing token while `leader` or `member`. */
  readonly token: number | undefined;
  /** While `follower`: the leader's replica id, when known. */
  readonly leader: string | undefined;
  /** With `shards`: providers this replica polls, of how many, among which live members. */
  readonly share: { readonly size: number; readonly total: number } | undefined;
  /** With `shards`: the live members' ids, sorted; otherwise `undefined`. */
  readonly members: readonly string[] | undefined;
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
