import type { Disposable } from '../disposable.js';
import { TURN_SLICE } from '../turns.js';

/**
 * Rebuilds changed list rows between turns of the event loop, at most
 * {@link TURN_SLICE} ms at a time, so that a request for a new version
 * finds its rows built instead of building them all at once: at 10,000
 * providers a sweep changes every row, and building them in the request
 * held the event loop for 60–130 ms once or twice a second, while every
 * other request waited.
 *
 * Rows are built with the newest status when their turn comes, so a row
 * that changes twice before then is built once. Why `setImmediate` and the
 * real clock: as in `TurnTaker`, a turn is not time passing, and the slice
 * bounds real CPU time on this thread. An immediate keeps the process alive
 * only until the names run out. @internal
 */
export class RowWarmer implements Disposable {
  readonly #build: (name: string) => void;
  readonly #slice: number;
  readonly #names = new Set<string>();
  #scheduled: NodeJS.Immediate | undefined;
  /** Resolves the promise `idle()` handed out, once no name waits. */
  #settleIdle: (() => void) | undefined;
  #idle: Promise<void> | undefined;

  /** `build(name)` builds and keeps `name`'s row (the caller times and caches it). */
  constructor(build: (name: string) => void, slice = TURN_SLICE) {
    this.#build = build;
    this.#slice = slice;
  }

  /** Names waiting for their turn. */
  get pending(): number {
    return this.#names.size;
  }

  /** Builds `name`'s row at a coming turn. */
  add(name: string): void {
    this.#names.add(name);
    this.#scheduled ??= setImmediate(this.#run);
  }

  /** Resolves once no name waits (at once when none does), or when disposed. Never rejects. */
  idle(): Promise<void> {
    if (this.#names.size === 0) return Promise.resolve();
    this.#idle ??= new Promise<void>((resolve) => (this.#settleIdle = resolve));
    return this.#idle;
  }

  /** Forgets `name` (its row was built meanwhile, or it is gone). */
  delete(name: string): void {
    this.#names.delete(name);
  }

  readonly #run = (): void => {
    this.#scheduled = undefined;
    const end = performance.now() + this.#slice;
    for (const name of this.#names) {
      // Deleting the entry being visited is safe while iterating a Set.
      this.#names.delete(name);
      try {
        this.#build(name);
      } catch {
        // The row stays unbuilt: the request that needs it builds it and answers the error there.
      }
      if (performance.now() >= end) break;
    }
    if (this.#names.size > 0) this.#scheduled = setImmediate(this.#run);
    else this.#becameIdle();
  };

  #becameIdle(): void {
    const settle = this.#settleIdle;
    this.#idle = undefined;
    this.#settleIdle = undefined;
    settle?.();
  }

  dispose(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    this.#names.clear();
    this.#becameIdle();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
