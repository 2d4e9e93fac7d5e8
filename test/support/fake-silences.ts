import type { Disposable, Labels, SilenceSource } from '../../src/index.js';

/**
 * A {@link SilenceSource} a test sets by hand: `silence(name, ids)` or a
 * `byLabels` function decides the answer; `changed()` fires `onChange`.
 */
export class FakeSilences implements SilenceSource {
  readonly #byName = new Map<string, readonly string[]>();
  #listeners: (() => void)[] = [];
  /** Answers from labels (checked after the names). */
  byLabels: (labels: Labels) => readonly string[] = () => [];
  /** How many times `silencedBy` was asked. */
  asked = 0;

  silencedBy(name: string, labels: Labels): readonly string[] {
    this.asked++;
    return this.#byName.get(name) ?? this.byLabels(labels);
  }

  readonly onChange = (listener: () => void): Disposable => {
    this.#listeners.push(listener);
    const dispose = (): void => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
    return { dispose, [Symbol.dispose]: dispose };
  };

  /** The number of subscribers. */
  get listeners(): number {
    return this.#listeners.length;
  }

  /** Sets the ids for `name` (an empty list unsilences it); call {@link changed} to tell the cache. */
  silence(name: string, ids: readonly string[]): void {
    if (ids.length === 0) this.#byName.delete(name);
    else this.#byName.set(name, [...ids].sort());
  }

  changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
