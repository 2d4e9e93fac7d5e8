import type { Clock, TimerHandle } from '../clock.js';
import type { Status } from '../status.js';

/** What the shard poller drives: the replica's own cache (checks coalesce into its sweeps). @internal */
export interface ShardCheckTarget {
  get(name: string): Status | undefined;
  checkProvider(name: string, signal?: AbortSignal): Promise<unknown>;
}

/**
 * Polls this replica's share when each provider is due: `pollInterval` after
 * its last check, whoever made it (a result mirrored from the previous owner
 * counts). So a provider that moves here is checked when it would have been
 * anyway, not at once: a join or leave costs at most one extra check per
 * moved provider (a check the former owner made before it learned of the
 * change), and none for the providers that stay. Checks due together share
 * one sweep of the cache (its `concurrency` applies). @internal
 */
export class ShardPoller {
  readonly #target: ShardCheckTarget;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #tick: number;
  /** Whether this replica may poll now (a member within its bound). */
  readonly #may: () => boolean;
  #share: ReadonlySet<string> = new Set();
  /** Names this replica is checking, each with the generation it was started in. */
  readonly #inFlight = new Map<string, number>();
  #generation = 0;
  #timer: TimerHandle;
  #running = false;

  constructor(target: ShardCheckTarget, clock: Clock, interval: number, may: () => boolean) {
    this.#target = target;
    this.#clock = clock;
    this.#interval = interval;
    // Lateness is bounded by one tick; a tenth of the interval (25 ms to 1 s) keeps scans cheap.
    this.#tick = Math.min(1_000, Math.max(25, Math.round(interval / 10)));
    this.#may = may;
  }

  /** The providers this replica polls. */
  get share(): ReadonlySet<string> {
    return this.#share;
  }

  /** Replaces the share; newly gained providers are checked when due. */
  setShare(names: ReadonlySet<string>): void {
    this.#share = names;
    if (this.#running) this.#schedule(0);
  }

  /** Whether `name` is being checked by this poller now (its result is this replica's to write). */
  checking(name: string): boolean {
    return this.#inFlight.get(name) === this.#generation;
  }

  /** Starts polling the share. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops polling; checks under way are no longer this poller's (their results are not written). */
  stop(): void {
    this.#running = false;
    this.#generation++;
    this.#inFlight.clear();
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A refresh: checks `names` (`null`: all) of the share now, due or not. */
  checkNow(names: readonly string[] | null): void {
    if (!this.#running || !this.#may()) return;
    for (const name of names ?? this.#share) if (this.#share.has(name)) this.#check(name, true);
  }

  #schedule(delay: number): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#round(), delay);
  }

  #round(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    if (this.#may()) {
      const now = this.#clock.now();
      for (const name of this.#share) {
        const last = this.#target.get(name)?.checkedAt.getTime();
        if (last === undefined || last + this.#interval <= now) this.#check(name, false);
      }
    }
    this.#schedule(this.#tick);
  }

  #check(name: string, force: boolean): void {
    if (this.#inFlight.has(name) && !force) return;
    const generation = this.#generation;
    this.#inFlight.set(name, generation);
    this.#target
      .checkProvider(name)
      .catch(() => {
        // Unregistered meanwhile, or the cache was disposed: nothing to do.
      })
      .finally(() => {
        if (this.#inFlight.get(name) === generation) this.#inFlight.delete(name);
      });
  }
}
