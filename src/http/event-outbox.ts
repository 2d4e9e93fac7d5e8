import type { Clock } from '../clock.js';
import type { HealthView } from '../health-view.js';
import { NO_LABELS, type Labels } from '../labels.js';
import type { EventStreamHub } from './event-stream.js';
import { formatEvent } from './event-stream.js';
import { fieldMask, providerToJSON } from './provider-json.js';
import { rowDelta } from './row-delta.js';
import { fieldsText, rowText } from './row-text.js';
import { Throttle } from './throttle.js';

/** Distinct `fields` sets among open batched streams; a stream asking for one more gets 503. */
export const MAX_FIELD_SETS = 16;

/**
 * Distinct stream groups (batch or not, selector, fields) open at once; a
 * stream asking for one more gets 503. Each group costs one filter pass and
 * one serialisation per write, whatever its number of streams.
 */
export const MAX_STREAM_GROUPS = 64;

/** Queued per-change events are written at once when they reach this many bytes. */
export const MAX_QUEUED_BYTES = 1024 * 1024;

/** Numbers the events of one handler, so ids increase across both kinds of stream. @internal */
export interface EventIds {
  next(): number;
}

/** One queued per-change event: its text, and what streams with a selector get instead. */
interface QueuedEvent {
  readonly text: string;
  /** The provider's labels (a `change`); `undefined` for events every stream gets (`remove`). */
  readonly labels: Labels | undefined;
  /** For a relabelled provider: the `remove` that streams whose selector no longer picks it get. */
  readonly unselected: string | undefined;
}

/**
 * The `change` and `remove` events of streams that did not ask for batches:
 * every change is still sent, serialised once, but the first change after a
 * quiet `interval` is written at once and later ones are queued and written
 * together (when the interval ends or {@link MAX_QUEUED_BYTES} are queued),
 * so a sweep costs each stream a few writes, not one per provider. Streams
 * with a selector get the changes of the providers it picks, and a `remove`
 * for a provider relabelled out of it; each group's text is joined once. @internal
 */
export class ChangeOutbox {
  readonly #hub: EventStreamHub;
  readonly #ids: EventIds;
  readonly #throttle: Throttle;
  #queued: QueuedEvent[] = [];
  #bytes = 0;

  constructor(hub: EventStreamHub, ids: EventIds, clock: Clock, interval: number) {
    this.#hub = hub;
    this.#ids = ids;
    this.#throttle = new Throttle(clock, interval, () => this.#write());
  }

  /**
   * Queues one event; `data` is single-line JSON. `labels` are those of the
   * provider a `change` is about; `relabelled` says its labels just changed.
   */
  add(type: string, data: string, labels?: Labels, relabelled = false, name = ''): void {
    const id = this.#ids.next();
    const text = formatEvent(type, id, data);
    const unselected = relabelled ? formatEvent('remove', id, JSON.stringify({ name })) : undefined;
    this.#queued.push({ text, labels: type === 'change' ? (labels ?? NO_LABELS) : undefined, unselected });
    this.#bytes += text.length;
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
    const queued = this.#queued;
    this.#queued = [];
    this.#bytes = 0;
    for (const group of this.#hub.groups()) {
      if (group.batched) continue;
      const { selector } = group;
      const texts: string[] = [];
      for (const event of queued) {
        if (selector === undefined || event.labels === undefined || selector.matches(event.labels))
          texts.push(event.text);
        else if (event.unselected !== undefined) texts.push(event.unselected);
      }
      if (texts.length > 0)
        this.#hub.broadcast(texts.length === 1 ? (texts[0] as string) : texts.join(''), group.key);
    }
  }
}

/** A provider's row and its JSON text, with every list field or with some fields only. @internal */
export interface BatchRows {
  row(name: string): { readonly json: object; readonly text: string };
  fieldsRow(name: string, fields: readonly string[]): { readonly json: object; readonly text: string };
}

/** Rows built from `view` on each call (the handler passes its bodies, which cache them). */
function viewRows(view: HealthView): BatchRows {
  return {
    row: (name) => {
      const json = providerToJSON(view, name);
      return { json, text: rowText(json) };
    },
    fieldsRow: (name, fields) => {
      const json = providerToJSON(view, name, fieldMask(fields)) as unknown as Record<string, unknown>;
      return { json, text: fieldsText(json, fields) };
    },
  };
}

type Row = { readonly json: object; readonly text: string };

/**
 * The `changes` events of streams that asked for batches (`?batch=1`): the
 * names changed or removed meanwhile, sent at most once per `interval` (the
 * first change after a quiet interval at once) as
 * `{"changed":[<provider>…],"removed":[<name>…]}`, both sorted by name; a
 * provider changed many times is sent once, as it is when the batch goes
 * out. With `&fields=`, rows carry those fields only (as in `/api/providers`);
 * with `&selector=`, only the providers it picks, and a provider relabelled
 * out of it is listed in `removed`. With `&delta=1`, a row carries `name`
 * and the fields that changed since the row this group last sent for it
 * (a field gone as `null`); the first row of a provider after the group
 * opened, or after it left the selector, is whole. The group keeps the last
 * row it sent of each provider (at most one per provider and group, and
 * {@link MAX_STREAM_GROUPS} groups), forgotten when the group has no stream
 * at a write. One batch is serialised once per distinct group (selector,
 * fields, delta), for every stream of that group. @internal
 */
