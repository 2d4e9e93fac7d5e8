/**
 * Reloading the config of a running `serve`: what changed between the
 * providers running and those of a freshly prepared {@link Setup}, and
 * applying that to the running registry in an order it accepts. Pure but
 * for {@link applyPlan}, which changes the registry synchronously (so a
 * sweep in flight sees the registry before or after, never halfway).
 */
import { ProviderRegistry } from '../index.js';
import type { ReloadReport } from '../http/reload-route.js';
import type { BuiltProvider } from './providers.js';
import type { Setup } from './setup.js';

/** One provider of the running service, with what a reload compares. */
export interface Installed {
  readonly built: BuiltProvider;
  /**
   * Its config entry without `name`, `labels` and `dependsOn` (or, for a
   * discovered one, its kind and target) as canonical JSON: equal text, same
   * checker settings. May hold secrets: compared, never shown.
   */
  readonly settings: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly dependsOn: readonly string[];
}

/** The running providers by name. */
export type Installation = ReadonlyMap<string, Installed>;

/** What a reload does, in the order {@link applyPlan} does it. */
export interface ReloadPlan {
  /** New names, dependencies first. */
  readonly added: readonly Installed[];
  /** Kept names with a new checker (`changed`) or new labels or dependencies only (`relabelled`), dependencies first. */
  readonly updated: readonly (Installed & { readonly kind: 'changed' | 'relabelled' })[];
  /** Names to unregister, dependents first. */
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
  /** A removed name whose settings came back under an added name. */
  readonly renamed: readonly { readonly from: string; readonly to: string }[];
}

/** The providers of `setup` as the running service holds them; labels and dependencies from its registry. */
export function installationOf(setup: Setup): Map<string, Installed> {
  const entries = new Map((setup.config?.providers ?? []).map((entry) => [entry.name, entry]));
  const installed = new Map<string, Installed>();
  for (const built of setup.providers) {
    const entry = entries.get(built.name);
    const settings =
      entry === undefined
        ? canonicalJSON({ discovered: built.type, target: built.target })
        : canonicalJSON({ ...entry, name: undefined, labels: undefined, dependsOn: undefined });
    installed.set(built.name, {
      built,
      settings,
      labels: setup.registry.labels(built.name),
      dependsOn: setup.registry.dependsOn(built.name),
    });
  }
  return installed;
}

/** Compares the running providers with the next ones. */
export function planReload(current: Installation, next: Installation): ReloadPlan {
  const added: Installed[] = [];
  const updated: (Installed & { kind: 'changed' | 'relabelled' })[] = [];
  const unchanged: string[] = [];
  for (const name of dependencyOrder(next)) {
    const now = current.get(name);
    const then = next.get(name) as Installed;
    if (now === undefined) added.push(then);
    else if (now.settings !== then.settings) updated.push({ ...then, kind: 'changed' });
    else if (!sameLabels(now.labels, then.labels) || !sameNames(now.dependsOn, then.dependsOn)) {
      // The running checker stays (its history and state with it); only labels and dependencies move.
      updated.push({ ...then, built: now.built, kind: 'relabelled' });
    } else unchanged.push(name);
  }
  const gone = new Set([...current.keys()].filter((name) => !next.has(name)));
  const removed = dependencyOrder(current)
    .filter((name) => gone.has(name))
    .reverse();
  return { added, updated, removed, unchanged: unchanged.sort(), renamed: renames(current, removed, added) };
}

/**
 * Applies `plan` to `registry`: additions (dependencies first), then updates
 * (dependencies first, so no intermediate graph has a cycle or a missing
 * name), then removals (dependents first, after nothing left depends on
 * them). The plan is first tried on a copy of the graph, so a plan the
 * registry would refuse halfway changes nothing.
 * @throws DependencyError (from the trial) when the plan cannot be applied.
 */
export function applyPlan(registry: ProviderRegistry, plan: ReloadPlan): void {
  const trial = new ProviderRegistry();
  for (const name of graphOrder(registry)) {
    trial.register(name, {}, { dependsOn: registry.dependsOn(name) });
  }
  apply(trial, plan, () => ({}));
  apply(registry, plan, (installed) => installed.built.checker);
}

