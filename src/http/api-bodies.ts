import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import { BodyCache, type CachedBody } from './body-cache.js';
import {
  allHistoryToJSON,
  historyToJSON,
  providersToJSON,
  providerToJSON,
  type ProviderJSON,
} from './provider-json.js';

/**
 * The JSON bodies of the read API, each serialised once per published
 * version and then served as bytes (and compressed forms) to every request.
 *
 * A new version is published at the first change after a quiet
 * `interval`, and then at most once per `interval` while statuses keep
 * changing (a sweep of 10,000 providers changes them 10,000 times): bodies
 * trail the newest results by at most `interval`. Registrations and
 * removals publish at once. @internal
 */
export class ApiBodies implements Disposable {
  readonly #view: HealthView;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #cache = new BodyCache();
  readonly #subscriptions: Disposable[];
  #published = -Infinity;
  #timer: TimerHandle;
  #pending = false;

  constructor(view: HealthView, clock: Clock, interval: number) {
    this.#view = view;
    this.#clock = clock;
    this.#interval = interval;
    this.#subscriptions = [
      view.onChange(() => this.#changed()),
      view.registry.onChange(() => this.#publish()),
    ];
  }

  /** Publishes a pending change now (an event stream's snapshot must not miss one). */
  flush(): void {
    if (this.#pending) this.#publish();
  }

  #publish(): void {
    if (this.#pending) this.#clock.clearTimeout(this.#timer);
    this.#pending = false;
    this.#cache.invalidate();
    this.#published = this.#clock.now();
  }

  #changed(): void {
    if (this.#pending) return;
    const wait = this.#published + this.#interval - this.#clock.now();
    if (wait <= 0) return this.#publish();
    this.#pending = true;
    // A background timer: nobody awaits it, so it must not keep the process alive.
    this.#timer = this.#clock.setTimeout(() => this.#publish(), wait);
  }

  /** `GET /api/providers`. */
  providers(): CachedBody {
    return this.#cache.get('providers', () => ({ status: 200, value: providersToJSON(this.#view) }));
  }

  /** `GET /api/providers/{name}`; the caller checked that `name` is registered. */
  provider(name: string): CachedBody {
    return this.#cache.get(`provider:${name}`, () => ({
      status: 200,
      value: providerToJSON(this.#view, name),
    }));
  }

  /** `GET /api/providers/{name}/history`; the caller checked that `name` is registered. */
  history(name: string): CachedBody {
    return this.#cache.get(`history:${name}`, () => ({
      status: 200,
      value: { name, samples: historyToJSON(this.#view, name) },
    }));
  }

  /** `GET /api/history`. */
  allHistory(): CachedBody {
    return this.#cache.get('history', () => ({ status: 200, value: allHistoryToJSON(this.#view) }));
  }

  /** `GET /api/health` for `asked` (sorted, unique, registered; empty for every provider). */
  health(asked: readonly string[]): CachedBody {
    // JSON, not a join: names may hold any character, the separator included.
    const key = asked.length === 0 ? 'health' : `health:${JSON.stringify(asked)}`;
    return this.#cache.get(key, () => {
      const names = asked.length === 0 ? this.#view.registry.names() : asked;
      const providers = names.map((name) => providerToJSON(this.#view, name));
      const notHealthy = providers.filter((p) => !p.healthy).map(brief);
      const degraded = providers.filter((p) => p.state === 'degraded').map(brief);
      const healthy = notHealthy.length === 0;
      return {
        status: healthy ? 200 : 503,
        value: { healthy, providers: providers.length, not_healthy: notHealthy, degraded },
      };
    });
  }

  dispose(): void {
    for (const subscription of this.#subscriptions) subscription.dispose();
    if (this.#pending) this.#clock.clearTimeout(this.#timer);
    this.#pending = false;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function brief(provider: ProviderJSON): { name: string; state: string; message: string } {
  return { name: provider.name, state: provider.state, message: provider.message };
}
