import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../clock.js';
import type { Selector } from '../selector.js';
import { acceptsGzip } from './encodings.js';
import { BlockCache, deflateBlocks, deflateBlocksSync, GZIP_HEADER, storedBlocks } from './event-coding.js';

/**
 * A client whose unsent output grows past this, beyond the largest event it
 * was sent, is too slow to follow and is dropped. The largest event is not
 * counted: at 10,000 providers a snapshot or a batch is megabytes, and a
 * client still reading it is not slow.
 */
const MAX_BUFFERED = 1 << 20;
/** The heartbeat comment. */
const PING = Buffer.from(': ping\n\n');
const PING_BLOCKS = deflateBlocksSync(PING);
const EVENT_END = Buffer.from('\n\n');
const EVENT_END_BLOCKS = storedBlocks(EVENT_END);

/**
 * What a set of streams asked for: each distinct (batch, selector, fields)
 * is one group, whose events are filtered and serialised once for all its
 * streams. @internal
 */
export interface StreamGroup {
  /** `p|<selector>|` for per-change streams, `b|<selector>|<fields>` for batched ones, `d|…` for batched deltas. */
  readonly key: string;
  readonly batched: boolean;
  /** Only providers whose labels it selects; `undefined` for every provider. */
  readonly selector: Selector | undefined;
  /** Wanted fields (batched streams), `name` first; `undefined` for every field. */
  readonly fields: readonly string[] | undefined;
  /** Batched streams asking for the changed fields of each row only (`&delta=1`). */
  readonly delta: boolean;
}

/** The group of streams asking for `batched`, `selector`, `fields` and `delta` (`d|…` keys). @internal */
export function streamGroup(
  batched: boolean,
  selector: Selector | undefined,
  fields: readonly string[] | undefined,
  delta = false,
): StreamGroup {
  const kind = delta ? 'd' : batched ? 'b' : 'p';
  const key = `${kind}|${selector?.toString() ?? ''}|${fields?.join(',') ?? ''}`;
  return { key, batched: batched || delta, selector, fields, delta };
}

/**
 * The open `/api/events` streams. Each change is serialised once by the
 * caller and written to every stream; one timer sends heartbeats to all of
 * them, and runs only while a stream is open.
 *
 * Streams are released when their socket closes, not only when their
 * response does: a client that pipelines several requests on one connection
 * has responses queued behind the first, and Node never emits `close` on a
 * queued response when the socket dies. @internal
 */
export class EventStreamHub {
  /** Each open stream and the socket it is written to. */
  readonly #clients = new Map<ServerResponse, Socket>();
  /** The group of each open stream. */
  readonly #groupOf = new Map<ServerResponse, StreamGroup>();
  /** The groups with open streams, and their streams. */
  readonly #groups = new Map<
    string,
    { readonly group: StreamGroup; readonly members: Set<ServerResponse> }
  >();
  #batchedSize = 0;
  /** The largest event (bytes) written to each stream. */
  readonly #largest = new WeakMap<ServerResponse, number>();
  /** The streams of each socket, and the one `close` listener per socket that ends them. */
  readonly #sockets = new Map<
    Socket,
    { readonly streams: Set<ServerResponse>; readonly onClose: () => void }
  >();
  /** gzip streams (see event-coding.ts): their writes wait on one promise each, so they keep their order. */
  readonly #coded = new Map<ServerResponse, { chain: Promise<void> }>();
  /** Compressed snapshot bodies, once per body version for every gzip stream. */
  readonly #snapshotBlocks = new BlockCache();
  readonly #clock: Clock;
  readonly #interval: number;
  #timer: TimerHandle;
  #ticking = false;

  constructor(clock: Clock, interval: number) {
    this.#clock = clock;
    this.#interval = interval;
  }

  /** Open streams. */
  get size(): number {
    return this.#clients.size;
  }

  /** Open streams that asked for batches. */
  get batchedSize(): number {
    return this.#batchedSize;
  }

