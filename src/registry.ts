import { Emitter, type HealthEvent } from './events.js';
import {
  checkDependencies,
  DependencyError,
  NO_LABELS,
  validateDependsOn,
  validateLabels,
  type Labels,
} from './labels.js';
import type { Provider } from './provider.js';

/** The optional third argument of {@link ProviderRegistry.register}. */
export interface RegisterOptions {
  /** Key/value labels with the Kubernetes rules for keys and values (`env: prod`). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** Names of providers this one depends on; they must be registered first. */
  readonly dependsOn?: readonly string[] | undefined;
}

interface Registration {
  readonly provider: Provider;
  readonly labels: Labels;
  readonly dependsOn: readonly string[];
}

const NO_NAMES: readonly string[] = Object.freeze([]);

/** What happened to a registered name. */
export interface RegistryChange {
  /**
   * `registered`: a new name; `replaced`: a new provider under a known name;
   * `relabelled`: the same provider with new labels or dependencies (no new check needed);
   * `unregistered`: gone.
   */
  readonly type: 'registered' | 'replaced' | 'relabelled' | 'unregistered';
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
  readonly #providers = new Map<string, Registration>();
  /** name → the names that depend on it. */
  readonly #dependents = new Map<string, string[]>();
  #sortedNames: readonly string[] | undefined;
  readonly #changes = new Emitter<RegistryChange>((error) => reportListenerError('registry', error));

  /** Fires after every register, replace and unregister. */
  readonly onChange: HealthEvent<RegistryChange> = this.#changes.event;

  /**
   * Registers `provider` under `name`, replacing any provider already there.
   * `options.labels` and `options.dependsOn` organise it (see {@link RegisterOptions}).
   * @throws TypeError for an empty or non-string name, or a provider that is not an object;
   *   OptionTypeError / OptionRangeError naming a bad label or dependency;
   *   DependencyError for a dependency not registered, or one that closes a cycle (named whole).
   */
  register(name: string, provider: Provider, options?: RegisterOptions): void {
    assertProviderName(name);
    if ((typeof provider !== 'object' && typeof provider !== 'function') || provider === null) {
      throw new TypeError(
        `Provider "${name}" must be an object (optionally with healthCheck(signal)), got ${provider === null ? 'null' : typeof provider}`,
      );
    }
    const labels = options?.labels === undefined ? NO_LABELS : validateLabels(options.labels);
    const dependsOn =
      options?.dependsOn === undefined ? NO_NAMES : validateDependsOn(options.dependsOn, name);
    const previous = this.#providers.get(name);
    if (dependsOn.length > 0) this.#checkGraph(name, dependsOn);
    if (
      previous?.provider === provider &&
      sameLabels(previous.labels, labels) &&
      sameNames(previous.dependsOn, dependsOn)
    ) {
      return;
    }
    if (previous) this.#unlink(name, previous.dependsOn);
    this.#providers.set(name, { provider, labels, dependsOn });
    for (const dependency of dependsOn) this.#link(name, dependency);
    if (previous === undefined) this.#sortedNames = undefined;
    const type =
      previous === undefined ? 'registered' : previous.provider === provider ? 'relabelled' : 'replaced';
    this.#changes.emit({ type, name, provider });
  }

  /**
   * Removes the provider registered under `name`; `false` when there was none.
   * @throws DependencyError when other providers still depend on it (unregister them first).
   */
  unregister(name: string): boolean {
    const registration = this.#providers.get(name);
    if (registration === undefined) return false;
    const dependent = this.#dependents.get(name)?.[0];
    if (dependent !== undefined) {
      throw new DependencyError({ kind: 'dependent', provider: dependent, dependency: name });
    }
    this.#unlink(name, registration.dependsOn);
    this.#providers.delete(name);
    this.#sortedNames = undefined;
    this.#changes.emit({ type: 'unregistered', name, provider: registration.provider });
    return true;
  }

  /** The provider registered under `name`. */
  get(name: string): Provider | undefined {
    return this.#providers.get(name)?.provider;
  }

  /** The labels of `name`: an empty frozen object when it has none or is not registered. */
  labels(name: string): Labels {
    return this.#providers.get(name)?.labels ?? NO_LABELS;
  }

  /** The names `name` depends on; empty when none or not registered. */
  dependsOn(name: string): readonly string[] {
    return this.#providers.get(name)?.dependsOn ?? NO_NAMES;
  }

  /** The names that depend on `name`, in registration order; empty when none. */
  dependents(name: string): readonly string[] {
    return this.#dependents.get(name) ?? NO_NAMES;
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

  /**
   * Throws unless every dependency is registered and `name → dependsOn` closes
   * no cycle. Only what `name` reaches is walked (a cycle must pass through
   * it), so registering n providers stays O(n × depth), not O(n²).
   */
  #checkGraph(name: string, dependsOn: readonly string[]): void {
    for (const dependency of dependsOn) {
      if (!this.#providers.has(dependency)) {
        throw new DependencyError({ kind: 'unknown', provider: name, dependency });
      }
    }
    const reachable = new Map<string, readonly string[]>([[name, dependsOn]]);
    const queue = [...dependsOn];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      if (reachable.has(next)) continue;
      const edges = this.#providers.get(next)?.dependsOn ?? NO_NAMES;
      reachable.set(next, edges);
      queue.push(...edges);
    }
    checkDependencies(reachable);
  }

  #link(name: string, dependency: string): void {
    const list = this.#dependents.get(dependency);
    if (list) list.push(name);
    else this.#dependents.set(dependency, [name]);
  }

  #unlink(name: string, dependsOn: readonly string[]): void {
    for (const dependency of dependsOn) {
      const list = this.#dependents.get(dependency);
      if (!list) continue;
      const at = list.indexOf(name);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.#dependents.delete(dependency);
    }
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key] === b[key]);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
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
