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
 * The JSON bodies of the read API, each serialised once per change of the
 * cache or the registry and then served as bytes to every request. @internal
 */
export class ApiBodies implements Disposable {
  readonly #view: HealthView;
  readonly #cache = new BodyCache();
  readonly #subscriptions: Disposable[];

  constructor(view: HealthView) {
    this.#view = view;
    const invalidate = (): void => this.#cache.invalidate();
    this.#subscriptions = [view.onChange(invalidate), view.registry.onChange(invalidate)];
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
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function brief(provider: ProviderJSON): { name: string; state: string; message: string } {
  return { name: provider.name, state: provider.state, message: provider.message };
}
