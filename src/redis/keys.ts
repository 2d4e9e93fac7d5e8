/** The Redis keys one group of replicas shares, all under one prefix. @internal */
export interface SharedKeys {
  /** The hash tag every key and channel starts with: `{<prefix>}`. */
  readonly tag: string;
  readonly lease: string;
  readonly token: string;
  readonly statuses: string;
  readonly updates: string;
  readonly refresh: string;
  /** Sorted set of the live members of a sharded replica set (see membership.ts). */
  readonly members: string;
  /** Channel told of every join and leave, so members rebalance at once. */
  readonly membership: string;
  /** Hash of the shared silences, one field per silence id (silence-store.ts). */
  readonly silences: string;
  /** A token changed with every change of `silences`; replicas poll it. */
  readonly silencesVersion: string;
  /** Hash of each provider's history (ring and 24h/7d/30d windows), one field per provider (history-sync.ts). */
  readonly history: string;
}

/**
 * The hash tag of a prefix. Redis Cluster hashes only what is between the
 * first `{` and the next `}`, so every key built here lands on one slot and
 * each Lua script (which may touch several of them) stays on one node.
 * The prefix may not hold braces itself (the `key` option refuses them), so
 * the tag is never empty and never cut short. @internal
 */
export function hashTag(prefix: string): string {
  return `{${prefix}}`;
}

/**
 * A key (or channel) of the replica set under `prefix`: `{<prefix>}:<name>`.
 * The one place keys are built: modules that keep more state in Redis (shared
 * silences, alert state) build theirs with this, so they share the slot. @internal
 */
export function groupKey(prefix: string, name: string): string {
  return `${hashTag(prefix)}:${name}`;
}

/** Derives the shared keys from the `key` option. @internal */
export function sharedKeys(prefix: string): SharedKeys {
  const key = (name: string): string => groupKey(prefix, name);
  return Object.freeze({
    tag: hashTag(prefix),
    lease: key('lease'),
    token: key('token'),
    statuses: key('statuses'),
    updates: key('updates'),
    refresh: key('refresh'),
    members: key('members'),
    membership: key('membership'),
    silences: key('silences'),
    silencesVersion: key('silences:version'),
    history: key('history'),
  });
}
