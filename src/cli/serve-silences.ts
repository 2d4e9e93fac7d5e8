/**
 * The silences and maintenance windows of `serve`. In single mode: a
 * `SilenceSet` loaded from `state.file` (a corrupt or unreadable file is
 * logged with its path and moved aside, and the server starts without it)
 * and saved after every change, the config's maintenance windows, the
 * silence source the cache reads, `endsOnRecovery` followed, and the control
 * `/api/silences` uses. In shared mode the Redis cache keeps the silences
 * (`sharedSilences`); this module gives it the windows and logs.
 */
import { isStateFileCorruptError, isStateVersionError, type FileStateStore } from '../state/index.js';
import type { HealthView, SilenceSource } from '../index.js';
import { toDisposable, type Disposable } from '../disposable.js';
import { followRecovery } from '../quiet/follow-recovery.js';
import { localSilenceControl } from '../quiet/local-silence-control.js';
import { MaintenanceSchedule, type WindowChange } from '../quiet/maintenance-schedule.js';
import type { SilenceControl } from '../quiet/silence-control.js';
import { SilenceSet, type SilenceExpiry } from '../quiet/silence-set.js';
import { loadSilences, persistSilences, type PersistHandle } from '../quiet/silence-store.js';
import { createSilenceSource } from '../quiet/silence-source.js';
import type { Silence } from '../quiet/silence.js';
import type { SharedSilencesOptions } from '../redis/silence-options.js';
import type { Logger } from './logger.js';
import type { Setup } from './setup.js';

/** At most this many skipped entries of a state file are logged one by one; the rest are counted. */
const MAX_SKIPPED_LOGGED = 10;

/** What `serve` wires: the cache's source, the handler's control, and what to follow and stop. */
export interface ServedSilences extends Disposable {
  /** For `HealthCacheOptions.silences` (single mode); `undefined` in shared mode (the shared cache has its own). */
  readonly source: SilenceSource | undefined;
  /** For `SharedHealthCacheOptions.sharedSilences` (shared mode); `undefined` in single mode. */
  readonly shared: SharedSilencesOptions | undefined;
  /**
   * Once the view exists: follows `endsOnRecovery` (single mode) and returns
   * the control for the handler's `silences` option (logging the changes made
   * through it in shared mode), or `undefined` when the view has none.
   */
  attach(view: HealthView & { readonly silences?: SilenceControl | undefined }): SilenceControl | undefined;
  /** Waits for a state-file write in progress (at shutdown, after dispose). */
  flushed(): Promise<void>;
  /** The open state file (single mode with `state.file`), which the history shares. */
  readonly store?: FileStateStore | undefined;
}

/**
 * Builds the silences `setup` describes; opens and reads the state file.
 * @throws ConfigError at `state.file` for a state file written by a newer
 *   version, or a bad one that could not be moved aside (nothing is started then).
 */
export async function startSilences(setup: Setup, log: Logger, signal: AbortSignal): Promise<ServedSilences> {
  const schedule = new MaintenanceSchedule(setup.maintenance);
  const disposables: Disposable[] = [schedule, logWindows(schedule, log)];
  const release = toDisposable(() => {
    for (const disposable of disposables.splice(0).reverse()) disposable.dispose();
  });
  if (setup.redis !== undefined) {
    if (setup.state !== undefined)
      log.warn('state.file is not used in shared mode: the silences are kept in Redis', {
        state: setup.state.file,
      });
    return {
      source: undefined,
      shared: { schedule },
      attach: (view) => (view.silences === undefined ? undefined : loggedControl(view.silences, log)),
      flushed: () => Promise.resolve(),
      ...release,
    };
  }
  const set = new SilenceSet();
  disposables.push(set);
  let persist: PersistHandle | undefined;
  let opened: FileStateStore | undefined;
  try {
    const store = setup.state === undefined ? undefined : await openStore(setup, log, signal);
    opened = store;
    if (store !== undefined) {
      await restore(set, store, log, signal);
      // No signal: the last change before a shutdown is still written (serve waits on flushed()).
      persist = persistSilences(set, store, {
        onError: (error) =>
          log.error(`state: cannot save the silences to ${store.file}: ${describe(error)}`, {
            state: store.file,
          }),
      });
      disposables.push(persist);
    }
  } catch (error) {
    release.dispose();
    throw error;
  }
  disposables.push(logSet(set, log));
  const source = createSilenceSource({ silences: set, schedule });
  disposables.push(source);
  return {
    source,
    shared: undefined,
    attach(view) {
      disposables.push(followRecovery(set, view));
      return localSilenceControl(set, schedule);
    },
    flushed: () => persist?.flushed() ?? Promise.resolve(),
    store: opened,
    ...release,
  };
}

