import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a redis-server, to cut one replica off
 * from Redis while the others still reach it. While cut, open connections
 * are destroyed and new ones are accepted but never answered, as behind a
 * network partition. While held, what the replica sends is kept back and
 * delivered late, on release, as by a congested or stalled network; while
 * replies are held, what Redis answers is kept back the same way, so a
 * command reaches Redis on time and its reply arrives late.
 */
export class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  #held: (() => void)[] | undefined;
  #heldText = '';
  #heldReplies: (() => void)[] | undefined;
  readonly #requestWatchers = new Set<(text: string) => void>();
  #heldReplyBytes = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts forwarding 127.0.0.1:<free port> to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number): Promise<CuttableProxy> {
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => proxy.#accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (typeof address !== 'object' || address === null) throw new Error('not listening');
    return address.port;
  }

  /** Drops every connection and blackholes new ones. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Forwards new connections again. */
  heal(): void {
    this.#cut = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Keeps back everything sent towards Redis from now on. */
  hold(): void {
    this.#held ??= [];
  }

  /** Delivers what was kept back, in order, and forwards as usual again. Returns what it delivered. */
  release(): string {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const deliver of held) deliver();
    const text = this.#heldText;
    this.#heldText = '';
    return text;
  }

  /** Calls `watcher` with each chunk sent towards Redis (as latin1 text); returns a function that stops it. */
  watchRequests(watcher: (text: string) => void): () => void {
    this.#requestWatchers.add(watcher);
    return () => this.#requestWatchers.delete(watcher);
  }

  /** Keeps back everything Redis answers from now on (commands still reach it at once). */
  holdReplies(): void {
    this.#heldReplies ??= [];
  }

  /** Bytes of replies kept back so far (since {@link CuttableProxy.holdReplies}). */
  get heldReplyBytes(): number {
    return this.#heldReplyBytes;
  }

  /** Delivers the replies kept back, in order, and forwards them as usual again. */
  releaseReplies(): void {
    const held = this.#heldReplies ?? [];
    this.#heldReplies = undefined;
    this.#heldReplyBytes = 0;
    for (const deliver of held) deliver();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, targetPort: number): void {
    this.#track(client);
    client.on('error', () => client.destroy());
    if (this.#cut) return;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    this.#track(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => {
      for (const watcher of this.#requestWatchers) watcher(chunk.toString('latin1'));
      if (this.#held === undefined) {
        upstream.write(chunk);
        return;
      }
      this.#heldText += chunk.toString('latin1');
      this.#held.push(() => upstream.write(chunk));
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.#heldReplies === undefined) {
        client.write(chunk);
        return;
      }
      this.#heldReplyBytes += chunk.length;
      this.#heldReplies.push(() => client.write(chunk));
    });
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }
}
