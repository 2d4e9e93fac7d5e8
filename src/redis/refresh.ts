import type { RedisClient } from './target.js';
import type { Clock } from '../clock.js';
import type { CheckResult, HealthEvent } from '../events.js';
import { bounded, type CommandLimit } from './command.js';
import type { RedisTrouble } from './trouble.js';

/** The longest refresh request read, in characters. */
const MAX_REQUEST_LENGTH = 1024 * 1024;

/** What the refresh channel needs of the local view. @internal */
export interface RefreshTarget {
  readonly onResult: HealthEvent<CheckResult>;
  names(): readonly string[];
  has(name: string): boolean;
  /** Runs the checks (the leader's own poller). */
  checkNow(): Promise<unknown>;
  checkProvider(name: string): Promise<unknown>;
}

/**
 * Refresh requests between replicas: a follower publishes what it wants
 * checked and waits for the leader's fresh results; the leader runs what
 * it receives. The providers are still called once, not once per replica. @internal
 */
export class RefreshChannel {
  readonly #client: RedisClient;
  readonly #channel: string;
  readonly #target: RefreshTarget;
  readonly #clock: Clock;
  readonly #limit: CommandLimit;
  readonly #trouble: RedisTrouble;

  constructor(
    client: RedisClient,
    channel: string,
    target: RefreshTarget,
    limit: CommandLimit,
    trouble: RedisTrouble,
  ) {
    this.#client = client;
    this.#channel = channel;
    this.#target = target;
    this.#clock = limit.clock;
    this.#limit = limit;
    this.#trouble = trouble;
  }

  /**
   * A follower's refresh: asks the leader to check `names` (`null`: all),
   * then waits until each has a result newer than the request, at most
   * `patience` ms. `false` when none came in time (check locally instead).
   */
  async forward(names: readonly string[] | null, patience: number, signal?: AbortSignal): Promise<boolean> {
    const wanted = new Set(names ?? this.#target.names());
    if (wanted.size === 0) return true;
    const since = this.#clock.now();
    let finish!: (fresh: boolean) => void;
    const fresh = new Promise<boolean>((resolve) => {
      const subscription = this.#target.onResult(({ name, status }) => {
        if (status.checkedAt.getTime() >= since) wanted.delete(name);
        if (wanted.size === 0) finish(true);
      });
      // A caller awaits this: it keeps the process alive.
      const timer = this.#clock.setTimeout(() => finish(false), patience, { keepAlive: true });
      const onAbort = (): void => finish(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      finish = (value) => {
        subscription.dispose();
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
    });
    try {
      await bounded(this.#limit, this.#client.publish(this.#channel, JSON.stringify({ names })), {
        keepAlive: true,
      });
    } catch (error) {
      this.#trouble.failed(error);
      finish(false);
    }
    const answered = await fresh;
    signal?.throwIfAborted();
    return answered;
  }

  /** The leader's side: runs a request received on the channel. Malformed requests are ignored. */
  handle(message: string): void {
    if (message.length > MAX_REQUEST_LENGTH) return;
    let names: unknown;
    try {
      names = (JSON.parse(message) as { names?: unknown } | null)?.names;
    } catch {
      return;
    }
    if (names === null) {
      this.#target.checkNow().catch(() => {});
      return;
    }
    if (!Array.isArray(names)) return;
    for (const name of new Set(names)) {
      if (typeof name === 'string' && this.#target.has(name))
        this.#target.checkProvider(name).catch(() => {});
    }
  }
}
