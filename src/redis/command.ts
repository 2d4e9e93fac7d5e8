import { settleOrAbort, timeoutSignal } from '../async.js';
import type { Clock } from '../clock.js';

/** How long one Redis call may take, on which clock. @internal */
export interface CommandLimit {
  readonly clock: Clock;
  /** ms. */
  readonly timeout: number;
}

/**
 * Bounds a Redis call by the limit, so a Redis that hangs (paused, cut off)
 * is treated like one that is down. A late reply or error is discarded,
 * never left unhandled. `keepAlive` for a call a caller awaits. @internal
 */
export async function bounded<T>(
  limit: CommandLimit,
  promise: Promise<T>,
  options: { readonly keepAlive?: boolean } = {},
): Promise<T> {
  promise.catch(() => {});
  const timeout = timeoutSignal(limit.clock, limit.timeout, [], { keepAlive: options.keepAlive });
  try {
    const settled = await settleOrAbort(promise, timeout.signal);
    if (settled.kind === 'value') return settled.value;
    if (settled.kind === 'error') throw settled.error;
    throw new Error(`Redis did not answer within ${limit.timeout} ms`);
  } finally {
    timeout.dispose();
  }
}
