import type { Clock } from '../clock.js';
import { scrubError } from './connection.js';
import { BadRecordError } from './events.js';

/** At most this many distinct problems are remembered (and so reported) at once. */
const MAX_REMEMBERED = 64;

/**
 * Keeps track of Redis's health for one replica and reports each distinct
 * problem once: a connection or command error once per outage (until Redis
 * answers again), a bad record once until that provider's record is good
 * again or gone. Everything reported is scrubbed of credentials. @internal
 */
export class RedisTrouble {
  readonly #clock: Clock;
  readonly #secrets: readonly string[];
  readonly #emit: (error: Error) => void;
  readonly #outage = new Set<string>();
  readonly #badRecords = new Map<string, string>();
  #downSince: number | undefined;

  constructor(clock: Clock, secrets: readonly string[], emit: (error: Error) => void) {
    this.#clock = clock;
    this.#secrets = secrets;
    this.#emit = emit;
  }

  /** Since when Redis has not answered; `undefined` while it does. */
  get downSince(): number | undefined {
    return this.#downSince;
  }

  /** A connection closed: Redis is down from now, unless already. */
  disconnected(): void {
    this.#downSince ??= this.#clock.now();
  }

  /** A call failed or a connection reported an error. */
  failed(error: unknown): void {
    this.disconnected();
    this.report(error);
  }

  /** A call answered: the outage (if any) is over. */
  answered(): void {
    this.#downSince = undefined;
    this.#outage.clear();
  }

  /** Reports `error` unless the same message was already reported during this outage. */
  report(error: unknown): void {
    const scrubbed = scrubError(error, this.#secrets);
    if (this.#outage.has(scrubbed.message) || this.#outage.size >= MAX_REMEMBERED) return;
    this.#outage.add(scrubbed.message);
    this.#emit(scrubbed);
  }

  /** Reports a bad record, once until {@link RedisTrouble.recordGood} for that provider. */
  badRecord(provider: string | undefined, reason: string, source: 'load' | 'update'): void {
    const key = provider ?? '';
    if (this.#badRecords.get(key) === reason || this.#badRecords.size >= MAX_REMEMBERED) return;
    this.#badRecords.set(key, reason);
    this.#emit(new BadRecordError(provider, scrubError(reason, this.#secrets).message, source));
  }

  /** The record of `provider` is good again (or gone). */
  recordGood(provider: string): void {
    this.#badRecords.delete(provider);
  }
}
