import type { Clock } from '../clock.js';

/** The answer of {@link RefreshLimiter.acquire}: go ahead, or wait `retryAfter` ms. @internal */
export type RefreshPermit = { readonly ok: true } | { readonly ok: false; readonly retryAfter: number };

/**
 * Allows at most one forced sweep per `interval`, and one forced check of a
 * provider per `interval` (a forced sweep counts as a check of every
 * provider), so refresh endpoints cannot be used to hammer control planes.
 * @internal
 */
export class RefreshLimiter {
  readonly #interval: number;
  readonly #clock: Clock;
  #lastSweep = -Infinity;
  readonly #lastByName = new Map<string, number>();

  constructor(interval: number, clock: Clock) {
    this.#interval = interval;
    this.#clock = clock;
  }

  /** Takes a permit for a sweep (`name` undefined) or for one provider. */
  acquire(name?: string): RefreshPermit {
    const now = this.#clock.now();
    const last =
      name === undefined
        ? this.#lastSweep
        : Math.max(this.#lastSweep, this.#lastByName.get(name) ?? -Infinity);
    const wait = last + this.#interval - now;
    if (wait > 0) return { ok: false, retryAfter: wait };
    if (name === undefined) {
      this.#lastSweep = now;
      // Every provider was just checked: earlier per-provider times no longer matter.
      this.#lastByName.clear();
    } else {
      if (this.#lastByName.size >= 10_000) this.#prune(now);
      this.#lastByName.set(name, now);
    }
    return { ok: true };
  }

  #prune(now: number): void {
    for (const [name, at] of this.#lastByName) {
      if (at + this.#interval <= now) this.#lastByName.delete(name);
    }
  }
}
