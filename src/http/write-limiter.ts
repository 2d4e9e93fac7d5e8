import type { Clock } from '../clock.js';

/**
 * A token bucket for state-changing requests (silence creations and
 * expiries): up to `burst` at once, then one per `interval` ms. A flood from
 * an authorised client gets 429 instead of making every provider's silence
 * state be recomputed thousands of times a second. @internal
 */
export class WriteLimiter {
  readonly #burst: number;
  readonly #interval: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(burst: number, interval: number, clock: Clock) {
    this.#burst = burst;
    this.#interval = interval;
    this.#clock = clock;
    this.#tokens = burst;
    this.#at = clock.now();
  }

  /** Takes a token: `0` when allowed, else the ms until the next token. */
  take(): number {
    const now = this.#clock.now();
    const earned = Math.floor((now - this.#at) / this.#interval);
    if (earned > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + earned);
      this.#at = this.#tokens === this.#burst ? now : this.#at + earned * this.#interval;
    }
    if (this.#tokens > 0) {
      this.#tokens--;
      return 0;
    }
    return this.#at + this.#interval - now;
  }
}
