import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { ApiBodies } from './api-bodies.js';
import { BatchOutbox, ChangeOutbox, MAX_FIELD_SETS, type EventIds } from './event-outbox.js';
import { EventStreamHub, eventBytes } from './event-stream.js';
import type { ResolvedHandlerOptions } from './options.js';
import { providerToJSON } from './provider-json.js';
import {
  fieldsParameter,
  isQueryError,
  quote,
  type ProvidersQuery,
  type QueryError,
} from './providers-query.js';
import type { RequestTarget } from './request-target.js';
import { sendError } from './responses.js';
import { STREAM, type Route } from './route-table.js';

/**
 * `GET /api/events`: a snapshot on connect, then one `change` per new result
 * or registration and one `remove` per unregistration, each serialised once
 * for every stream and written in groups while a sweep runs. With
 * `?batch=1`, one `changes` event per publishInterval instead (see
 * {@link BatchOutbox}). @internal
 */
export class EventsRoute implements Disposable {
  readonly #view: HealthView;
  readonly #bodies: ApiBodies;
  readonly #hub: EventStreamHub;
  readonly #maxStreams: number;
  readonly #each: ChangeOutbox;
  readonly #batches: BatchOutbox;
  readonly #subscriptions: Disposable[];
  #eventId = 0;

  constructor(view: HealthView, bodies: ApiBodies, options: ResolvedHandlerOptions) {
    this.#view = view;
    this.#bodies = bodies;
    const { clock, publishInterval } = options;
    this.#hub = new EventStreamHub(clock, options.heartbeatInterval);
    this.#maxStreams = options.maxEventStreams;
    const ids: EventIds = { next: () => ++this.#eventId };
    this.#each = new ChangeOutbox(this.#hub, ids, clock, publishInterval);
    this.#batches = new BatchOutbox(view, this.#hub, ids, clock, publishInterval);
    this.#subscriptions = [
      view.onChange(({ name, status }) => {
        // Removals are announced once, from the registry listener below.
        if (status !== undefined) this.#announce(name);
      }),
      view.registry.onChange(({ type, name }) => {
        if (type !== 'unregistered') return this.#announce(name);
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
    if (isQueryError(query)) {
      return sendError(req, res, 400, query.error, undefined, { parameter: query.parameter });
    }
    if (this.#hub.size >= this.#maxStreams) {
      return sendError(req, res, 503, 'Too many open event streams; try again later', { 'Retry-After': '5' });
    }
    const group = query.batched ? (query.fields?.join(',') ?? '') : undefined;
    const groups = this.#hub.batchGroups();
    if (group !== undefined && !groups.has(group) && groups.size >= MAX_FIELD_SETS) {
      const message = `Event streams ask for ${MAX_FIELD_SETS} different fields sets already; ask for one of them or all fields`;
      return sendError(req, res, 503, message, { 'Retry-After': '5' });
    }
    // Older events go out to the open streams first: the new stream's snapshot already holds them.
    this.#each.flush();
    this.#batches.flush();
    // Fresh, not the published version: a change made before the stream opened is never sent on it.
    this.#bodies.flush();
    const snapshot = query.fields
      ? this.#bodies.providerList(fieldsOnly(query.fields))
      : this.#bodies.providers();
    this.#hub.open(req, res, eventBytes('snapshot', ++this.#eventId, snapshot.body), group);
  }

  /** Queues the current form of `name` for every stream, serialised once. */
  #announce(name: string): void {
    if (this.#hub.size > this.#hub.batchedSize) {
      this.#each.add('change', JSON.stringify(providerToJSON(this.#view, name)));
    }
    if (this.#hub.batchedSize > 0) this.#batches.changed(name);
  }
}

/** What a stream asked for: batches, and which fields their rows carry. */
interface StreamQuery {
  readonly batched: boolean;
  /** Wanted fields, `name` first; `undefined` for every field. */
  readonly fields: string[] | undefined;
}

/**
 * `?batch=1` (or `true`) asks for batches, `0`/`false` or nothing for each
 * change; `fields` (with batches only) as in `/api/providers`.
 */
function streamQuery(target: RequestTarget): StreamQuery | QueryError {
  let batched: boolean | undefined;
  let fields: string[] | undefined;
  for (const [key, value] of target.query) {
    if (key !== 'batch' && key !== 'fields') {
      const error = `Unknown query parameter ${quote(key)}; /api/events takes batch, fields`;
      return { error, parameter: key.slice(0, 100) };
    }
    if ((key === 'batch' ? batched : fields) !== undefined) {
      return { error: `Query parameter ${quote(key)} is given more than once`, parameter: key };
    }
    if (key === 'fields') {
      const wanted = fieldsParameter(value);
      if (isQueryError(wanted)) return wanted;
      fields = wanted;
    } else if (value === '1' || value === 'true') batched = true;
    else if (value === '0' || value === 'false') batched = false;
    else {
      return {
        error: `Query parameter "batch" must be 1, true, 0 or false, got ${quote(value)}`,
        parameter: key,
      };
    }
  }
  if (fields !== undefined && batched !== true) {
    return { error: 'Query parameter "fields" needs batch=1 on /api/events', parameter: 'fields' };
  }
  return { batched: batched ?? false, fields };
}

/** A list query asking for `fields` only. */
function fieldsOnly(fields: readonly string[]): ProvidersQuery {
  return { states: undefined, fields, limit: undefined, after: undefined, key: `fields=${fields.join(',')}` };
}