  /** The groups with at least one open stream. */
  groups(): StreamGroup[] {
    return [...this.#groups.values()].map((entry) => entry.group);
  }

  /** Whether a stream of `key` is open. */
  hasGroup(key: string): boolean {
    return this.#groups.has(key);
  }

  /**
   * Starts a stream of `group` on `res` with its snapshot event (`id`, and
   * `data`: a cached body). gzip when the client accepts it: every write is
   * compressed once for all the gzip streams (see event-coding.ts).
   */
  open(
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: { readonly id: number; readonly data: Buffer },
    group: StreamGroup,
  ): void {
    const gzip = acceptsGzip(req.headers['accept-encoding']);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.socket?.setNoDelay(true);
    this.#clients.set(res, req.socket);
    this.#join(res, group);
    this.#watch(req.socket, res);
    res.once('close', () => this.#remove(res));
    // A write racing a disconnect must not become an uncaught 'error' event.
    res.on('error', () => this.#remove(res));
    // A reconnecting browser waits this long (ms) before retrying.
    const head = Buffer.from(`retry: 3000\n\nid: ${snapshot.id}\nevent: snapshot\ndata: `);
    this.#largest.set(res, head.length + snapshot.data.length + EVENT_END.length);
    if (gzip) {
      this.#coded.set(res, { chain: Promise.resolve() });
      res.write(GZIP_HEADER);
      res.write(storedBlocks(head));
      this.#queue(res, this.#snapshotBlocks.get(snapshot.data));
      this.#queue(res, Promise.resolve(EVENT_END_BLOCKS));
    } else {
      res.write(head);
      res.write(snapshot.data);
      res.write(EVENT_END);
    }
    this.#schedule();
  }

  /** Writes serialised events to the streams of group `key`. */
  broadcast(event: string, key: string): void {
    const entry = this.#groups.get(key);
    if (entry === undefined) return;
    // Encoded once: 100 streams must not each turn a megabyte string into bytes again.
    const bytes = Buffer.from(event);
    // Compressed once (in the thread pool) for every gzip stream of the group, only if one is open.
    let blocks: Promise<Buffer> | undefined;
    for (const res of [...entry.members]) {
      if (this.#coded.has(res)) this.#queue(res, (blocks ??= deflateBlocks(bytes)));
      else this.#write(res, bytes);
    }
  }

  /** Writes `blocks` to the gzip stream `res` after everything queued before them. */
  #queue(res: ServerResponse, blocks: Promise<Buffer>): void {
    const coded = this.#coded.get(res);
    if (coded === undefined) return;
    coded.chain = coded.chain
      .then(() => blocks)
      .then(
        (bytes) => this.#write(res, bytes),
        // Compressing a buffer fails only out of memory: this stream cannot go on.
        () => {
          res.destroy();
          this.#remove(res);
        },
      );
  }

  #join(res: ServerResponse, group: StreamGroup): void {
    this.#groupOf.set(res, group);
    const entry = this.#groups.get(group.key);
    if (entry) entry.members.add(res);
    else this.#groups.set(group.key, { group, members: new Set([res]) });
    if (group.batched) this.#batchedSize++;
  }

  #leave(res: ServerResponse): void {
    const group = this.#groupOf.get(res);
    if (group === undefined) return;
    this.#groupOf.delete(res);
    const entry = this.#groups.get(group.key);
    entry?.members.delete(res);
    if (entry?.members.size === 0) this.#groups.delete(group.key);
    if (group.batched) this.#batchedSize--;
  }

  /** Ends every stream and stops the heartbeat. */
  closeAll(): void {
    for (const res of [...this.#clients.keys()]) {
      this.#remove(res);
      res.end();
    }
    this.#stop();
  }

  #write(res: ServerResponse, bytes: Buffer): void {
    if (res.writableEnded || res.destroyed) {
      this.#remove(res);
      return;
    }
    const largest = this.#largest.get(res) ?? 0;
    if (res.writableLength > MAX_BUFFERED + largest) {
      res.destroy();
      this.#remove(res);
      return;
    }
    if (bytes.length > largest) this.#largest.set(res, bytes.length);
    res.write(bytes);
  }

  /** Ends `res` when `socket` closes (once per socket, however many streams it carries). */
  #watch(socket: Socket, res: ServerResponse): void {
    const watched = this.#sockets.get(socket);
    if (watched) {
      watched.streams.add(res);
      return;
    }
    const streams = new Set([res]);
    const onClose = (): void => {
      for (const stream of [...streams]) {
        this.#remove(stream);
        stream.destroy();
      }
    };
    this.#sockets.set(socket, { streams, onClose });
    socket.once('close', onClose);
  }

  #remove(res: ServerResponse): void {
    const socket = this.#clients.get(res);
    if (socket === undefined) return;
    this.#clients.delete(res);
    this.#coded.delete(res);
    this.#leave(res);
    const watched = this.#sockets.get(socket);
    if (watched) {
      watched.streams.delete(res);
      if (watched.streams.size === 0) {
        socket.off('close', watched.onClose);
        this.#sockets.delete(socket);
      }
    }
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
    for (const res of this.#clients.keys()) {
      if (this.#coded.has(res)) this.#queue(res, Promise.resolve(PING_BLOCKS));
      else this.#write(res, PING);
    }
    this.#schedule();
  }

  #stop(): void {
    if (!this.#ticking) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ticking = false;
  }
}

/** One server-sent event whose `data` is the bytes of single-line JSON (a cached body, not copied into a string). @internal */
export function eventBytes(type: string, id: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`id: ${id}\nevent: ${type}\ndata: `), data, Buffer.from('\n\n')]);
}

/** Formats one server-sent event; `data` must be single-line JSON. @internal */
export function formatEvent(type: string, id: number, data: string): string {
  return `id: ${id}\nevent: ${type}\ndata: ${data}\n\n`;
}
