import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { Labels } from '../labels.js';
import { reportListenerError } from '../registry.js';
import type { SilenceSource } from '../silencing.js';
import { clockOption, MAX_DURATION, optionTypeError, optionsObject } from '../validate.js';
import { MaintenanceSchedule } from './maintenance-schedule.js';
import { SilenceSet, type SilenceExpiry } from './silence-set.js';
import type { Silence } from './silence.js';

/** Options of {@link createSilenceSource}. */
export interface SilenceSourceOptions {
  /** Ad hoc silences (from the API, a state file, Redis). */
  readonly silences?: SilenceSet | undefined;
  /** Scheduled maintenance windows. */
  readonly schedule?: MaintenanceSchedule | undefined;
  /**
   * The clock for the timer that announces a pending silence's start: give
   * the one the set and the schedule use. Default the system clock.
   */
  readonly clock?: Clock | undefined;
}

const NONE: readonly string[] = Object.freeze([]);
const SCOPE = { scope: 'createSilenceSource' } as const;

/**
 * A {@link SilenceSource} for `HealthCacheOptions.silences`, from a
 * {@link SilenceSet} and a {@link MaintenanceSchedule} (either may be left
 * out): `silencedBy` gives the ids of the silences in force and the names of
 * the windows open for a provider, sorted. `onChange` fires when a silence in
 * force is added or ends (expired, ended, removed), when a pending silence's
 * `startsAt` arrives (one unref'd timer on `clock`) and when a window opens
 * or closes. Between two `onChange`s the answer for a provider cannot
 * change, so it is kept (per name, for the same labels object) and a cache's
 * commit costs one Map lookup; every `onChange` forgets what was kept.
 * Dispose to stop following the set and the schedule (it does not dispose them).
 * @throws OptionTypeError for a `silences` that is not a SilenceSet or a
 *   `schedule` that is not a MaintenanceSchedule.
 */
export function createSilenceSource(options: SilenceSourceOptions = {}): SilenceSource & Disposable {
  const given = optionsObject(options, SCOPE);
  const set = given.silences;
  const schedule = given.schedule;
  if (set !== undefined && !(set instanceof SilenceSet))
    throw optionTypeError('silences', 'a SilenceSet', set, SCOPE);
  if (schedule !== undefined && !(schedule instanceof MaintenanceSchedule))
    throw optionTypeError('schedule', 'a MaintenanceSchedule', schedule, SCOPE);
  return new SetAndScheduleSource(set, schedule, clockOption(given.clock, SCOPE));
}

/** What {@link createSilenceSource} returns. */
class SetAndScheduleSource implements SilenceSource, Disposable {
  readonly #set: SilenceSet | undefined;
  readonly #schedule: MaintenanceSchedule | undefined;
  readonly #clock: Clock;
  readonly #changes = new Emitter<void>((error) => reportListenerError('SilenceSource', error));
  readonly #subscriptions: readonly Disposable[];
  /** name → its answer for those labels, since the last change. */
  #kept = new Map<string, { readonly labels: Labels; readonly ids: readonly string[] }>();
  #timer: TimerHandle;
  #timerAt = Infinity;
  /** Starts up to this time are reflected in the answers (announced, or before the source existed). */
  #announced: number;
  #disposed = false;

  readonly onChange: HealthEvent<void> = this.#changes.event;

  constructor(set: SilenceSet | undefined, schedule: MaintenanceSchedule | undefined, clock: Clock) {
    this.#set = set;
    this.#schedule = schedule;
    this.#clock = clock;
    this.#announced = clock.now();
    const subscriptions: Disposable[] = [];
    if (set !== undefined) {
      subscriptions.push(
        set.onAdded((silence) => this.#silenceChanged(silence.startsAt.getTime())),
        set.onExpired((expiry: SilenceExpiry) => this.#silenceChanged(expiry.silence.startsAt.getTime())),
      );
    }
    if (schedule !== undefined) {
      subscriptions.push(
        schedule.onStarted(() => this.#changed()),
        schedule.onEnded(() => this.#changed()),
      );
    }
    this.#subscriptions = subscriptions;
    this.#armStartTimer();
  }

  silencedBy(name: string, labels: Labels): readonly string[] {
    if (this.#disposed) return this.#compute(labels, name);
    const kept = this.#kept.get(name);
    if (kept !== undefined && kept.labels === labels) return kept.ids;
    const ids = this.#compute(labels, name);
    this.#kept.set(name, { labels, ids });
    return ids;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#clearTimer();
    this.#kept = new Map();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #compute(labels: Labels, name: string): readonly string[] {
    const ids = this.#set?.silencedBy(name, labels) ?? NONE;
    const windows = this.#schedule?.inWindow(labels) ?? NONE;
    if (windows.length === 0) return ids;
    return Object.freeze([...ids, ...windows].sort());
  }

  /** A silence was added or left the set: announced unless it was still pending (no answer changed). */
  #silenceChanged(startsAt: number): void {
    if (startsAt <= this.#clock.now()) this.#changed();
    this.#armStartTimer();
  }

  #changed(): void {
    if (this.#disposed) return;
    // Forgotten before listeners ask again; every start until now shows in the answers from here on.
    this.#kept = new Map();
    this.#announced = Math.max(this.#announced, this.#clock.now());
    this.#changes.emit();
  }

  /**
   * One timer, at the earliest start not yet announced (a start due now
   * still fires: a change that announced nothing must not swallow it); a
   * long wait is cut to the longest timer.
   */
  #armStartTimer(): void {
    if (this.#disposed || this.#set === undefined) return;
    const now = this.#clock.now();
    const next = nextStart(this.#set.list(), this.#announced);
    if (next === this.#timerAt) return;
    this.#clearTimer();
    if (next === Infinity) return;
    this.#timerAt = next;
    const delay = Math.min(Math.max(0, next - now), MAX_DURATION);
    // Timers of the injected clock: systemClock unrefs them, so this never keeps a program alive.
    this.#timer = this.#clock.setTimeout(() => this.#startTimerFired(next), delay);
  }

  #startTimerFired(at: number): void {
    this.#timerAt = Infinity;
    this.#timer = undefined;
    if (this.#clock.now() >= at && at > this.#announced) this.#changed();
    this.#armStartTimer();
  }

  #clearTimer(): void {
    if (this.#timerAt !== Infinity) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = Infinity;
    this.#timer = undefined;
  }
}

/** The earliest start after `after` among `silences`; `Infinity` when none. */
function nextStart(silences: readonly Silence[], after: number): number {
  let next = Infinity;
  for (const silence of silences) {
    const start = silence.startsAt.getTime();
    if (start > after && start < next) next = start;
  }
  return next;
}
