import type { RedisClient } from './target.js';
import { bounded, type CommandLimit } from './command.js';
import type { SharedKeys } from './keys.js';
import type { Tenure } from './lease.js';
import { LOAD, WRITE } from './scripts.js';
import { WRITE_SHARD } from './shard-scripts.js';

/**
 * One record to write: the provider, its check time (for ordering within a
 * tenure), the JSON, and the ms from the check to now on the writer's clock
 * (for ordering across members when sharded). @internal
 */
export type RecordWrite = readonly [name: string, checkedAt: number, record: string, age?: number];

/** What fences the writes: the one leader's lease, or (sharded) this member's membership. @internal */
export type WriteFence = 'lease' | 'membership';

/** Records read back, with Redis's clock at the read. @internal */
export interface LoadedRecords {
  /** Redis's clock at the read, ms. */
  readonly redisNow: number;
  /** The stored record of each name asked for; `undefined` when there is none. */
  readonly records: ReadonlyMap<string, string | undefined>;
}

/** Names per read script call (Lua's stack bounds the arguments of one call). */
const LOAD_CHUNK = 1_000;

/**
 * The status hash: fenced batch writes under a tenure, and reads of the
 * records of given providers. Every call bounded by the command limit. @internal
 */
export class StatusStore {
  readonly #client: RedisClient;
  readonly #keys: SharedKeys;
  readonly #limit: CommandLimit;
  readonly #fence: WriteFence;

  constructor(client: RedisClient, keys: SharedKeys, limit: CommandLimit, fence: WriteFence = 'lease') {
    this.#client = client;
    this.#keys = keys;
    this.#limit = limit;
    this.#fence = fence;
  }

  /**
   * Writes `records` under `tenure` and publishes the accepted ones (see the
   * write script). `fill`: only records Redis does not hold yet. Returns how
   * many were accepted, or `undefined` when the lease is no longer ours.
   */
  async write(
    tenure: Tenure,
    records: readonly RecordWrite[],
    mode: 'fill' | 'write' = 'write',
  ): Promise<number | undefined> {
    const args: (string | number)[] = [tenure.value, this.#keys.updates, tenure.token, mode];
    const sharded = this.#fence === 'membership';
    for (const [name, checkedAt, record, age = 0] of records) {
      if (sharded) args.push(name, checkedAt, age, record);
      else args.push(name, checkedAt, record);
    }
    const reply = await bounded(
      this.#limit,
      sharded
        ? WRITE_SHARD.run(this.#client, [this.#keys.members, this.#keys.statuses], args)
        : WRITE.run(this.#client, [this.#keys.lease, this.#keys.statuses], args),
    );
    return reply === -1 ? undefined : Number(reply);
  }

  /** The stored records of `names`, with Redis's clock. */
  async load(names: readonly string[]): Promise<LoadedRecords> {
    const records = new Map<string, string | undefined>();
    let redisNow = 0;
    for (let start = 0; start === 0 || start < names.length; start += LOAD_CHUNK) {
      const chunk = names.slice(start, start + LOAD_CHUNK);
      const reply = await bounded(this.#limit, LOAD.run(this.#client, [this.#keys.statuses], chunk));
      if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected reply to the read script');
      const [now, values] = reply as [unknown, unknown];
      redisNow = Number(now);
      chunk.forEach((name, i) => {
        const value: unknown = Array.isArray(values) ? values[i] : undefined;
        records.set(name, typeof value === 'string' ? value : undefined);
      });
    }
    return { redisNow, records };
  }
}
