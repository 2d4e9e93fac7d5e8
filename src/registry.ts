import { Emitter, type HealthEvent } from './events.js';
import type { Provider } from './provider.js';

/** What happened to a registered name. */
export interface RegistryChange {
  /** `registered`: a new name; `replaced`: a new provider under a known name; `unregistered`: gone. */
  readonly type: 'registered' | 'replaced' | 'unregistered';
  readonly name: string;
  /** The provider now registered, or the one removed. */
  readonly provider: Provider;
}

/** Throws a `TypeError` naming the problem unless `name` is a non-empty string. */
export function assertProviderName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new TypeError(`Provider name must be a non-empty string, got ${typeof name}`);
  }
  if (name.length === 0) throw new TypeError('Provider name must be a non-empty string, got ""');
}

/**
 * The set of providers to watch, by name. A {@link HealthCache} follows its
 * changes: new and replaced providers are checked promptly, removed ones are
 * dropped from the cache.
 */
export class ProviderRegistry {
  readonly #providers = new Map<string, Provider>();
  #sortedNames: readonly string[] | undefined;
  readonly #changes = new Emitter<RegistryChange>((error) => reportListenerError('registry', error));

  /** Fires after every register, replace and unregister. */
  readonly onChange: HealthEvent<RegistryChange> = this.#changes.event;

  /**
   * Registers `provider` under `name`, replacing any provider already there.
   * @throws TypeError for an empty or non-string name, or a provider that is not an object.
   */
  register(name: string, provider: Provider): void {
    assertProviderName(name);
    if ((typeof provider !== 'object' && typeof provider !== 'function') || provider === null) {
      throw new TypeError(
        `Provider "${name}" must be an object (optionally with healthCheck(signal)), got ${provider === null ? 'null' : typeof provider}`,
      );
    }
    const previous = this.#providers.get(name);
    if (previous === provider) return;
    this.#providers.set(name, provider);
    if (previous === undefined) this.#sortedNames = undefined;
    this.#changes.emit({ type: previous === undefined ? 'registered' : 'replaced', name, provider });
  }

  /** Removes the provider registered under `name`; `false` when there was none. */
  unregister(name: string): boolean {
    const provider = this.#providers.get(name);
    if (provider === undefined) return false;
    this.#providers.delete(name);
    this.#sortedNames = undefined;
    this.#changes.emit({ type: 'unregistered', name, provider });
    return true;
  }

  /** The provider registered under `name`. */
  get(name: string): Provider | undefined {
    return this.#providers.get(name);
  }

  /** Whether a provider is registered under `name`. */
  has(name: string): boolean {
    return this.#providers.has(name);
  }

  /** The number of registered providers. */
  get size(): number {
    return this.#providers.size;
  }

  /** Every registered name, sorted; the same frozen array until a name is added or removed. */
  names(): readonly string[] {
    this.#sortedNames ??= Object.freeze([...this.#providers.keys()].sort(compareNames));
    return this.#sortedNames;
  }
}

/** Orders names by UTF-16 code units: stable across locales, as Go's `sort.Strings` would. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** @internal */
export function reportListenerError(source: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`A provider-health ${source} listener threw: ${message}`, 'ProviderHealthWarning');
}
