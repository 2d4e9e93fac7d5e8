import type { Status } from './status.js';

/** Anything holding a provider's current status (the store's entries, mutated in place). */
export interface HasStatus {
  readonly status: Status;
}

/**
 * The store's entries in the registry's sorted order, so that building a
 * snapshot is a linear scan rather than one Map lookup per name (100,000
 * lookups cost far more than the scan). Reindexed, O(n), only when the
 * registry's names array changed (a registration or removal); a first result
 * or a forgotten status only fills or clears its slot, found by binary search. @internal
 */
export class StatusOrder<E extends HasStatus> {
  /** The registry's sorted names when last indexed. */
  #names: readonly string[] = [];
  #slots: (E | undefined)[] = [];

  /** Puts `entry` in (or, with `undefined`, out of) its slot; a name not indexed yet waits for the reindex. */
  place(name: string, entry: E | undefined): void {
    const names = this.#names;
    let low = 0;
    let high = names.length;
    // The registry's order (UTF-16 code units).
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((names[mid] as string) < name) low = mid + 1;
      else high = mid;
    }
    if (names[low] === name) this.#slots[low] = entry;
  }

  /** The frozen statuses in `names` order; `lookup` is used only to reindex after `names` changed. */
  build(names: readonly string[], lookup: (name: string) => E | undefined): readonly Status[] {
    if (names !== this.#names) {
      this.#names = names;
      this.#slots = names.map(lookup);
    }
    const statuses: Status[] = [];
    for (const entry of this.#slots) if (entry !== undefined) statuses.push(entry.status);
    return Object.freeze(statuses);
  }
}