function apply(
  registry: ProviderRegistry,
  plan: ReloadPlan,
  provider: (installed: Installed) => object,
): void {
  for (const installed of [...plan.added, ...plan.updated]) {
    const { labels, dependsOn } = installed;
    registry.register(installed.built.name, provider(installed), { labels, dependsOn });
  }
  for (const name of plan.removed) registry.unregister(name);
}

/** The running installation after `plan`: `next`, with the kept checkers of relabelled providers. */
export function installationAfter(plan: ReloadPlan, current: Installation, next: Installation): Installation {
  const result = new Map(next);
  for (const name of plan.unchanged) result.set(name, current.get(name) as Installed);
  for (const installed of plan.updated) result.set(installed.built.name, installed);
  return result;
}

/** The report of a plan (names sorted); `notApplied` as given. */
export function reportOf(plan: ReloadPlan, notApplied: readonly string[]): ReloadReport {
  const names = (list: readonly Installed[]): string[] => list.map((item) => item.built.name).sort();
  return {
    added: names(plan.added),
    removed: [...plan.removed].sort(),
    changed: names(plan.updated),
    unchanged: plan.unchanged,
    renamed: plan.renamed,
    notApplied,
  };
}

/** Keys of the file applied by a reload; every other change needs a restart. */
const RELOADED_KEYS: ReadonlySet<string> = new Set(['providers', 'discover']);
/** Sections whose keys are told apart in the report (`server.port` rather than `server`). */
const DETAILED_SECTIONS: ReadonlySet<string> = new Set(['server', 'redis']);

/**
 * The settings that differ between two versions of the file but are not
 * applied by a reload (`pollInterval`, `server.port`, `notifiers` …), sorted.
 * Only names: a value may be a secret.
 */
export function settingsNeedingRestart(before: Setup['config'], after: Setup['config']): string[] {
  const a = (before ?? {}) as Readonly<Record<string, unknown>>;
  const b = (after ?? {}) as Readonly<Record<string, unknown>>;
  const differing: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (RELOADED_KEYS.has(key)) continue;
    const x = a[key];
    const y = b[key];
    if (DETAILED_SECTIONS.has(key) && isRecord(x ?? {}) && isRecord(y ?? {})) {
      const inner = settingsNeedingRestart(x as Setup['config'], y as Setup['config']);
      differing.push(...inner.map((name) => `${key}.${name}`));
    } else if (canonicalJSON(x) !== canonicalJSON(y)) differing.push(key);
  }
  return differing.sort();
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removed names whose settings reappear under an added name (each paired once, by name order). */
function renames(
  current: Installation,
  removed: readonly string[],
  added: readonly Installed[],
): { from: string; to: string }[] {
  const pairs: { from: string; to: string }[] = [];
  const free = [...added].sort((a, b) => compare(a.built.name, b.built.name));
  for (const from of [...removed].sort()) {
    const settings = current.get(from)?.settings;
    const at = free.findIndex((item) => item.settings === settings);
    if (at === -1) continue;
    pairs.push({ from, to: (free[at] as Installed).built.name });
    free.splice(at, 1);
  }
  return pairs;
}

/** Names with every dependency before its dependents (ties by name); depth-first, O(V + E). */
function dependencyOrder(installation: Installation): string[] {
  return topological([...installation.keys()], (name) => installation.get(name)?.dependsOn ?? []);
}

function graphOrder(registry: ProviderRegistry): string[] {
  return topological(registry.names(), (name) => registry.dependsOn(name));
}

function topological(names: readonly string[], edges: (name: string) => readonly string[]): string[] {
  const known = new Set(names);
  const order: string[] = [];
  const seen = new Set<string>();
  // Iterative, so a long chain of dependencies cannot overflow the stack.
  for (const root of [...names].sort(compare)) {
    const stack: [string, number][] = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [string, number];
      const [name, index] = top;
      if (index === 0) {
        if (seen.has(name)) {
          stack.pop();
          continue;
        }
        seen.add(name);
      }
      const next = edges(name)[index];
      if (next === undefined) {
        order.push(name);
        stack.pop();
      } else {
        top[1] = index + 1;
        if (known.has(next) && !seen.has(next)) stack.push([next, 0]);
      }
    }
  }
  return order;
}

/** JSON with object keys sorted, `undefined` members left out: equal data, equal text. */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => {
    if (member === null || typeof member !== 'object' || Array.isArray(member)) return member;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(member).sort()) sorted[key] = (member as Record<string, unknown>)[key];
    return sorted;
  });
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
