import type { HealthEvent } from '../events.js';
import type { AlertEngineState, AlertStateStore } from './state.js';

/**
 * Who may send, and where the alert state lives, when several replicas
 * share one view (shared mode). {@link Alerting} runs its engine and
 * delivers only while {@link term} names a term (this replica leads), with
 * the store {@link open} returns for that term; when the term ends it stops
 * at once (what it had not delivered stays in the saved outbox for the next
 * leader). `provider-health/redis` has one under the lease's fencing token
 * (`redisAlertCoordinator`).
 */
export interface AlertCoordinator {
  /** Fires when {@link term} may have changed (a role change). */
  readonly onChange: HealthEvent<unknown>;
  /** A token naming the current term while this replica may send; `undefined` otherwise. */
  term(): number | undefined;
  /**
   * Loads the state saved under any earlier term and returns the store of
   * term `token`: its saves are refused (`AlertStateFencedError`) once a
   * later term began.
   */
  open(token: number, signal: AbortSignal): Promise<AlertStateStore>;
  /** The last saved state, so replicas that do not lead can answer `firing()`. Optional. */
  peek?(signal: AbortSignal): Promise<AlertEngineState | undefined>;
}
