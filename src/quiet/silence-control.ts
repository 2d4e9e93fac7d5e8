import type { Silence } from './silence.js';
import type { WindowChange } from './maintenance-schedule.js';

/**
 * What the HTTP surface (`/api/silences`) and the CLI need to read and change
 * silences, whether they live in this process (a `SilenceSet` saved to a
 * state file) or in Redis shared by every replica. Writes are async because
 * the shared form goes through Redis.
 */
export interface SilenceControl {
  /** The silences pending and in force, by start time then id. No side effects. */
  list(): readonly Silence[];
  /** The maintenance windows open now. No side effects. */
  openWindows(): readonly WindowChange[];
  /**
   * Validates and adds a silence (see `parseSilenceInput`).
   * @throws OptionTypeError / OptionRangeError naming the bad field; SilenceConflictError; SilenceLimitError.
   */
  add(input: unknown, signal?: AbortSignal): Promise<Silence>;
  /** Ends silence `id` now; `false` when no such silence is pending or in force. */
  expire(id: string, signal?: AbortSignal): Promise<boolean>;
}
