import type { Disposable } from '../disposable.js';
import { HealthCache } from '../health-cache.js';
import type { HealthCacheOptions } from '../options.js';
import type { ProviderRegistry } from '../registry.js';
import type { MirrorTarget } from './mirror.js';

/**
 * This replica's own `HealthCache` over the caller's registry, which every
 * read is answered from, and the switch of its poller (on while leading or
 * polling alone). @internal
 */
export class LocalView implements MirrorTarget, Disposable {
  readonly cache: HealthCache;
  #polling: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  #stopped: Promise<void> = Promise.resolve();
  readonly #onPollError: (error: unknown) => void;

  constructor(
    registry: ProviderRegistry,
    options: HealthCacheOptions,
    onPollError: (error: unknown) => void,
  ) {
    this.cache = new HealthCache(registry, options);
    this.#onPollError = onPollError;
  }

  restore: MirrorTarget['restore'] = (status, sample) => this.cache.restore(status, sample);

  /** Drops a status whose record was deleted from Redis; the provider stays registered and no check starts. */
  forget(name: string): void {
    this.cache.forget(name);
  }

  /** Starts the poller, unless it runs. */
  async startPolling(): Promise<void> {
    if (this.#polling) return;
    await this.#stopped;
    if (this.#polling) return;
    const controller = new AbortController();
    const done = this.cache.run(controller.signal).catch(this.#onPollError);
    this.#polling = { controller, done };
  }

  /** Stops the poller and waits until it has stopped. */
  async stopPolling(): Promise<void> {
    const polling = this.#polling;
    if (polling === undefined) return;
    this.#polling = undefined;
    polling.controller.abort();
    this.#stopped = polling.done;
    await polling.done;
  }

  dispose(): void {
    this.cache.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
