/**
 * The error a checker rejects with when its signal aborts.
 * @internal
 */

/** Whether an abort reason means a timeout (`AbortSignal.timeout`, the cache's check timeout). */
export function isTimeoutReason(reason: unknown): boolean {
  return (reason as { name?: unknown } | null)?.name === 'TimeoutError';
}

/**
 * An error saying that the check on `target` stopped because `signal`
 * aborted: `TimeoutError` for timeouts, `AbortError` otherwise.
 */
export function abortError(signal: AbortSignal, target: string): Error {
  const reason: unknown = signal.reason;
  const timeout = isTimeoutReason(reason);
  const error = new Error(
    timeout ? `timed out: ${target} did not answer in time` : `check of ${target} was aborted`,
    { cause: reason },
  );
  error.name = timeout ? 'TimeoutError' : 'AbortError';
  return error;
}

/** A signal that never aborts, for checks called without one. */
export const NEVER: AbortSignal = new AbortController().signal;
