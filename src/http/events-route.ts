import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { ApiBodies } from './api-bodies.js';
import type { Selector } from '../selector.js';
import {
  BatchOutbox,
  ChangeOutbox,
  MAX_FIELD_SETS,
  MAX_STREAM_GROUPS,
  type EventIds,
} from './event-outbox.js';
import { EventStreamHub, streamGroup, type StreamGroup } from './event-stream.js';
import type { ResolvedHandlerOptions } from './options.js';
import {
  fieldsParameter,
  isQueryError,
  quote,
  type ProvidersQuery,
  type QueryError,
} from './providers-query.js';
import type { RequestTarget } from './request-target.js';
import { sendError, sendQueryError } from './responses.js';
import { selectorParam } from './selector-param.js';
import { STREAM, type Route } from './route-table.js';

/**
 * `GET /api/events`: a snapshot on connect, then one `change` per new result
 * or registration and one `remove` per unregistration, each serialised once
 * for every stream and written in groups while a sweep runs. With
 * `?batch=1`, one `changes` event per publishInterval instead (see
 * {@link BatchOutbox}). @internal
 */
export class EventsRoute implements Disposable {
  readonly #bodies: ApiBodies;
  readonly #hub: EventStreamHub;
  readonly #maxStreams: number;
  readonly #each: ChangeOutbox;
  readonly #batches: BatchOutbox;
  readonly #subscriptions: Disposable[];
  #eventId = 0;

