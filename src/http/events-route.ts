import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { ApiBodies } from './api-bodies.js';
import { BatchOutbox, ChangeOutbox, type EventIds } from './event-outbox.js';
import { EventStreamHub, eventBytes } from './event-stream.js';
import type { ResolvedHandlerOptions } from './options.js';
import { providerToJSON } from './provider-json.js';
import { isQueryError, quote, type QueryError } from './providers-query.js';
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
    const batched = batchParameter(target);
    if (isQueryError(batched)) {
      return sendError(req, res, 400, batched.error, undefined, { parameter: batched.parameter });
    }
    if (this.#hub.size >= this.#maxStreams) {
      return sendError(req, res, 503, 'Too many open event streams; try again later', { 'Retry-After': '5' });
    }
    // Older events go out to the open streams first: the new stream's snapshot already holds them.
    this.#each.flush();
    this.#batches.flush();
    // Fresh, not the published version: a change made before the stream opened is never sent on it.
    this.#bodies.flush();
    const snapshot = this.#bodies.providers().body;
    this.#hub.open(req, res, eventBytes('snapshot', ++this.#eventId, snapshot), batched);
  }

  /** Queues the current form of `name` for every stream, serialised once. */
  #announce(name: string): void {
    if (this.#hub.size > this.#hub.batchedSize) {
      this.#each.add('change', JSON.stringify(providerToJSON(this.#view, name)));
    }
    if (this.#hub.batchedSize > 0) this.#batches.changed(name);
  }
}

/** `?batch=1` (or `true`) asks for batches, `0`/`false` or nothing for each change. */
function batchParameter(target: RequestTarget): boolean | QueryError {
  let batched: boolean | undefined;
  for (const [key, value] of target.query) {
    if (key !== 'batch') {
      return {
        error: `Unknown query parameter ${quote(key)}; /api/events takes batch`,
        parameter: key.slice(0, 100),
      };
    }
    if (batched !== undefined)
      return { error: 'Query parameter "batch" is given more than once', parameter: key };
    if (value === '1' || value === 'true') batched = true;
    else if (value === '0' || value === 'false') batched = false;
    else
      return {
        error: `Query parameter "batch" must be 1, true, 0 or false, got ${quote(value)}`,
        parameter: key,
      };
  }
  return batched ?? false;
}
