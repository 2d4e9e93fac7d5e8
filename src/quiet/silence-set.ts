import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { DisposedError } from '../errors.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { Labels } from '../labels.js';
import { reportListenerError } from '../registry.js';
import { parseSelector } from '../selector.js';
import { clockOption, MAX_DURATION, numberOption, optionsObject } from '../validate.js';
import { parseSilenceInput, withEnd, type Silence } from './silence.js';

/** The default for {@link SilenceSetOptions.maxSilences}. */
export const DEFAULT_MAX_SILENCES = 1000;
/** The highest {@link SilenceSetOptions.maxSilences} accepted. */
export const MAX_SILENCES = 10_000;

/** Options of {@link SilenceSet}. */
export interface SilenceSetOptions {
  /** The source of time. Default the system clock. */
  readonly clock?: Clock | undefined;
  /** The most silences held at once (pending and in force). Default 1000, at most 10,000. */
  readonly maxSilences?: number | undefined;
}

/** Why a silence left the set. */
export type SilenceEndReason = 'ended' | 'expired' | 'recovered' | 'removed';

/** A silence that left the set: `ended` (its time passed), `expired` (by {@link SilenceSet.expire}), `recovered` (its providers are healthy) or `removed` (by {@link SilenceSet.replace}). */
export interface SilenceExpiry {
  /** The silence; for an early end, `endsAt` is the moment it ended. */
  readonly silence: Silence;
  readonly reason: SilenceEndReason;
}

/** A new silence for the same matchers overlapping one already held. */
export class SilenceConflictError extends Error {
  /** The id of the silence already covering that time. */
  readonly existing: string;

  constructor(existing: string) {
    super(
      `silence: a silence with the same matchers already covers that time (id ${existing}); expire it or let it end first`,
    );
    this.name = 'SilenceConflictError';
    this.existing = existing;
  }
}

/** The set already holds {@link SilenceSetOptions.maxSilences} silences. */
export class SilenceLimitError extends Error {
  /** The limit reached. */
  readonly limit: number;

  constructor(limit: number) {
    super(`silence: ${limit} silences are already pending or in force, the most allowed; expire some first`);
    this.name = 'SilenceLimitError';
    this.limit = limit;
  }
}

/** A silence with its times as numbers and its matcher compiled. */
interface Entry {
  readonly silence: Silence;
  readonly start: number;
  readonly end: number;
  readonly key: string;
  readonly matches: (name: string, labels: Labels | undefined) => boolean;
}

/**
 * The silences pending and in force, in memory. Reads (`get`, `list`,
 * `silencedBy`) compare times with the clock and change nothing; one unref'd
 * timer on the clock removes silences when they end and emits `onExpired`.
 */
export class SilenceSet implements Disposable {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  readonly #added: Emitter<Silence>;
  readonly #expired: Emitter<SilenceExpiry>;
  readonly #listenerErrors = new Emitter<unknown>((error) => reportListenerError('onListenerError', error));
  #timer: TimerHandle; // meaningful while #timerAt is finite
  #timerAt = Infinity;
  #disposed = false;

  /** A silence was added (by {@link add} or {@link replace}). */
  readonly onAdded: HealthEvent<Silence>;
  /** A silence left the set, with the reason. */
  readonly onExpired: HealthEvent<SilenceExpiry>;
  /** What a throwing listener threw; without a subscriber it becomes a process warning. */
  readonly onListenerError: HealthEvent<unknown> = this.#listenerErrors.event;

