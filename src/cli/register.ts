/**
 * Registering providers so that every dependency comes before what depends
 * on it (the registry refuses a `dependsOn` naming a provider not yet
 * registered), and choosing the providers a selector picks.
 */
import type { ProviderRegistry } from '../index.js';
import type { Selector } from '../selector.js';
import type { BuiltProvider } from './providers.js';

/**
 * The providers in an order the registry accepts: dependencies first, and
 * otherwise by name (Kahn's algorithm, O(V + E)). Providers in a cycle or
 * depending on an unknown name come last, in name order: registering them
 * then throws the registry's own `DependencyError`, which names the problem.
 */
export function dependencyOrder(providers: readonly BuiltProvider[]): BuiltProvider[] {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const provider of providers) {
    const known = (provider.dependsOn ?? []).filter((name) => byName.has(name));
    waiting.set(provider.name, known.length);
    for (const dependency of known) {
      const list = dependents.get(dependency);
      if (list) list.push(provider.name);
      else dependents.set(dependency, [provider.name]);
    }
  }
  const ready = [...waiting].filter(([, count]) => count === 0).map(([name]) => name);
  const order: BuiltProvider[] = [];
  const done = new Set<string>();
  while (ready.length > 0) {
    // Small lists: a sort per round keeps the order stable and readable.
    ready.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const name = ready.pop() as string;
    done.add(name);
    order.push(byName.get(name) as BuiltProvider);
    for (const dependent of dependents.get(name) ?? []) {
      const left = (waiting.get(dependent) ?? 1) - 1;
      waiting.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  const rest = providers.filter((provider) => !done.has(provider.name));
  rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...order, ...rest];
}

/**
 * Registers `providers` with their labels and dependencies, dependencies first.
 * @throws what the registry throws (a `DependencyError`, a label error), for the caller to place.
 */
export function registerAll(
  registry: ProviderRegistry,
  providers: readonly BuiltProvider[],
  onError: (provider: BuiltProvider, error: unknown) => unknown = (_provider, error) => error,
): void {
  for (const provider of dependencyOrder(providers)) {
    try {
      registry.register(provider.name, provider.checker, {
        labels: provider.labels,
        dependsOn: provider.dependsOn,
      });
    } catch (error) {
      throw onError(provider, error);
    }
  }
}

/**
 * The providers `selector` picks, plus every provider they depend on
 * (directly or not), so that `blocked_by` can still be told; `picked` holds
 * the names the selector itself matched.
 */
export function selectProviders(
  providers: readonly BuiltProvider[],
  selector: Selector,
): { readonly providers: BuiltProvider[]; readonly picked: ReadonlySet<string> } {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  const picked = new Set(
    providers.filter((provider) => selector.matches(provider.labels)).map((provider) => provider.name),
  );
  const needed = new Set(picked);
  const queue = [...picked];
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      if (needed.has(dependency) || !byName.has(dependency)) continue;
      needed.add(dependency);
      queue.push(dependency);
    }
  }
  return { providers: providers.filter((provider) => needed.has(provider.name)), picked };
}
