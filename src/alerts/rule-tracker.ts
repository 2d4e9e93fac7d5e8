import type { Clock, TimerHandle } from '../clock.js';
import type { Status } from '../status.js';
import { firingAlerts, type FiringAlert } from './firing.js';
import type { AlertKind, AlertLabels, AlertedProvider, Notification } from './notification.js';
import type { AlertRule, AlertState } from './rule.js';
import {
  incidentKey,
  MAX_SENT_RECORDS,
  notificationId,
  type Incident,
  type IncidentMember,
  type PendingProvider,
  type RuleState,
} from './state.js';

/** What a tracker needs from its engine. @internal */
export interface TrackerContext {
  readonly clock: Clock;
  readonly staleAfter: () => number;
  readonly isSuppressed: (name: string) => boolean;
  readonly labels: (name: string) => AlertLabels;
  readonly emit: (notification: Notification) => void;
  readonly changed: () => void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * One rule's decisions over its slice of {@link RuleState}. One timer per
 * rule, at the earliest thing due (a `for` ending, a `groupWait` ending, a
 * reminder), so 10,000 failing providers cost one timer, not 10,000.
 * One concept (a little over 300 lines): the rule's state machine reads as one piece.
 * @internal
 */
export class RuleTracker {
  readonly #rule: AlertRule;
  readonly #state: RuleState;
  readonly #context: TrackerContext;
  /** Which incident each member belongs to (rebuilt from state, never persisted). */
  readonly #memberOf = new Map<string, Incident>();
  #timer: TimerHandle;
  #timerAt = Infinity;

  constructor(rule: AlertRule, state: RuleState, context: TrackerContext) {
    this.#rule = rule;
    this.#state = state;
    this.#context = context;
    for (const incident of state.incidents)
      for (const name of Object.keys(incident.members)) this.#memberOf.set(name, incident);
  }

  /** The rule's name. */
  get rule(): string {
    return this.#rule.name;
  }

