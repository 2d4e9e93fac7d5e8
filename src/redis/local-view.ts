import type { Disposable } from '../disposable.js';
import { HealthCache } from '../health-cache.js';
import type { HealthCacheOptions } from '../options.js';
import { ProviderRegistry } from '../registry.js';
import type { MirrorTarget } from './mirror.js';

/**
 * This replica's own `HealthCache`, which every read is answered from, and
 * the switch of its poller (on while leading or polling alone). It follows a
 * private copy of the caller's registry, kept in step with it, so that a
 * status whose record was deleted from Redis can be dropped: the provider is
 * unregistered and registered again in the copy (the caller's registry and
 * its listeners never see it). @internal
 */
export class LocalView implements MirrorTarget, Disposable {
  readonly cache: HealthCache;
  readonly #copy = new ProviderRegistry();
  readonly #following: Disposable;
  #polling: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  #stopped: Promise<void> = Promise.resolve();
  readonly #onPollError: (error: unknown) => void;

  constructor(
    registry: ProviderRegistry,
    options: HealthCacheOptions,
    onPollError: (error: unknown) => void,
  ) {
    for (const name of registry.names()) {
      const provider = registry.get(name);
      if (provider !== undefined) this.#copy.register(name, provider);
    }
    this.#following = registry.onChange(({ type, name, provider }) => {
      if (type === 'unregistered') this.#copy.unregister(name);
      else this.#copy.register(name, provider);
    });
    this.cache = new HealthCache(this.#copy, options);
    this.#onPollError = onPollError;
  }

  restore: MirrorTarget['restore'] = (status, sample) => this.cache.restore(status, sample);

  forget(name: string): void {
    const provider = this.#copy.get(name);
    if (provider === undefined) return;
    this.#copy.unregister(name);
    this.#copy.register(name, provider);
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
    this.#following.dispose();
    this.cache.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
