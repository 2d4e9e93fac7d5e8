/** Something that holds a resource (a listener, a timer) until disposed. */
export interface Disposable {
  /** Releases the resource. Calling it again does nothing. */
  dispose(): void;
  /** The same as {@link Disposable.dispose}, for `using` declarations. */
  [Symbol.dispose](): void;
}

/** Wraps a release function as an idempotent {@link Disposable}. */
export function toDisposable(release: () => void): Disposable {
  let released = false;
  const dispose = (): void => {
    if (released) return;
    released = true;
    release();
  };
  return { dispose, [Symbol.dispose]: dispose };
}
