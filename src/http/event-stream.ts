import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../clock.js';

/** A client whose unsent output grows past this is too slow to follow and is dropped. */
const MAX_BUFFERED = 1 << 20;

/**
 * The open `/api/events` streams. Each change is serialised once by the
 * caller and written to every stream; one timer sends heartbeats to all of
 * them, and runs only while a stream is open. @internal
 */
export class EventStreamHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #onHeartbeat: () => void;
  #timer: TimerHandle;
  #ticking = false;

  /**
   * @param onHeartbeat Called before each heartbeat (the handler polls the
   * view there, so stale statuses reach the streams as changes).
   */
  constructor(clock: Clock, interval: number, onHeartbeat: () => void) {
    this.#clock = clock;
    this.#interval = interval;
    this.#onHeartbeat = onHeartbeat;
  }

  /** Open streams. */
  get size(): number {
    return this.#clients.size;
  }

  /** Starts a stream on `res` with `first` (the snapshot) as its first event. */
  open(res: ServerResponse, first: string): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.socket?.setNoDelay(true);
    this.#clients.add(res);
    res.once('close', () => this.#remove(res));
    // A write racing a disconnect must not become an uncaught 'error' event.
    res.on('error', () => this.#remove(res));
    // A reconnecting browser waits this long (ms) before retrying.
    res.write(`retry: 3000\n\n${first}`);
    this.#schedule();
  }

  /** Writes one serialised event to every stream. */
  broadcast(event: string): void {
    for (const res of this.#clients) this.#write(res, event);
  }

  /** Ends every stream and stops the heartbeat. */
  closeAll(): void {
    for (const res of [...this.#clients]) res.end();
    this.#clients.clear();
    this.#stop();
  }

  #write(res: ServerResponse, text: string): void {
    if (res.writableEnded || res.destroyed) {
      this.#remove(res);
      return;
    }
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      this.#remove(res);
      return;
    }
    res.write(text);
  }

  #remove(res: ServerResponse): void {
    this.#clients.delete(res);
    if (this.#clients.size === 0) this.#stop();
  }

  #schedule(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    this.#timer = this.#clock.setTimeout(() => this.#beat(), this.#interval);
  }

  #beat(): void {
    this.#ticking = false;
    if (this.#clients.size === 0) return;
    this.#onHeartbeat();
    for (const res of this.#clients) this.#write(res, ': ping\n\n');
    this.#schedule();
  }

  #stop(): void {
    if (!this.#ticking) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ticking = false;
  }
}

/** Formats one server-sent event; `data` must be single-line JSON. @internal */
export function formatEvent(type: string, id: number, data: string): string {
  return `id: ${id}\nevent: ${type}\ndata: ${data}\n\n`;
}
