import type { MaintenanceSchedule } from '../quiet/maintenance-schedule.js';

/**
 * Options of the silences shared through Redis (`SharedHealthCacheOptions.sharedSilences`).
 * Use the same values on every replica.
 */
export interface SharedSilencesOptions {
  /**
   * This replica's maintenance windows (from its config file; every replica
   * reads the same file, so they are not shared through Redis). Default none.
   */
  readonly schedule?: MaintenanceSchedule | undefined;
  /**
   * The most silences pending and in force across the replica set, checked
   * atomically in Redis when one is added. An integer from 1 to 10,000; default 1,000.
   */
  readonly maxSilences?: number | undefined;
}