  constructor(options?: SilenceSetOptions) {
    const opts = optionsObject(options, { scope: 'SilenceSet' });
    this.#clock = clockOption(opts.clock, { scope: 'SilenceSet' });
    this.#max = numberOption('maxSilences', opts.maxSilences, DEFAULT_MAX_SILENCES, {
      scope: 'SilenceSet',
      integer: true,
      min: 1,
      max: MAX_SILENCES,
    });
    const onError = (error: unknown): void => {
      if (this.#listenerErrors.size > 0) this.#listenerErrors.emit(error);
      else reportListenerError('SilenceSet', error);
    };
    this.#added = new Emitter(onError);
    this.#expired = new Emitter(onError);
    this.onAdded = this.#added.event;
    this.onExpired = this.#expired.event;
  }

  /**
   * Validates `input` (see {@link parseSilenceInput}) and adds the silence.
   * @throws OptionTypeError / OptionRangeError naming the bad field; {@link SilenceConflictError};
   *   {@link SilenceLimitError}; DisposedError.
   */
  add(input: unknown): Silence {
    if (this.#disposed) throw new DisposedError('SilenceSet.add');
    const now = this.#clock.now();
    const silence = parseSilenceInput(input, now);
    const entry = toEntry(silence);
    for (const other of this.#entries.values()) {
      if (other.end <= now) continue; // ended, its timer not yet run
      if (other.key === entry.key && other.start < entry.end && entry.start < other.end)
        throw new SilenceConflictError(other.silence.id);
    }
    if (this.#live(now) >= this.#max) throw new SilenceLimitError(this.#max);
    this.#entries.set(silence.id, entry);
    this.#schedule();
    this.#added.emit(silence);
    return silence;
  }

  /** Ends the silence `id` now; `false` when no such silence is pending or in force. */
  expire(id: string): boolean {
    return this.#end(id, 'expired');
  }

  /** The silence `id` if pending or in force. */
  get(id: string): Silence | undefined {
    const entry = this.#entries.get(id);
    return entry !== undefined && entry.end > this.#clock.now() ? entry.silence : undefined;
  }

  /** Every silence pending or in force, by start time then id. */
  list(): readonly Silence[] {
    const now = this.#clock.now();
    return Object.freeze(
      [...this.#entries.values()]
        .filter((entry) => entry.end > now)
        .sort((a, b) => a.start - b.start || (a.silence.id < b.silence.id ? -1 : 1))
        .map((entry) => entry.silence),
    );
  }

  /** The ids of the silences in force now that match the provider `name` with `labels` (sorted; empty when none). */
  silencedBy(name: string, labels: Labels | undefined): readonly string[] {
    const now = this.#clock.now();
    let ids: string[] | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.start <= now && now < entry.end && entry.matches(name, labels))
        (ids ??= []).push(entry.silence.id);
    }
    return ids === undefined ? NONE : Object.freeze(ids.sort());
  }

  /**
   * Ends the `endsOnRecovery` silences in force whose matched providers (among
   * `providers`) are all healthy, at least one of them matched. Returns their ids.
   */
  expireRecovered(
    providers: Iterable<{ name: string; labels?: Labels | undefined; healthy: boolean }>,
  ): string[] {
    const now = this.#clock.now();
    const candidates = [...this.#entries.values()].filter(
      (entry) => entry.silence.endsOnRecovery && entry.start <= now && now < entry.end,
    );
    const matched = new Map<string, boolean>(); // id → every matched provider healthy so far
    for (const provider of providers) {
      for (const entry of candidates) {
        if (!entry.matches(provider.name, provider.labels)) continue;
        matched.set(entry.silence.id, (matched.get(entry.silence.id) ?? true) && provider.healthy);
      }
    }
    const ended = [...matched].filter(([, healthy]) => healthy).map(([id]) => id);
    for (const id of ended) this.#end(id, 'recovered');
    return ended;
  }

  /**
   * Replaces the whole set with `silences` (loaded from a state store, or the
   * shared set another replica wrote): emits `onAdded` for new ids and
   * `onExpired` (`removed`) for ids that are gone. Ended silences are skipped.
   * Neither the conflict rule nor the limit applies: the source already applied them.
   */
  replace(silences: readonly Silence[]): void {
    if (this.#disposed) throw new DisposedError('SilenceSet.replace');
    const now = this.#clock.now();
    const next = new Map(silences.map((silence) => [silence.id, toEntry(silence)]));
    const removed = [...this.#entries.values()].filter(
      (entry) => !next.has(entry.silence.id) && entry.end > now,
    );
    const added = [...next.values()].filter(
      (entry) => !this.#entries.has(entry.silence.id) && entry.end > now,
    );
    this.#entries.clear();
    for (const [id, entry] of next) if (entry.end > now) this.#entries.set(id, entry);
    this.#schedule();
    for (const entry of removed) this.#expired.emit({ silence: entry.silence, reason: 'removed' });
    for (const entry of added) this.#added.emit(entry.silence);
  }

  /** Clears the timer; the set can still be read, but not changed. */
  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #live(now: number): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.end > now) count++;
    return count;
  }

  #end(id: string, reason: SilenceEndReason): boolean {
    const entry = this.#entries.get(id);
    const now = this.#clock.now();
    if (entry === undefined || entry.end <= now) return false;
    this.#entries.delete(id);
    this.#schedule();
    // A pending silence never started: it ends where it would have begun.
    this.#expired.emit({ silence: withEnd(entry.silence, Math.max(now, entry.start)), reason });
    return true;
  }

  /** Removes the silences that have ended, emits for each, and sets the timer for the next end. */
  #sweep(): void {
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    const ended = [...this.#entries.values()]
      .filter((entry) => entry.end <= now)
      .sort((a, b) => a.end - b.end);
    for (const entry of ended) this.#entries.delete(entry.silence.id);
    this.#schedule();
    for (const entry of ended) this.#expired.emit({ silence: entry.silence, reason: 'ended' });
  }

  /** One timer, at the earliest end; a long wait is cut to the longest delay a timer honours. */
  #schedule(): void {
    if (this.#disposed) return;
    let next = Infinity;
    for (const entry of this.#entries.values()) next = Math.min(next, entry.end);
    if (next === this.#timerAt) return;
    this.#clearTimer();
    if (next === Infinity) return;
    this.#timerAt = next;
    const delay = Math.min(Math.max(0, next - this.#clock.now()), MAX_DURATION);
    this.#timer = this.#clock.setTimeout(() => this.#sweep(), delay);
  }

  #clearTimer(): void {
    if (this.#timerAt !== Infinity) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = Infinity;
  }
}

const NONE: readonly string[] = Object.freeze([]);

function toEntry(silence: Silence): Entry {
  const { matchers } = silence;
  let matches: Entry['matches'];
  if (typeof matchers === 'string') {
    const selector = parseSelector(matchers);
    matches = (_name, labels) => selector.matches(labels);
  } else {
    const names = new Set(matchers);
    matches = (name) => names.has(name);
  }
  const key = typeof matchers === 'string' ? `selector:${matchers}` : `names:${matchers.join('\n')}`;
  return { silence, start: silence.startsAt.getTime(), end: silence.endsAt.getTime(), key, matches };
}