  /** Every provider the state mentions. */
  trackedNames(): string[] {
    return [...Object.keys(this.#state.pending), ...this.#memberOf.keys()];
  }

  /** A provider's new status (`undefined`: removed). */
  observe(name: string, status: Status | undefined): void {
    const rule = this.#rule;
    const bad =
      status !== undefined &&
      rule.states.has(status.state as AlertState) &&
      (rule.selector === undefined || rule.selector(name, status));
    const incident = this.#memberOf.get(name);
    if (bad) {
      if (incident !== undefined) return this.#downAgain(incident, name, status);
      const pending = this.#state.pending[name];
      if (pending !== undefined) {
        pending.state = status.state;
        pending.message = status.message;
        // Its suppression may just have ended (a silence expired, a dependency recovered).
        const due = this.#promote(name, this.#context.clock.now());
        if (due !== undefined) this.#schedule(due);
        return;
      }
      const now = this.#context.clock.now();
      const entry = { since: this.#since(status, now), state: status.state, message: status.message };
      const ready = entry.since + rule.for;
      // Down long enough already (`for: 0`) and not suppressed: straight into the group.
      if (ready <= now && !this.#context.isSuppressed(name))
        return this.#schedule(this.#join(name, entry, now));
      this.#state.pending[name] = entry;
      this.#context.changed();
      if (ready > now) this.#schedule(ready);
      return;
    }
    if (name in this.#state.pending) {
      // Back inside `for` (or while suppressed): nothing was sent, nothing will be.
      delete this.#state.pending[name];
      this.#context.changed();
      return;
    }
    if (incident !== undefined) this.#back(incident, name, status);
  }

  /** Runs what is due now and schedules the next thing due. */
  tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#context.clock.now();
    let next = Infinity;
    for (const name of Object.keys(this.#state.pending))
      next = Math.min(next, this.#promote(name, now) ?? next);
    for (const incident of [...this.#state.incidents]) {
      if (incident.phase === 'collecting') {
        const due = incident.openedAt + this.#rule.groupWait;
        if (due <= now) this.#fire(incident, now);
        else next = Math.min(next, due);
      }
      if (incident.phase === 'firing' && incident.down === 0 && incident.resolvingAt !== undefined) {
        const due = incident.resolvingAt + this.#rule.groupWait;
        if (due > now) next = Math.min(next, due);
        else {
          this.#announce(incident, 'resolved', 0, Object.keys(incident.members), now);
          this.#remove(incident);
        }
        continue;
      }
      if (incident.phase === 'firing' && this.#rule.repeatInterval !== undefined) {
        const due = (incident.firedAt ?? now) + (incident.reminders + 1) * this.#rule.repeatInterval;
        if (due <= now) this.#remind(incident, now);
        next = Math.min(
          next,
          (incident.firedAt ?? now) + (incident.reminders + 1) * this.#rule.repeatInterval,
        );
      }
    }
    if (next !== Infinity) this.#schedule(next);
    this.#context.changed();
  }

  /** The incidents firing now. */
  firing(): FiringAlert[] {
    return firingAlerts(this.#rule.name, this.#state, this.#context.labels);
  }

  /** Clears the timer. */
  dispose(): void {
    this.#context.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** When a provider entered the rule's states: from the status, so every replica agrees. */
  #since(status: Status, now: number): number {
    const at =
      status.state === 'stale'
        ? status.checkedAt.getTime() + this.#context.staleAfter()
        : status.lastTransitionAt.getTime();
    return Number.isFinite(at) ? Math.min(at, now) : now;
  }

  /**
   * Moves a pending provider into the collecting incident once `for` has
   * passed and it is not suppressed. Returns when to look again, if ever.
   */
  #promote(name: string, now: number): number | undefined {
    const pending = this.#state.pending[name];
    if (pending === undefined) return undefined;
    const ready = pending.since + this.#rule.for;
    if (ready > now) return ready;
    // Suppressed: it waits here until its status (or `reevaluate`) finds it unsuppressed and still down.
    if (this.#context.isSuppressed(name)) return undefined;
    delete this.#state.pending[name];
    return this.#join(name, pending, now);
  }

  /** Adds a provider down long enough to the collecting incident (opening one); returns when that fires. */
  #join(name: string, entry: PendingProvider, now: number): number {
    const incidents = this.#state.incidents;
    // At most one incident collects, and it is the newest: incidents are appended and only removed.
    let incident = incidents[incidents.length - 1];
    if (incident?.phase !== 'collecting') {
      incident = {
        phase: 'collecting',
        openedAt: now,
        key: undefined,
        startedAt: entry.since,
        members: {},
        down: 0,
        firedAt: undefined,
        reminders: 0,
        sent: [],
      };
      incidents.push(incident);
    }
    incident.members[name] = { since: entry.since, state: entry.state, message: entry.message, down: true };
    incident.down += 1;
    if (entry.since < incident.startedAt) incident.startedAt = entry.since;
    this.#memberOf.set(name, incident);
    this.#context.changed();
    return incident.openedAt + this.#rule.groupWait;
  }

  #downAgain(incident: Incident, name: string, status: Status): void {
    const member = incident.members[name] as IncidentMember;
    // Every result of a failing provider lands here: save only what changed.
    if (member.down && member.state === status.state && member.message === status.message) return;
    if (!member.down) {
      member.since = this.#since(status, this.#context.clock.now());
      incident.down += 1;
      delete incident.resolvingAt; // plain JSON: absent, not undefined
    }
    member.down = true;
    member.state = status.state;
    member.message = status.message;
    this.#context.changed();
  }

  #back(incident: Incident, name: string, status: Status | undefined): void {
    const member = incident.members[name] as IncidentMember;
    const now = this.#context.clock.now();
    this.#context.changed();
    if (incident.phase === 'collecting') {
      // Never announced: it simply leaves the group.
      delete incident.members[name];
      this.#memberOf.delete(name);
      incident.down -= 1;
      // `startedAt` is recomputed when the incident fires.
      if (incident.down === 0) this.#remove(incident);
      return;
    }
    if (!member.down) return;
    member.down = false;
    incident.down -= 1;
    member.state = status?.state ?? 'unknown';
    member.message = status?.message ?? 'removed';
    member.since = status === undefined ? now : Math.min(status.lastTransitionAt.getTime(), now);
    if (incident.down > 0) return;
    // Resolved after `groupWait` without a relapse: a provider flapping straight back down
    // keeps the incident open, and the message is built off the sweep that brought them back.
    incident.resolvingAt = now;
    this.#schedule(now + this.#rule.groupWait);
  }

  /** Sends an incident's first `firing`; suppressed members go back to waiting. */
  #fire(incident: Incident, now: number): void {
    for (const [name, member] of Object.entries(incident.members)) {
      if (!this.#context.isSuppressed(name)) continue;
      delete incident.members[name];
      this.#memberOf.delete(name);
      incident.down -= 1;
      this.#state.pending[name] = { since: member.since, state: member.state, message: member.message };
    }
    const names = Object.keys(incident.members);
    if (names.length === 0) return this.#remove(incident);
    incident.startedAt = names.reduce(
      (min, name) => Math.min(min, (incident.members[name] as IncidentMember).since),
      Infinity,
    );
    incident.key = incidentKey(this.#rule.name, incident.startedAt, names);
    incident.phase = 'firing';
    incident.firedAt = now;
    this.#announce(incident, 'firing', 0, names, now);
  }

  /**
   * A reminder lists the members still down and not suppressed; none left:
   * nothing to say. Reminders missed while no replica led are not made up:
   * one goes out, numbered for the period it falls in.
   */
  #remind(incident: Incident, now: number): void {
    const interval = this.#rule.repeatInterval as number;
    const period = Math.floor((now - (incident.firedAt ?? now)) / interval);
    incident.reminders = Math.max(incident.reminders + 1, period);
    const names = Object.keys(incident.members).filter(
      (name) => incident.members[name]?.down === true && !this.#context.isSuppressed(name),
    );
    if (names.length > 0) this.#announce(incident, 'firing', incident.reminders, names, now);
  }

  #announce(incident: Incident, type: AlertKind, reminder: number, names: string[], now: number): void {
    const key = incident.key as string;
    const id = notificationId(key, type, reminder);
    incident.sent.push({ id, type, reminder, at: now });
    if (incident.sent.length > MAX_SENT_RECORDS) incident.sent.shift();
    const providers: AlertedProvider[] = names.sort().map((name) => {
      const member = incident.members[name] as IncidentMember;
      const labels = this.#context.labels(name);
      return { name, state: member.state, message: member.message, labels, since: iso(member.since) };
    });
    this.#context.emit(
      Object.freeze({
        id,
        incident: key,
        type,
        rule: this.#rule.name,
        reminder,
        test: false,
        startedAt: iso(incident.startedAt),
        providers: Object.freeze(providers),
      }),
    );
  }

  #remove(incident: Incident): void {
    for (const name of Object.keys(incident.members)) this.#memberOf.delete(name);
    this.#state.incidents = this.#state.incidents.filter((candidate) => candidate !== incident);
  }

  /** Keeps the one timer at the earliest due time. */
  #schedule(at: number): void {
    if (at >= this.#timerAt) return;
    const clock = this.#context.clock;
    clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = clock.setTimeout(() => this.tick(), Math.max(0, at - clock.now()));
  }
}
