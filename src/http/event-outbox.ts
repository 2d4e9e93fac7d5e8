import type { Clock } from '../clock.js';
import type { HealthView } from '../health-view.js';
import type { EventStreamHub } from './event-stream.js';
import { formatEvent } from './event-stream.js';
import { pick } from './provider-list.js';
import { providerToJSON } from './provider-json.js';
import { Throttle } from './throttle.js';

/** Distinct `fields` sets among open batched streams; a stream asking for one more gets 503. */
export const MAX_FIELD_SETS = 16;

/** Queued per-change events are written at once when they reach this many bytes. */
export const MAX_QUEUED_BYTES = 64 * 1024;

/** Numbers the events of one handler, so ids increase across both kinds of stream. @internal */
export interface EventIds {
  next(): number;
}

/**
 * The `change` and `remove` events of streams that did not ask for batches:
 * every change is still sent, serialised once, but the first change after a
 * quiet `interval` is written at once and later ones are queued and written
 * together (when the interval ends or {@link MAX_QUEUED_BYTES} are queued),
 * so a sweep costs each stream a few writes, not one per provider. @internal
 */
export class ChangeOutbox {
  readonly #hub: EventStreamHub;
  readonly #ids: EventIds;
  readonly #throttle: Throttle;
  #queued: string[] = [];
  #bytes = 0;

  constructor(hub: EventStreamHub, ids: EventIds, clock: Clock, interval: number) {
    this.#hub = hub;
    this.#ids = ids;
    this.#throttle = new Throttle(clock, interval, () => this.#write());
  }

  /** Queues one event; `data` is single-line JSON. */
  add(type: string, data: string): void {
    const event = formatEvent(type, this.#ids.next(), data);
    this.#queued.push(event);
    this.#bytes += event.length;
    if (this.#bytes >= MAX_QUEUED_BYTES) this.#throttle.run();
    else this.#throttle.poke();
  }

  /** Writes what is queued now (before a new stream's snapshot, which is newer). */
  flush(): void {
    if (this.#throttle.pending) this.#throttle.run();
  }

  dispose(): void {
    this.#throttle.cancel();
    this.#queued = [];
    this.#bytes = 0;
  }

  #write(): void {
    if (this.#queued.length === 0) return;
    const text = this.#queued.length === 1 ? (this.#queued[0] as string) : this.#queued.join('');
    this.#queued = [];
    this.#bytes = 0;
    this.#hub.broadcast(text);
  }
}

/**
 * The `changes` events of streams that asked for batches (`?batch=1`): the
 * names changed or removed meanwhile, sent at most once per `interval` (the
 * first change after a quiet interval at once) as
 * `{"changed":[<provider>…],"removed":[<name>…]}`, both sorted by name; a
 * provider changed many times is sent once, as it is when the batch goes
 * out. With `&fields=`, rows carry those fields only (as in `/api/providers`).
 * One batch is serialised once per distinct fields set, for every batched stream. @internal
 */
export class BatchOutbox {
  readonly #view: HealthView;
  readonly #hub: EventStreamHub;
  readonly #ids: EventIds;
  readonly #throttle: Throttle;
  #changed = new Set<string>();
  #removed = new Set<string>();

  constructor(view: HealthView, hub: EventStreamHub, ids: EventIds, clock: Clock, interval: number) {
    this.#view = view;
    this.#hub = hub;
    this.#ids = ids;
    this.#throttle = new Throttle(clock, interval, () => this.#write());
  }

  /** Notes that `name` changed (was checked, registered or went stale). */
  changed(name: string): void {
    this.#removed.delete(name);
    this.#changed.add(name);
    this.#throttle.poke();
  }

  /** Notes that `name` was unregistered. */
  removed(name: string): void {
    this.#changed.delete(name);
    this.#removed.add(name);
    this.#throttle.poke();
  }

  /** Sends the pending batch now (before a new stream's snapshot, which is newer). */
  flush(): void {
    if (this.#throttle.pending) this.#throttle.run();
  }

  dispose(): void {
    this.#throttle.cancel();
    this.#changed = new Set();
    this.#removed = new Set();
  }

  #write(): void {
    if (this.#changed.size === 0 && this.#removed.size === 0) return;
    const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const changed = [...this.#changed].sort(byName).filter((name) => this.#view.registry.has(name));
    const removed = [...this.#removed].sort(byName);
    this.#changed = new Set();
    this.#removed = new Set();
    const rows = changed.map((name) => providerToJSON(this.#view, name));
    const id = this.#ids.next();
    // One serialisation per distinct fields set (at most MAX_FIELD_SETS), not per stream.
    for (const group of this.#hub.batchGroups()) {
      const fields = group === '' ? undefined : group.split(',');
      const data = JSON.stringify({ changed: fields ? rows.map((row) => pick(row, fields)) : rows, removed });
      this.#hub.broadcast(formatEvent('changes', id, data), group);
    }
  }
}
