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

/** How long one such request may take, in ms; each request gets its own (they run one after another). */
export const OPT_IN_BUDGET = 1_000;

/** The reason given when a request ran out of its budget: `no answer within 1 s`. */
export const NO_ANSWER_IN_BUDGET = `no answer within ${formatDuration(OPT_IN_BUDGET)}`;

/**
 * Runs `run` with a signal that aborts after {@link OPT_IN_BUDGET} ms on
 * `clock`, or when `signal` does. When the budget runs out first, rejects
 * with a {@link CheckFailure} saying {@link NO_ANSWER_IN_BUDGET} (callers
 * name the request); when `signal` aborts, rejects as `run` does (the
 * check's own abort or timeout).
 */
export async function withinBudget<T>(
  clock: Clock,
  signal: AbortSignal,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // Awaited by the check, so it keeps the process alive until it fires.
  const budget = timeoutSignal(clock, OPT_IN_BUDGET, [signal], { keepAlive: true });
  try {
    return await run(budget.signal);
  } catch (error) {
    if (budget.timedOut && !signal.aborted) throw new CheckFailure(NO_ANSWER_IN_BUDGET);
    throw error;
  } finally {
    budget.dispose();
  }
}
