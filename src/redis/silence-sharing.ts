import type { Clock } from '../clock.js';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import { followRecovery } from '../quiet/follow-recovery.js';
import { MaintenanceSchedule } from '../quiet/maintenance-schedule.js';
import { DEFAULT_MAX_SILENCES, MAX_SILENCES, SilenceSet } from '../quiet/silence-set.js';
import { createSilenceSource } from '../quiet/silence-source.js';
import type { SilenceSource } from '../silencing.js';
import { numberOption, optionTypeError } from '../validate.js';
import type { SharedKeys } from './keys.js';
import type { SharedHealthCacheOptions } from './options.js';
import type { SharedSilencesOptions } from './silence-options.js';
import type { BadSilenceRecordError } from './silence-record.js';
import { SharedSilences } from './silence-sync.js';

/** What the façade gives the shared silences. @internal */
export interface SilenceSharingParts {
  readonly clock: Clock;
  readonly keys: SharedKeys;
  readonly commandTimeout: number;
  readonly report: (error: unknown) => void;
  readonly badRecord: (error: BadSilenceRecordError) => void;
  readonly scrub: (error: unknown) => Error;
}

/**
 * The shared silences of one replica: the control (writes through Redis),
 * the local copy of the set, and the silence source its cache reads (the
 * set plus this replica's maintenance windows). @internal
 */
export interface SilenceSharing extends Disposable {
  readonly control: SharedSilences;
  readonly set: SilenceSet;
  readonly source: SilenceSource;
  /** Ends `endsOnRecovery` silences when their providers recover in `view` (and so in Redis). */
  follow(view: HealthView): void;
}

/**
 * Validates `sharedSilences` and builds the parts; `undefined` when it is off.
 * @throws OptionTypeError / OptionRangeError naming `sharedSilences…`; also
 *   when `silences` (a silence source of one process) is given too.
 */
export function createSilenceSharing(
  options: SharedHealthCacheOptions,
  parts: SilenceSharingParts,
): SilenceSharing | undefined {
  const resolved = resolveSilenceOptions(options);
  if (resolved === undefined) return undefined;
  const { clock } = parts;
  const set = new SilenceSet({ clock, maxSilences: resolved.maxSilences });
  const source = createSilenceSource({ silences: set, schedule: resolved.schedule, clock });
  const control = new SharedSilences({
    ...parts,
    set,
    schedule: resolved.schedule,
    maxSilences: resolved.maxSilences,
  });
  let recovery: Disposable | undefined;
  return {
    control,
    set,
    source,
    follow(view) {
      recovery ??= followRecovery(set, view);
    },
    dispose() {
      recovery?.dispose();
      control.dispose();
      source.dispose();
      set.dispose();
    },
    [Symbol.dispose]() {
      this.dispose();
    },
  };
}

interface ResolvedSilenceOptions {
  readonly schedule: MaintenanceSchedule | undefined;
  readonly maxSilences: number;
}

function resolveSilenceOptions(options: SharedHealthCacheOptions): ResolvedSilenceOptions | undefined {
  const value: unknown = options.sharedSilences;
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw optionTypeError('sharedSilences', 'true, false or an object', value);
  if (options.silences !== undefined) {
    throw optionTypeError(
      'silences',
      'left out with `sharedSilences` (which builds the silence source; give maintenance windows as `sharedSilences.schedule`)',
      options.silences,
    );
  }
  const given: SharedSilencesOptions = value === true ? {} : value;
  const { schedule } = given;
  if (schedule !== undefined && !(schedule instanceof MaintenanceSchedule))
    throw optionTypeError('sharedSilences.schedule', 'a MaintenanceSchedule', schedule);
  const maxSilences = numberOption('sharedSilences.maxSilences', given.maxSilences, DEFAULT_MAX_SILENCES, {
    integer: true,
    min: 1,
    max: MAX_SILENCES,
  });
  return { schedule, maxSilences };
}
