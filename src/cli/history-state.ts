/**
 * `serve` in single mode with `state.file`: each provider's last status,
 * recent samples and 24h/7d/30d buckets are loaded from the state file
 * before the first sweep (so a restart shows the sparklines and uptime at
 * once) and saved every `state.saveInterval` (default 1 minute) when results
 * came in, and at shutdown: a `kill -9` loses at most one interval. Writes go
 * through the same `FileStateStore` as the silences (atomic, one file).
 * Providers no longer configured are dropped from the file at the next save.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { HealthCache } from '../health-cache.js';
import type { RunnableHealthView } from '../health-view.js';
import type { FileStateStore } from '../state/file-state-store.js';
import type { JsonValue } from '../state/state-store.js';
import type { Status } from '../status.js';
import {
  entryName,
  HISTORY_BUDGET,
  HISTORY_KEY,
  indexDocument,
  MAX_PART_BYTES,
  parseEntry,
  parseIndex,
  partDocument,
  partEntries,
  partKey,
  savedEntry,
} from './history-file.js';
import type { Logger } from './logger.js';
import type { Setup } from './setup.js';

/** How often the history is saved when `state.saveInterval` is not given. */
export const DEFAULT_SAVE_INTERVAL = 60_000;
/** At most this many skipped entries are logged one by one; the rest are counted. */
const MAX_SKIPPED_LOGGED = 10;
/** Providers encoded between two turns of the event loop while saving (about 50 ms of work at most). */
const PROVIDERS_PER_TURN = 500;

/** What a cache must offer to be kept: a local `HealthCache`. */
export type KeptCache = Pick<
  HealthCache,
  'registry' | 'options' | 'get' | 'restore' | 'exportHistory' | 'importHistory' | 'onChange' | 'onResult'
>;

/** Options of {@link keepHistory}. */
export interface KeepHistoryOptions {
  /** ms between saves (when results came in). Default {@link DEFAULT_SAVE_INTERVAL}. */
  readonly interval?: number | undefined;
  /** Times the saves. Default the system clock (timers unref'd). */
  readonly clock?: Clock | undefined;
}

/** The running keeper. */
export interface KeptHistory extends Disposable {
  /** Stops the timer and saves what changed since the last save; resolves once written (never rejects). */
  close(): Promise<void>;
}

/**
 * Loads the history kept in `store` into `cache` (call before its first
 * sweep), then keeps saving it. A history document of a newer version is
 * left alone and nothing is saved over it; a bad document or entry is
 * logged with the file's path and skipped.
 */
export async function keepHistory(
  cache: KeptCache,
  store: FileStateStore,
  log: Logger,
  options: KeepHistoryOptions = {},
): Promise<KeptHistory> {
  const keeper = new Keeper(cache, store, log, options);
  await keeper.load();
  keeper.schedule();
  return keeper;
}

class Keeper implements KeptHistory {
  readonly #cache: KeptCache;
  readonly #store: FileStateStore;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #interval: number;
  /** The last fresh status of each provider: a stale one is saved as the status it went stale from. */
  readonly #fresh = new Map<string, Status>();
  readonly #subscriptions: Disposable[];
  #dirty = false;
  /** Set when the file holds history of a newer version: it is never overwritten. */
  #readOnly = false;
  /** Part documents in the file now, so that a save with fewer deletes the rest. */
  #parts = 0;
  /** Providers left out of the last save for the budget (logged when it changes). */
  #omitted = 0;
  /** The next save (`undefined` when none is armed). */
  #timer: TimerHandle = undefined;
  #saving: Promise<void> = Promise.resolve();
  #closed = false;
  #lastError = '';

