import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { Labels } from '../labels.js';
import { reportListenerError } from '../registry.js';
import { clockOption, MAX_DURATION, optionRangeError, optionsObject } from '../validate.js';
import type { MaintenanceWindow, WindowOccurrence } from './maintenance-window.js';

/** Options of {@link MaintenanceSchedule}. */
export interface MaintenanceScheduleOptions {
  /** The source of time. Default the system clock. */
  readonly clock?: Clock | undefined;
}

/** A window opening or closing. */
export interface WindowChange {
  readonly window: MaintenanceWindow;
  readonly occurrence: WindowOccurrence;
}

/** A window's current occurrence (or next one), and whether `onStarted` was announced for it. */
interface Tracked {
  readonly window: MaintenanceWindow;
  occurrence: WindowOccurrence | undefined;
  open: boolean;
}

/**
 * Follows a set of {@link MaintenanceWindow}s on the clock: answers which
 * windows are in force for a provider now (a read with no side effects, over
 * each window's occurrence computed in advance), and emits `onStarted` /
 * `onEnded` from one unref'd timer at the next boundary. Windows already open
 * when the schedule is built emit no `onStarted`: read {@link active}.
 */
export class MaintenanceSchedule implements Disposable {
  readonly #clock: Clock;
  readonly #tracked: readonly Tracked[];
  readonly #listenerErrors = new Emitter<unknown>((error) => reportListenerError('onListenerError', error));
  readonly #started = new Emitter<WindowChange>((error) => this.#listenerFailed(error));
  readonly #ended = new Emitter<WindowChange>((error) => this.#listenerFailed(error));
  #timer: TimerHandle; // meaningful while #timerSet
  #timerSet = false;
  #disposed = false;

  /** A window opened. */
  readonly onStarted: HealthEvent<WindowChange> = this.#started.event;
  /** A window closed (a window whose next occurrence begins before it ends stays open). */
  readonly onEnded: HealthEvent<WindowChange> = this.#ended.event;
  /** What a throwing listener threw; without a subscriber it becomes a process warning. */
  readonly onListenerError: HealthEvent<unknown> = this.#listenerErrors.event;

  /** @throws OptionRangeError when two windows share a name (`maintenance[i].name`). */
  constructor(windows: readonly MaintenanceWindow[], options?: MaintenanceScheduleOptions) {
    const opts = optionsObject(options, { scope: 'MaintenanceSchedule' });
    this.#clock = clockOption(opts.clock, { scope: 'MaintenanceSchedule' });
    const names = new Set<string>();
    windows.forEach((window, i) => {
      if (names.has(window.name)) throw optionRangeError(`maintenance[${i}].name`, 'unique', window.name);
      names.add(window.name);
    });
    const now = this.#clock.now();
    this.#tracked = windows.map((window) => {
      const occurrence = occurrenceFrom(window, now);
      return { window, occurrence, open: occurrence !== undefined && occurrence.start.getTime() <= now };
    });
    this.#schedule();
  }

  /** The windows. */
  get windows(): readonly MaintenanceWindow[] {
    return this.#tracked.map((tracked) => tracked.window);
  }

  /** The names of the windows in force now that cover a provider with `labels` (in window order). */
  inWindow(labels: Labels | undefined): readonly string[] {
    const now = this.#clock.now();
    const names: string[] = [];
    for (const { window, occurrence } of this.#tracked) {
      if (occurrence !== undefined && inForce(occurrence, now) && window.matches(labels))
        names.push(window.name);
    }
    return names;
  }

  /** The windows in force now, with their occurrence. */
  active(): readonly WindowChange[] {
    const now = this.#clock.now();
    return this.#tracked.flatMap(({ window, occurrence }) =>
      occurrence !== undefined && inForce(occurrence, now) ? [{ window, occurrence }] : [],
    );
  }

  /** Clears the timer; reads still answer for the occurrences computed so far. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timerSet) this.#clock.clearTimeout(this.#timer);
    this.#timerSet = false;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #listenerFailed(error: unknown): void {
    if (this.#listenerErrors.size > 0) this.#listenerErrors.emit(error);
    else reportListenerError('MaintenanceSchedule', error);
  }

  /** At a boundary: closes windows that ended, opens those that started, then sets the next timer. */
  #tick(): void {
    this.#timerSet = false;
    const now = this.#clock.now();
    const changes: [Emitter<WindowChange>, WindowChange][] = [];
    for (const tracked of this.#tracked) {
      const before = tracked.occurrence;
      if (before === undefined) continue;
      if (tracked.open && now >= before.end.getTime()) {
        tracked.occurrence = occurrenceFrom(tracked.window, now);
        const still = tracked.occurrence !== undefined && tracked.occurrence.start.getTime() <= now;
        if (!still) {
          tracked.open = false;
          changes.push([this.#ended, { window: tracked.window, occurrence: before }]);
        }
      }
      const current = tracked.occurrence;
      if (!tracked.open && current !== undefined && now >= current.start.getTime()) {
        // A late timer may have missed an occurrence whole: only one in force now opens.
        tracked.occurrence = occurrenceFrom(tracked.window, now);
        const opened = tracked.occurrence;
        if (opened !== undefined && opened.start.getTime() <= now) {
          tracked.open = true;
          changes.push([this.#started, { window: tracked.window, occurrence: opened }]);
        }
      }
    }
    this.#schedule();
    for (const [emitter, change] of changes) emitter.emit(change);
  }

  /** One timer at the earliest boundary (an open window's end, a closed one's start), cut to the longest timer. */
  #schedule(): void {
    if (this.#disposed) return;
    let next = Infinity;
    for (const { occurrence, open } of this.#tracked) {
      if (occurrence !== undefined)
        next = Math.min(next, (open ? occurrence.end : occurrence.start).getTime());
    }
    if (this.#timerSet) this.#clock.clearTimeout(this.#timer);
    this.#timerSet = next !== Infinity;
    if (!this.#timerSet) return;
    const delay = Math.min(Math.max(0, next - this.#clock.now()), MAX_DURATION);
    this.#timer = this.#clock.setTimeout(() => this.#tick(), delay);
  }
}

function inForce(occurrence: WindowOccurrence, now: number): boolean {
  return occurrence.start.getTime() <= now && now < occurrence.end.getTime();
}

/** The occurrence in force at `now`, else the next one; `undefined` if the window never opens again. */
function occurrenceFrom(window: MaintenanceWindow, now: number): WindowOccurrence | undefined {
  const current = window.activeAt(now);
  if (current !== undefined) return current;
  const start = window.nextStart(now);
  if (start === undefined) return undefined;
  return Object.freeze({ start, end: new Date(start.getTime() + window.duration) });
}
