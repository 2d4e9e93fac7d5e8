import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { ApiBodies } from './api-bodies.js';
import { EventStreamHub, formatEvent } from './event-stream.js';
import type { ResolvedHandlerOptions } from './options.js';
import { providerToJSON } from './provider-json.js';
import { sendError } from './responses.js';
import { STREAM, type Route } from './route-table.js';

/**
 * `GET /api/events`: a snapshot on connect, then one `change` per new result
 * or registration and one `remove` per unregistration, each serialised once
 * for every stream. @internal
 */
export class EventsRoute implements Disposable {
  readonly #view: HealthView;
  readonly #bodies: ApiBodies;
  readonly #hub: EventStreamHub;
  readonly #maxStreams: number;
  readonly #subscriptions: Disposable[];
  #eventId = 0;

  constructor(view: HealthView, bodies: ApiBodies, options: ResolvedHandlerOptions) {
    this.#view = view;
    this.#bodies = bodies;
    this.#hub = new EventStreamHub(options.clock, options.heartbeatInterval);
    this.#maxStreams = options.maxEventStreams;
    this.#subscriptions = [
      view.onChange(({ name, status }) => {
        // Removals are announced once, from the registry listener below.
        if (status !== undefined) this.#announce(name);
      }),
      view.registry.onChange(({ type, name }) => {
        if (type === 'unregistered') this.#broadcast('remove', JSON.stringify({ name }));
        else this.#announce(name);
      }),
    ];
  }

  /** Open streams. */
  get size(): number {
    return this.#hub.size;
  }

  /** The route table row. */
  get route(): Route {
    return { path: ['api', 'events'], methods: STREAM, serve: (req, res) => this.#serve(req, res) };
  }

  /** Ends every stream and stops listening to the view. */
  dispose(): void {
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#hub.closeAll();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.#hub.size >= this.#maxStreams) {
      return sendError(req, res, 503, 'Too many open event streams; try again later', { 'Retry-After': '5' });
    }
    // Fresh, not the published version: a change made before the stream opened is never sent on it.
    this.#bodies.flush();
    const snapshot = this.#bodies.providers().body.toString();
    this.#hub.open(req, res, formatEvent('snapshot', ++this.#eventId, snapshot));
  }

  /** Sends the current form of `name` to every stream, serialised once. */
  #announce(name: string): void {
    if (this.#hub.size === 0) return;
    this.#broadcast('change', JSON.stringify(providerToJSON(this.#view, name)));
  }

  #broadcast(type: string, data: string): void {
    if (this.#hub.size === 0) return;
    this.#hub.broadcast(formatEvent(type, ++this.#eventId, data));
  }
}