  constructor(view: HealthView, bodies: ApiBodies, options: ResolvedHandlerOptions) {
    this.#bodies = bodies;
    const { clock, publishInterval } = options;
    this.#hub = new EventStreamHub(clock, options.heartbeatInterval);
    this.#maxStreams = options.maxEventStreams;
    const ids: EventIds = { next: () => ++this.#eventId };
    this.#each = new ChangeOutbox(this.#hub, ids, clock, publishInterval);
    // Rows come from the bodies' cache: one serialisation per status for the list and every stream.
    this.#batches = new BatchOutbox(view, this.#hub, ids, clock, publishInterval, bodies);
    this.#subscriptions = [
      view.onChange(({ name, status }) => {
        // Removals are announced once, from the registry listener below.
        if (status !== undefined) this.#announce(name, false);
      }),
      view.registry.onChange(({ type, name }) => {
        if (type !== 'unregistered') return this.#announce(name, type === 'relabelled');
        if (this.#hub.size > this.#hub.batchedSize) this.#each.add('remove', JSON.stringify({ name }));
        if (this.#hub.batchedSize > 0) this.#batches.removed(name);
      }),
    ];
  }

  /** Open streams. */
  get size(): number {
    return this.#hub.size;
  }

  /** The route table row. */
  get route(): Route {
    return {
      path: ['api', 'events'],
      methods: STREAM,
      serve: (req, res, _name, target) => this.#serve(req, res, target),
    };
  }

  /** Ends every stream and stops listening to the view. */
  dispose(): void {
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#each.dispose();
    this.#batches.dispose();
    this.#hub.closeAll();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #serve(req: IncomingMessage, res: ServerResponse, target: RequestTarget): void {
    const query = streamQuery(target);
    if (isQueryError(query)) return sendQueryError(req, res, query);
    if (this.#hub.size >= this.#maxStreams) {
      return sendError(req, res, 503, 'Too many open event streams; try again later', { 'Retry-After': '5' });
    }
    const group = streamGroup(query.batched, query.selector, query.fields, query.delta);
    const refusal = this.#groupRefusal(group);
    if (refusal !== undefined) return sendError(req, res, 503, refusal, { 'Retry-After': '5' });
    // Older events go out to the open streams first: the new stream's snapshot already holds them.
    this.#each.flush();
    this.#batches.flush();
    // Fresh, not the published version: a change made before the stream opened is never sent on it.
    this.#bodies.flush();
    const snapshot =
      query.fields || query.selector
        ? this.#bodies.providerList(snapshotQuery(query.fields, query.selector))
        : this.#bodies.providers();
    this.#hub.open(req, res, { id: ++this.#eventId, data: snapshot.body }, group);
  }

  /** Why a stream of a new `group` cannot be opened (the bounds on distinct groups), or `undefined`. */
  #groupRefusal(group: StreamGroup): string | undefined {
    if (this.#hub.hasGroup(group.key)) return undefined;
    const groups = this.#hub.groups();
    if (groups.length >= MAX_STREAM_GROUPS) {
      return `Event streams ask for ${MAX_STREAM_GROUPS} different selector and fields combinations already; ask for one of them`;
    }
    if (group.batched) {
      const fieldSets = new Set(groups.filter((g) => g.batched).map((g) => g.fields?.join(',') ?? ''));
      if (!fieldSets.has(group.fields?.join(',') ?? '') && fieldSets.size >= MAX_FIELD_SETS) {
        return `Event streams ask for ${MAX_FIELD_SETS} different fields sets already; ask for one of them or all fields`;
      }
    }
    return undefined;
  }

  /** Queues the current form of `name` for every stream, serialised once. */
  #announce(name: string, relabelled: boolean): void {
    if (this.#hub.size > this.#hub.batchedSize) {
      const { json, text } = this.#bodies.row(name);
      this.#each.add('change', text, json.labels, relabelled, name);
    }
    if (this.#hub.batchedSize > 0) this.#batches.changed(name, relabelled);
  }
}

/** What a stream asked for: batches, which providers, and which fields their rows carry. */
interface StreamQuery {
  readonly batched: boolean;
  /** Wanted fields, `name` first; `undefined` for every field. */
  readonly fields: string[] | undefined;
  readonly selector: Selector | undefined;
  /** Batches carry each provider's changed fields only (`&delta=1`). */
  readonly delta: boolean;
}

const STREAM_PARAMETERS = ['batch', 'fields', 'selector', 'delta'];

/**
 * `?batch=1` (or `true`) asks for batches, `0`/`false` or nothing for each
 * change; `fields` (with batches only) as in `/api/providers`; `delta=1`
 * (with batches only) the changed fields of each row only; `selector`
 * (either kind) picks providers by label.
 */
function streamQuery(target: RequestTarget): StreamQuery | QueryError {
  const given = new Map<string, string>();
  for (const [key, value] of target.query) {
    if (!STREAM_PARAMETERS.includes(key)) {
      const error = `Unknown query parameter ${quote(key)}; /api/events takes ${STREAM_PARAMETERS.join(', ')}`;
      return { error, parameter: key.slice(0, 100) };
    }
    if (given.has(key))
      return { error: `Query parameter ${quote(key)} is given more than once`, parameter: key };
    given.set(key, value);
  }
  const batched = flag(given, 'batch');
  if (isQueryError(batched)) return batched;
  const delta = flag(given, 'delta');
  if (isQueryError(delta)) return delta;
  if (delta === true && batched !== true) {
    return { error: 'Query parameter "delta" needs batch=1 on /api/events', parameter: 'delta' };
  }
  let fields: string[] | undefined;
  const wanted = given.get('fields');
  if (wanted !== undefined) {
    const parsed = fieldsParameter(wanted);
    if (isQueryError(parsed)) return parsed;
    fields = parsed;
  }
  if (fields !== undefined && batched !== true) {
    return { error: 'Query parameter "fields" needs batch=1 on /api/events', parameter: 'fields' };
  }
  const selector = selectorParam(given.get('selector') ?? '');
  if (isQueryError(selector)) return selector;
  return { batched: batched ?? false, fields, selector, delta: delta ?? false };
}

/** A `1`/`true`/`0`/`false` parameter; `undefined` when not given. */
function flag(given: ReadonlyMap<string, string>, name: string): boolean | undefined | QueryError {
  const value = given.get(name);
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  if (value === undefined) return undefined;
  return {
    error: `Query parameter ${quote(name)} must be 1, true, 0 or false, got ${quote(value)}`,
    parameter: name,
  };
}

/** A list query for a stream's snapshot: `fields` and `selector` only. */
function snapshotQuery(
  fields: readonly string[] | undefined,
  selector: Selector | undefined,
): ProvidersQuery {
  const parts: string[] = [];
  if (selector) parts.push(`selector=${selector.toString()}`);
  if (fields) parts.push(`fields=${fields.join(',')}`);
  return { states: undefined, fields, limit: undefined, after: undefined, selector, key: parts.join('&') };
}
