import type { Clock } from '../clock.js';
import type { Connections } from './connection.js';
import type { SharedKeys } from './keys.js';

/** What a replica does on the connections' events. @internal */
export interface ConnectionHandlers {
  /** A batch of records published by the leader. */
  update(message: string): void;
  /** A refresh request published by a follower. */
  refresh(message: string): void;
  /** A member joined or left (sharded replica sets). */
  membership(): void;
  /** The command connection closed (Redis may be gone). */
  closed(): void;
  /** The command connection is ready again. */
  ready(): void;
  /** Both connections are back after a drop: updates may have been missed. */
  resubscribed(): void;
  /** Subscribing failed. */
  failed(error: unknown): void;
}

/**
 * Subscribes to the shared channels and wires the connections' events to
 * `handlers`. Returns the function that removes every listener it added. @internal
 */
export function watchConnections(
  connections: Connections,
  keys: SharedKeys,
  handlers: ConnectionHandlers,
): () => void {
  const { client, subscriber } = connections;
  const onMessage = (channel: string, message: string): void => {
    if (channel === keys.updates) handlers.update(message);
    else if (channel === keys.refresh) handlers.refresh(message);
    else if (channel === keys.membership) handlers.membership();
  };
  // Updates published while the subscriber was away are missed: reload, through
  // the command connection once that one is back too.
  let reloadWanted = false;
  const onSubscriberReady = (): void => {
    if (client.status === 'ready') handlers.resubscribed();
    else reloadWanted = true;
  };
  const onReady = (): void => {
    if (reloadWanted) {
      reloadWanted = false;
      handlers.resubscribed();
    }
    handlers.ready();
  };
  const onClose = (): void => handlers.closed();
  subscriber.on('message', onMessage);
  subscriber.on('ready', onSubscriberReady);
  client.on('close', onClose);
  client.on('ready', onReady);
  subscriber
    .subscribe(keys.updates, keys.refresh, keys.membership)
    .catch((error: unknown) => handlers.failed(error));
  return () => {
    subscriber.off('message', onMessage);
    subscriber.off('ready', onSubscriberReady);
    client.off('close', onClose);
    client.off('ready', onReady);
  };
}

/** Waits until `client` is connected, at most `timeout` ms on `clock`; never rejects. @internal */
export async function whenReady(
  client: Connections['client'],
  clock: Clock,
  timeout: number,
  signal: AbortSignal,
): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      client.off('ready', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, timeout);
    client.on('ready', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A wait between lease rounds that can be cut short, so a change of Redis
 * health is acted on at once; a wake-up asked for while not waiting cuts
 * the next wait. @internal
 */
export class Pause {
  readonly #clock: Clock;
  #wake: (() => void) | undefined;
  #wakeRequested = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Waits `ms` on the clock, until woken, or until `signal` aborts. Never rejects. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#wakeRequested || signal.aborted) {
      this.#wakeRequested = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  /** Cuts the current wait short (or the next one). */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#wakeRequested = true;
  }
}
