import type { RedisClient } from './target.js';
import { bounded, type CommandLimit } from './command.js';
import type { SharedKeys } from './keys.js';
import { ACQUIRE, RELEASE, RENEW } from './scripts.js';

export { sharedKeys, type SharedKeys } from './keys.js';

/** A lease this replica holds: its value in Redis and its fencing token. @internal */
export interface Tenure {
  /** `<token>:<replicaId>`, what the lease key holds while it is ours. */
  readonly value: string;
  /** Grows with every acquisition; tells tenures apart. */
  readonly token: number;
}

/** Garbage found in the lease keys and repaired by the acquire script. */
export type LeaseRepairKind = 'lease-without-expiry' | 'lease-not-a-string' | 'token-not-a-number';

const REPAIRS: readonly string[] = ['lease-without-expiry', 'lease-not-a-string', 'token-not-a-number'];

/** The outcome of {@link Lease.acquire}. @internal */
export type Acquisition = (
  | { readonly acquired: true; readonly tenure: Tenure }
  | {
      readonly acquired: false;
      /** ms until the holder's lease expires unless renewed. */
      readonly remaining: number;
      /** The holder's replica id, when the lease value is well formed. */
      readonly holder: string | undefined;
    }
) & { readonly repairs: readonly LeaseRepairKind[] };

/**
 * The leader lease, and nothing else: acquire, renew, release. Every call is
 * bounded by the command limit on the injected clock. @internal
 */
export class Lease {
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

  /** Takes the lease when it is free (`SET NX PX` with a new fencing token), repairing garbage keys first. */
  async acquire(): Promise<Acquisition> {
    const { lease, token, statuses } = this.#keys;
    const reply = await bounded(
      this.#limit,
      ACQUIRE.run(this.#client, [lease, token, statuses], [this.#replicaId, this.#ttl]),
    );
    if (!Array.isArray(reply) || reply.length < 3) throw new Error('unexpected reply to the lease script');
    const [taken, detail, fixed, held] = reply as [unknown, unknown, unknown, unknown];
    const repairs = (Array.isArray(fixed) ? fixed : []).filter((kind): kind is LeaseRepairKind =>
      REPAIRS.includes(String(kind)),
    );
    if (taken === 1) {
      const value = String(detail);
      return { acquired: true, tenure: { value, token: Number.parseInt(value, 10) }, repairs };
    }
    // A holder always has an expiry (the script removes one without); be safe anyway.
    const remaining = Number(detail);
    const holder = typeof held === 'string' ? /^\d{1,15}:(.{1,200})$/s.exec(held)?.[1] : undefined;
    return { acquired: false, remaining: remaining >= 0 ? remaining : this.#ttl, repairs, holder };
  }

  /** Extends the lease by its TTL; `false` when it is no longer ours. */
  async renew(tenure: Tenure): Promise<boolean> {
    const reply = await bounded(
      this.#limit,
      RENEW.run(this.#client, [this.#keys.lease], [tenure.value, this.#ttl]),
    );
    return reply === 1;
  }

  /** Gives the lease up if it is still ours. */
  async release(tenure: Tenure): Promise<boolean> {
    return (await bounded(this.#limit, RELEASE.run(this.#client, [this.#keys.lease], [tenure.value]))) === 1;
  }
}
