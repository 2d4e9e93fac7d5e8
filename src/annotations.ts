import type { Labels } from './labels.js';
import type { ProviderRegistry } from './registry.js';
import type { SilenceSource } from './silencing.js';
import type { HealthState, Status } from './status.js';

/**
 * The parts of a status that come from outside its check: the registry's
 * labels and dependencies, the dependencies failing with it (`blockedBy`)
 * and the silences in force (`silencedBy`). Computed at every commit and
 * again when a dependency's failing-ness, a registration or the silences
 * change. The hot path (a check whose annotations did not change) allocates
 * nothing: an unchanged list is the previous array, an empty one the shared
 * frozen `[]`. @internal
 */

/** The shared empty list of names. */
export const NO_NAMES: readonly string[] = Object.freeze([]);

/** What a status carries besides its check's result. */
export interface Annotations {
  readonly labels: Labels;
  readonly dependsOn: readonly string[];
  readonly blockedBy: readonly string[];
  readonly silencedBy: readonly string[];
}

/** Whether a provider in `state` counts as failing for its dependents (and can itself be blocked). */
export function isFailing(state: HealthState | undefined): boolean {
  return state === 'unhealthy' || state === 'stale';
}

/** Whether two name lists hold the same names in the same order. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Computes {@link Annotations} from a registry, an optional silence source and the current statuses. @internal */
export class Annotator {
  readonly #registry: ProviderRegistry;
  readonly #source: SilenceSource | undefined;
  readonly #statusOf: (name: string) => Status | undefined;

  constructor(
    registry: ProviderRegistry,
    source: SilenceSource | undefined,
    statusOf: (name: string) => Status | undefined,
  ) {
    this.#registry = registry;
    this.#source = source;
    this.#statusOf = statusOf;
  }

  /**
   * The annotations of `name` in `state`; each list is `previous`'s own array
   * when unchanged, so a caller can compare by identity.
   */
  compute(name: string, state: HealthState, previous: Annotations | undefined): Annotations {
    const labels = this.#registry.labels(name);
    const dependsOn = this.#registry.dependsOn(name);
    const blockedBy = this.blockedBy(state, dependsOn, previous?.blockedBy ?? NO_NAMES);
    const silencedBy = this.silencedBy(name, labels, previous?.silencedBy ?? NO_NAMES);
    if (
      previous !== undefined &&
      previous.labels === labels &&
      previous.dependsOn === dependsOn &&
      previous.blockedBy === blockedBy &&
      previous.silencedBy === silencedBy
    ) {
      return previous;
    }
    return { labels, dependsOn, blockedBy, silencedBy };
  }

  /**
   * `status` with its annotations recomputed: `status` itself when none
   * changed, else a new frozen status differing only in them.
   */
  reannotate(status: Status): Status {
    const next = this.compute(status.name, status.state, status);
    if (next === status) return status;
    return Object.freeze({ ...status, ...next });
  }

  /**
   * The direct dependencies failing while a provider in `state` fails too;
   * `previous` when it holds the same names (no allocation then).
   */
  blockedBy(
    state: HealthState,
    dependsOn: readonly string[],
    previous: readonly string[],
  ): readonly string[] {
    if (dependsOn.length === 0 || !isFailing(state)) return NO_NAMES;
    // Compare with `previous` first: most commits change nothing and so allocate nothing.
    let matched = 0;
    let same = true;
    for (const dependency of dependsOn) {
      if (!isFailing(this.#statusOf(dependency)?.state)) continue;
      if (previous[matched] !== dependency) same = false;
      matched++;
    }
    if (same && matched === previous.length) return matched === 0 ? NO_NAMES : previous;
    if (matched === 0) return NO_NAMES;
    const failing: string[] = [];
    for (const dependency of dependsOn) {
      if (isFailing(this.#statusOf(dependency)?.state)) failing.push(dependency);
    }
    return Object.freeze(failing);
  }

  /** The source's answer for `name`, as `previous` when equal; `[]` without a source. */
  silencedBy(name: string, labels: Labels, previous: readonly string[]): readonly string[] {
    if (this.#source === undefined) return NO_NAMES;
    const ids = this.#source.silencedBy(name, labels);
    if (sameNames(ids, previous)) return previous;
    if (ids.length === 0) return NO_NAMES;
    return Object.isFrozen(ids) ? ids : Object.freeze([...ids]);
  }
}
