import type { MaintenanceSchedule, WindowChange } from './maintenance-schedule.js';
import type { SilenceControl } from './silence-control.js';
import type { SilenceSet } from './silence-set.js';
import type { Silence } from './silence.js';

const NO_WINDOWS: readonly WindowChange[] = Object.freeze([]);

/**
 * The {@link SilenceControl} of a single process: reads and changes `set`
 * (keep it in a state file with `persistSilences`) and lists the windows of
 * `schedule` open now. Writes are synchronous underneath; an aborted
 * `signal` rejects before anything changes.
 */
export function localSilenceControl(set: SilenceSet, schedule?: MaintenanceSchedule): SilenceControl {
  return Object.freeze({
    list: (): readonly Silence[] => set.list(),
    openWindows: (): readonly WindowChange[] => schedule?.active() ?? NO_WINDOWS,
    add(input: unknown, signal?: AbortSignal): Promise<Silence> {
      return attempt(signal, () => set.add(input));
    },
    expire(id: string, signal?: AbortSignal): Promise<boolean> {
      return attempt(signal, () => set.expire(id));
    },
  });
}

/** Runs `change` unless `signal` has aborted; a throw becomes the rejection. */
async function attempt<T>(signal: AbortSignal | undefined, change: () => T): Promise<T> {
  signal?.throwIfAborted();
  return change();
}
