import type { Redis } from 'ioredis';
import { ACQUIRE, RELEASE, RENEW, WRITE } from './scripts.js';

/** A lease this replica holds: its value in Redis and its fencing token. @internal */
export interface Tenure {
  /** `<token>:<replicaId>`, what the lease key holds while it is ours. */
  readonly value: string;
  /** Grows with every acquisition; tells tenures apart. */
  readonly token: number;
}

/** The outcome of {@link Lease.acquire}. @internal */
export type Acquisition =
  | { readonly acquired: true; readonly tenure: Tenure }
  | {
      readonly acquired: false;
      /** ms until the holder's lease expires unless renewed; -1 without expiry. */ readonly remaining: number;
    };

/** The Redis keys one group of replicas shares, all under one prefix. @internal */
export interface SharedKeys {
  readonly lease: string;
  readonly token: string;
  readonly statuses: string;
  readonly updates: string;
  readonly refresh: string;
}

/** Derives the shared keys from the `key` option. @internal */
export function sharedKeys(prefix: string): SharedKeys {
  return {
    lease: `${prefix}:lease`,
    token: `${prefix}:token`,
    statuses: `${prefix}:statuses`,
    updates: `${prefix}:updates`,
    refresh: `${prefix}:refresh`,
  };
}

/**
 * The leader lease and the fenced writes made under it. Every call is bounded
 * by `timeout`, so a Redis that hangs (paused, cut off) is treated like one
 * that is down. @internal
 */
export class Lease {
  readonly #client: Redis;
  readonly #keys: SharedKeys;
  readonly #replicaId: string;
  readonly #ttl: number;
  readonly #timeout: number;

  constructor(client: Redis, keys: SharedKeys, replicaId: string, ttl: number, timeout: number) {
    this.#client = client;
    this.#keys = keys;
    this.#replicaId = replicaId;
    this.#ttl = ttl;
    this.#timeout = timeout;
  }

  /** Takes the lease when it is free (`SET NX PX` with a new fencing token). */
  async acquire(): Promise<Acquisition> {
    const reply = await this.#call(
      ACQUIRE.run(this.#client, [this.#keys.lease, this.#keys.token], [this.#replicaId, this.#ttl]),
    );
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected reply to the lease script');
    const [taken, detail] = reply as [unknown, unknown];
    if (taken === 1) {
      const value = String(detail);
      return { acquired: true, tenure: { value, token: Number.parseInt(value, 10) } };
    }
    return { acquired: false, remaining: Number(detail) };
  }

  /** Extends the lease by its TTL; `false` when it is no longer ours. */
  async renew(tenure: Tenure): Promise<boolean> {
    return (await this.#call(RENEW.run(this.#client, [this.#keys.lease], [tenure.value, this.#ttl]))) === 1;
  }

  /** Gives the lease up if it is still ours. */
  async release(tenure: Tenure): Promise<boolean> {
    return (await this.#call(RELEASE.run(this.#client, [this.#keys.lease], [tenure.value]))) === 1;
  }

  /**
   * Writes `records` (name, checkedAt, encoded record) to the status hash and
   * publishes the accepted ones. Returns how many were accepted, or `undefined`
   * when the lease is no longer ours and nothing was written.
   */
  async write(
    tenure: Tenure,
    records: readonly (readonly [name: string, checkedAt: number, record: string])[],
  ): Promise<number | undefined> {
    const args: (string | number)[] = [tenure.value, this.#keys.updates];
    for (const [name, checkedAt, record] of records) args.push(name, checkedAt, record);
    const reply = await this.#call(WRITE.run(this.#client, [this.#keys.lease, this.#keys.statuses], args));
    return reply === -1 ? undefined : Number(reply);
  }

  /** Every stored record, by provider name. */
  async load(): Promise<Record<string, string>> {
    return await this.#call(this.#client.hgetall(this.#keys.statuses));
  }

  /** Asks the leader to check `names` now (`null`: every provider). */
  async requestRefresh(names: readonly string[] | null): Promise<void> {
    await this.#call(this.#client.publish(this.#keys.refresh, JSON.stringify({ names })));
  }

  /** Bounds a command by the timeout; a late reply or error is discarded, never left unhandled. */
  #call<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.#timeout} ms`)),
        this.#timeout,
      );
      timer.unref();
    });
    promise.catch(() => {});
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