/** Opens the state file; a corrupt one was moved aside by the store, and is logged here. */
async function openStore(setup: Setup, log: Logger, signal: AbortSignal): Promise<FileStateStore> {
  const state = setup.state!;
  const { FileStateStore } = await import('../state/file-state-store.js');
  let store: FileStateStore;
  try {
    store = await FileStateStore.open(state.file, { signal });
  } catch (error) {
    if (isStateVersionError(error) || isStateFileCorruptError(error)) throw state.errorAt(error.message);
    throw error;
  }
  if (store.recovered !== undefined) {
    log.warn(store.recovered.message, { state: store.file, movedTo: store.recovered.movedTo });
  }
  return store;
}

/** Puts the stored silences into `set`; a document of another shape or bad entries are logged, not fatal. */
async function restore(
  set: SilenceSet,
  store: FileStateStore,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  let loaded;
  try {
    loaded = await loadSilences(store, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    log.warn(`state: ${store.file}: ${describe(error)}; starting without its silences`, {
      state: store.file,
    });
    return;
  }
  for (const { index, error } of loaded.skipped.slice(0, MAX_SKIPPED_LOGGED)) {
    log.warn(`state: ${store.file}: silence ${index} skipped: ${error.message}`, { state: store.file });
  }
  if (loaded.skipped.length > MAX_SKIPPED_LOGGED) {
    log.warn(`state: ${store.file}: ${loaded.skipped.length - MAX_SKIPPED_LOGGED} more silences skipped`);
  }
  set.replace(loaded.silences);
  const count = set.list().length;
  log.info(`state: ${count} silence${count === 1 ? '' : 's'} loaded from ${store.file}`, {
    state: store.file,
    silences: count,
  });
}

/** One line per silence added or ended. */
function logSet(set: SilenceSet, log: Logger): Disposable {
  const added = set.onAdded((silence) => logAdded(silence, log));
  const expired = set.onExpired((expiry) => logEnded(expiry, log));
  return toDisposable(() => {
    added.dispose();
    expired.dispose();
  });
}

function logAdded(silence: Silence, log: Logger): void {
  const matchers = describeMatchers(silence.matchers);
  const recovery = silence.endsOnRecovery ? ', or when they recover' : '';
  log.info(
    `silence ${silence.id} added by ${silence.createdBy}: ${matchers} from ${silence.startsAt.toISOString()} until ${silence.endsAt.toISOString()}${recovery}: ${silence.comment}`,
    { silence: silence.id, event: 'added', matchers, createdBy: silence.createdBy },
  );
}

const ENDED: Readonly<Record<SilenceExpiry['reason'], string>> = {
  ended: 'ended (its time is up)',
  expired: 'expired',
  recovered: 'ended: its providers recovered',
  removed: 'removed',
};

function logEnded({ silence, reason }: SilenceExpiry, log: Logger): void {
  log.info(`silence ${silence.id} ${ENDED[reason]}: ${describeMatchers(silence.matchers)}`, {
    silence: silence.id,
    event: reason,
  });
}

/** Shared mode: the changes made through this replica's API, logged once they took effect. */
function loggedControl(control: SilenceControl, log: Logger): SilenceControl {
  return {
    list: () => control.list(),
    openWindows: () => control.openWindows(),
    async add(input, signal) {
      const silence = await control.add(input, signal);
      logAdded(silence, log);
      return silence;
    },
    async expire(id, signal) {
      const found = await control.expire(id, signal);
      if (found) log.info(`silence ${id} expired`, { silence: id, event: 'expired' });
      return found;
    },
  };
}

/** One line per maintenance window opening or closing. */
function logWindows(schedule: MaintenanceSchedule, log: Logger): Disposable {
  const line = ({ window }: WindowChange, what: string, event: 'open' | 'closed'): void =>
    log.info(
      `maintenance window ${window.name} ${what} (selector ${JSON.stringify(window.selector.toString())})`,
      { window: window.name, event },
    );
  const until = (change: WindowChange): string => `until ${change.occurrence.end.toISOString()}`;
  const started = schedule.onStarted((change) => line(change, `opened ${until(change)}`, 'open'));
  const ended = schedule.onEnded((change) => line(change, 'closed', 'closed'));
  for (const change of schedule.active()) line(change, `is open ${until(change)}`, 'open');
  return toDisposable(() => {
    started.dispose();
    ended.dispose();
  });
}

function describeMatchers(matchers: Silence['matchers']): string {
  return typeof matchers === 'string' ? matchers : matchers.join(',');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