  constructor(cache: KeptCache, store: FileStateStore, log: Logger, options: KeepHistoryOptions) {
    this.#cache = cache;
    this.#store = store;
    this.#log = log;
    this.#clock = options.clock ?? systemClock;
    this.#interval = options.interval ?? DEFAULT_SAVE_INTERVAL;
    this.#subscriptions = [
      cache.onChange(({ name, status }) => {
        if (status === undefined) this.#fresh.delete(name);
        else if (!status.stale) this.#fresh.set(name, status);
      }),
      cache.onResult(() => (this.#dirty = true)),
      cache.registry.onChange(() => (this.#dirty = true)),
    ];
  }

  async load(): Promise<void> {
    const file = this.#store.file;
    const index = parseIndex(await this.#store.get(HISTORY_KEY));
    if ('newer' in index) {
      this.#readOnly = true;
      this.#log.warn(
        `state: ${file}: the history was saved by a newer provider-health (history version ${index.newer}); it is left as it is and not saved over, starting without it`,
        { state: file },
      );
      return;
    }
    if ('problem' in index) {
      this.#dirty = true;
      this.#log.warn(`state: ${file}: ${index.problem}; starting without the saved history`, { state: file });
      return;
    }
    this.#parts = index.parts;
    const counts = { loaded: 0, dropped: 0, skipped: 0 };
    for (let part = 0; part < index.parts; part++) {
      const key = partKey(part);
      let entries: readonly unknown[];
      try {
        entries = partEntries(key, await this.#store.get(key));
      } catch (error) {
        this.#log.warn(`state: ${file}: ${describe(error)}; its providers start without history`, {
          state: file,
        });
        continue;
      }
      for (const entry of entries) this.#loadEntry(entry, counts);
    }
    if (counts.dropped > 0 || counts.skipped > 0) this.#dirty = true;
    if (counts.skipped > MAX_SKIPPED_LOGGED)
      this.#log.warn(`state: ${file}: ${counts.skipped - MAX_SKIPPED_LOGGED} more history entries skipped`);
    if (index.parts === 0) return;
    const dropped = counts.dropped === 0 ? '' : ` (${counts.dropped} no longer configured, dropped)`;
    this.#log.info(
      `state: history of ${counts.loaded} provider${counts.loaded === 1 ? '' : 's'} loaded from ${file}${dropped}`,
      { state: file, providers: counts.loaded },
    );
  }

  #loadEntry(value: unknown, counts: { loaded: number; dropped: number; skipped: number }): void {
    const name = entryName(value);
    if (name !== undefined && !this.#cache.registry.has(name)) {
      counts.dropped++;
      return;
    }
    try {
      const { status, history } = parseEntry(value, this.#cache.options);
      // The history first: the status restored with no sample then counts nothing twice.
      if (history) this.#cache.importHistory(name!, history);
      if (status) this.#cache.restore(status);
      counts.loaded++;
    } catch (error) {
      if (++counts.skipped <= MAX_SKIPPED_LOGGED) {
        const which = name === undefined ? 'an entry' : JSON.stringify(name.slice(0, 200));
        this.#log.warn(`state: ${this.#store.file}: history of ${which} skipped: ${describe(error)}`, {
          state: this.#store.file,
        });
      }
    }
  }

  /** Arms the next save. */
  schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#saving = this.#saving.then(() => this.#save()).finally(() => this.schedule());
    }, this.#interval);
  }

  /** Writes every registered provider's status and history, if anything changed since the last save. */
  async #save(): Promise<void> {
    if (!this.#dirty || this.#readOnly) return;
    this.#dirty = false;
    try {
      const { changes, saved } = await this.#documents();
      await this.#store.putMany(changes);
      this.#parts = saved;
      this.#lastError = '';
    } catch (error) {
      this.#dirty = true;
      const message = describe(error);
      if (message !== this.#lastError)
        this.#log.error(`state: cannot save the history to ${this.#store.file}: ${message}`, {
          state: this.#store.file,
        });
      this.#lastError = message;
    }
  }

  /**
   * The index and part documents, parts past the new count deleted;
   * providers past the budget left out. Encoding 10,000 providers takes
   * about half a second of CPU: the event loop gets a turn every
   * {@link PROVIDERS_PER_TURN}, so the API keeps answering meanwhile.
   */
  async #documents(): Promise<{ changes: Map<string, JsonValue | undefined>; saved: number }> {
    const parts: JsonValue[][] = [[]];
    let partBytes = 0;
    let total = 0;
    let providers = 0;
    let omitted = 0;
    let done = 0;
    for (const name of this.#cache.registry.names()) {
      if (++done % PROVIDERS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
      const status = this.#fresh.get(name);
      const history = this.#cache.exportHistory(name);
      if (status === undefined && history === undefined) continue;
      const { value, bytes } = savedEntry(name, status, history);
      if (total + bytes > HISTORY_BUDGET) {
        omitted++;
        continue;
      }
      if (partBytes + bytes > MAX_PART_BYTES) {
        parts.push([]);
        partBytes = 0;
      }
      parts.at(-1)!.push(value);
      partBytes += bytes + 1;
      total += bytes + 1;
      providers++;
    }
    this.#reportOmitted(omitted);
    const changes = new Map<string, JsonValue | undefined>();
    changes.set(HISTORY_KEY, indexDocument(parts.length, providers, this.#clock.now()));
    parts.forEach((entries, index) => changes.set(partKey(index), partDocument(entries)));
    for (let index = parts.length; index < this.#parts; index++) changes.set(partKey(index), undefined);
    return { changes, saved: parts.length };
  }

  #reportOmitted(omitted: number): void {
    if (omitted !== this.#omitted && omitted > 0) {
      this.#log.warn(
        `state: the history of ${omitted} provider${omitted === 1 ? ' is' : 's are'} not saved to ${this.#store.file}: the state file keeps at most ${HISTORY_BUDGET / 1024 / 1024} MiB of history (the first providers by name are kept)`,
        { state: this.#store.file, omitted },
      );
    }
    this.#omitted = omitted;
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#saving;
    this.dispose();
    this.#saving = this.#saving.then(() => this.#save());
    return this.#saving;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  dispose(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const subscription of this.#subscriptions.splice(0)) subscription.dispose();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `serve`'s hook: keeps the history of a local cache in the opened state
 * file (`undefined` in shared mode or without `state.file`). Never throws: a
 * history that cannot be loaded is logged and the server starts without it.
 */
export async function startHistory(
  setup: Setup,
  view: RunnableHealthView,
  store: FileStateStore | undefined,
  log: Logger,
): Promise<KeptHistory | undefined> {
  if (store === undefined || !(view instanceof HealthCache)) return undefined;
  try {
    return await keepHistory(view, store, log, { interval: setup.state?.saveInterval });
  } catch (error) {
    log.error(`state: cannot load the history from ${store.file}: ${describe(error)}`, { state: store.file });
    return undefined;
  }
}