export class BatchOutbox {
  readonly #view: HealthView;
  readonly #hub: EventStreamHub;
  readonly #ids: EventIds;
  readonly #throttle: Throttle;
  readonly #rows: BatchRows;
  #changed = new Set<string>();
  #removed = new Set<string>();
  #relabelled = new Set<string>();
  /** Per `&delta=1` group key: the last row sent of each provider. */
  readonly #sent = new Map<string, Map<string, Readonly<Record<string, unknown>>>>();

  constructor(
    view: HealthView,
    hub: EventStreamHub,
    ids: EventIds,
    clock: Clock,
    interval: number,
    rows: BatchRows = viewRows(view),
  ) {
    this.#view = view;
    this.#rows = rows;
    this.#hub = hub;
    this.#ids = ids;
    this.#throttle = new Throttle(clock, interval, () => this.#write());
  }

  /** Notes that `name` changed (was checked, registered, relabelled or went stale). */
  changed(name: string, relabelled = false): void {
    this.#removed.delete(name);
    this.#changed.add(name);
    if (relabelled) this.#relabelled.add(name);
    this.#throttle.poke();
  }

  /** Notes that `name` was unregistered. */
  removed(name: string): void {
    this.#changed.delete(name);
    this.#relabelled.delete(name);
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
    this.#relabelled = new Set();
    this.#sent.clear();
  }

  #write(): void {
    if (this.#changed.size === 0 && this.#removed.size === 0) return;
    const changed = [...this.#changed].sort(byName).filter((name) => this.#view.registry.has(name));
    const removed = [...this.#removed].sort(byName);
    const relabelled = this.#relabelled;
    this.#changed = new Set();
    this.#removed = new Set();
    this.#relabelled = new Set();
    const id = this.#ids.next();
    // Rows built at most once per write and fields set, whatever the number of groups.
    const built = new Map<string, Map<string, Row>>();
    const rowOf = (name: string, fields: readonly string[] | undefined): Row => {
      const key = fields?.join(',') ?? '';
      let known = built.get(key);
      if (known === undefined) built.set(key, (known = new Map<string, Row>()));
      let row = known.get(name);
      if (row === undefined) {
        row = fields === undefined ? this.#rows.row(name) : this.#rows.fieldsRow(name, fields);
        known.set(name, row);
      }
      return row;
    };
    const labelsOf = (name: string): Labels => this.#view.registry.labels(name);
    const groups = this.#hub.groups();
    // A delta group without streams now sends nothing: what it last sent is no base any more.
    const open = new Set(groups.map((group) => group.key));
    for (const key of this.#sent.keys()) if (!open.has(key)) this.#sent.delete(key);
    // One serialisation per distinct group (bounded, see MAX_STREAM_GROUPS), not per stream.
    for (const group of groups) {
      if (!group.batched) continue;
      const { selector, fields } = group;
      let picked: readonly string[] = changed;
      let gone = removed;
      if (selector !== undefined) {
        picked = changed.filter((name) => selector.matches(labelsOf(name)));
        const out = changed.filter((name) => relabelled.has(name) && !selector.matches(labelsOf(name)));
        // Both lists are sorted and disjoint (a name is either changed or removed): merge them.
        if (out.length > 0) gone = [...removed, ...out].sort(byName);
        if (picked.length === 0 && gone.length === 0) continue;
      }
      const texts = group.delta
        ? this.#deltas(group.key, picked, gone, (name) => rowOf(name, fields))
        : picked.map((name) => rowOf(name, fields).text);
      // The same text as JSON.stringify({ changed: rows, removed: gone }).
      const data = `{"changed":[${texts.join(',')}],"removed":${JSON.stringify(gone)}}`;
      this.#hub.broadcast(formatEvent('changes', id, data), group.key);
    }
  }

  /** The delta texts of `picked` for the group `key`, which now last sent those rows and none of `gone`. */
  #deltas(
    key: string,
    picked: readonly string[],
    gone: readonly string[],
    rowOf: (name: string) => Row,
  ): string[] {
    let sent = this.#sent.get(key);
    if (sent === undefined)
      this.#sent.set(key, (sent = new Map<string, Readonly<Record<string, unknown>>>()));
    for (const name of gone) sent.delete(name);
    return picked.map((name) => {
      const row = rowOf(name);
      const json = row.json as Readonly<Record<string, unknown>>;
      const previous = sent.get(name);
      sent.set(name, json);
      return previous === undefined ? row.text : JSON.stringify(rowDelta(previous, json));
    });
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
