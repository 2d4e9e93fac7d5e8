import { formatDuration, timeoutSignal } from '../../async.js';
import type { Clock } from '../../clock.js';
import { CheckFailure } from './request.js';

/**
 * The time budget of a request a check can do without: the opt-in ones
 * (Docker `/info`, Kubernetes `livez` and `nodes`, Nomad `autopilot`) and
 * Kubernetes's follow-ups (`/version`, `/readyz?verbose`). Each has a budget
 * of its own besides the check's signal, so one that hangs makes the check
 * `degraded` (the main request already answered) instead of turning it into
 * the check's timeout.
 * @internal
 */

/**
 * How long one opt-in request may take, in ms; each gets its own (they run one
 * after another). 2 s: Podman builds its `/info` by running helper programs,
 * which takes over 1 s on a busy host.
 */
export const OPT_IN_BUDGET = 2_000;

/** How long one of Kubernetes's follow-ups (`/version`, `/readyz?verbose`) may take, in ms. */
export const FOLLOW_UP_BUDGET = 1_000;

/**
 * Runs `run` with a signal that aborts after `ms` (default
 * {@link OPT_IN_BUDGET}) on `clock`, or when `signal` does. When the budget
 * runs out first, rejects with a {@link CheckFailure} saying `no answer
 * within 2 s` (callers name the request); when `signal` aborts, rejects as
 * `run` does (the check's own abort or timeout).
 */
export async function withinBudget<T>(
  clock: Clock,
  signal: AbortSignal,
  run: (signal: AbortSignal) => Promise<T>,
  ms: number = OPT_IN_BUDGET,
): Promise<T> {
  // Awaited by the check, so it keeps the process alive until it fires.
  const budget = timeoutSignal(clock, ms, [signal], { keepAlive: true });
  try {
    return await run(budget.signal);
  } catch (error) {
    if (budget.timedOut && !signal.aborted) throw new CheckFailure(`no answer within ${formatDuration(ms)}`);
    throw error;
  } finally {
    budget.dispose();
  }
}
