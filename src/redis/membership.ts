import { bounded, type CommandLimit } from './command.js';
import type { SharedKeys } from './keys.js';
import type { Tenure } from './lease.js';
import { HEARTBEAT, JOIN, LEAVE } from './shard-scripts.js';
import type { RedisClient } from './target.js';

/** The most members read from the set; more (garbage, or a misconfigured fleet) are ignored. */
export const MAX_MEMBERS = 1_000;

/** What a membership call learned. @internal */
export interface MemberView {
  /** The live members' replica ids, sorted, without duplicates. */
  readonly members: readonly string[];
}

/** The outcome of {@link Membership.heartbeat}. @internal */
export type Heartbeat = MemberView & { readonly alive: boolean };

/**
 * This replica's membership of a sharded replica set: join (with a fresh
 * fencing token), heartbeat (renew and read the members), leave. Every call
 * is bounded by the command limit. @internal
 */
export class Membership {
  readonly #client: RedisClient;
  readonly #keys: SharedKeys;
  readonly #replicaId: string;
  readonly #ttl: number;
  readonly #limit: CommandLimit;

  constructor(client: RedisClient, keys: SharedKeys, replicaId: string, ttl: number, limit: CommandLimit) {
    this.#client = client;
    this.#keys = keys;
    this.#replicaId = replicaId;
    this.#ttl = ttl;
    this.#limit = limit;
  }

  /** Joins with a new token; the members include us. */
  async join(): Promise<MemberView & { readonly tenure: Tenure }> {
    const { members, token, membership } = this.#keys;
    const reply = await bounded(
      this.#limit,
      JOIN.run(this.#client, [members, token], [this.#replicaId, this.#ttl, membership]),
    );
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected reply to the join script');
    const value = String(reply[0]);
    return {
      tenure: { value, token: Number.parseInt(value, 10) },
      members: memberIds(reply[1]),
    };
  }

  /** Renews our entry; `alive: false` when it had expired (our share went to the others). */
  async heartbeat(tenure: Tenure): Promise<Heartbeat> {
    const reply = await bounded(
      this.#limit,
      HEARTBEAT.run(this.#client, [this.#keys.members], [tenure.value, this.#ttl]),
    );
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new Error('unexpected reply to the heartbeat script');
    return { alive: reply[0] === 1, members: memberIds(reply[1]) };
  }

  /** Leaves at once, if still a member. */
  async leave(tenure: Tenure): Promise<void> {
    await bounded(
      this.#limit,
      LEAVE.run(this.#client, [this.#keys.members], [tenure.value, this.#keys.membership]),
    );
  }
}

/** The replica ids of `<token>:<replicaId>` entries; anything else is ignored. @internal */
export function memberIds(entries: unknown): readonly string[] {
  if (!Array.isArray(entries)) return [];
  const ids = new Set<string>();
  for (const entry of entries.slice(0, MAX_MEMBERS)) {
    if (typeof entry !== 'string') continue;
    const match = /^\d{1,15}:(.{1,200})$/s.exec(entry);
    if (match?.[1] !== undefined) ids.add(match[1]);
  }
  return Object.freeze([...ids].sort());
}
