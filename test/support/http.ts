/**
 * Helpers for tests of the HTTP surface: real loopback servers, a raw
 * node:http client (any method, any header), an SSE reader, and a cache whose
 * providers a test switches between states.
 */
import http, { type IncomingHttpHeaders, type RequestListener } from 'node:http';
import net from 'node:net';
import {
  HealthCache,
  ProviderRegistry,
  type HealthCacheOptions,
  type HealthEvent,
  type HealthReport,
  type HealthView,
} from '../../src/index.js';
import { close, listen } from './listen.js';

/** A server listening on 127.0.0.1 and a way to stop it. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** Starts `listener` on a free loopback port. */
export async function serve(listener: RequestListener): Promise<TestServer> {
  const server = http.createServer(listener);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, server, close: () => close(server) };
}

/** What {@link request} returns. */
export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json<T = unknown>(): T;
}

/**
 * Sends one request over a fresh connection (no keep-alive); any method or
 * header goes. `timeout` (default 30 s) bounds the whole exchange, not only
 * idle time: an answer that never ends (an event stream let through by
 * mistake, kept alive by heartbeats) fails the test instead of hanging it.
 */
export function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeout?: number;
  } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
    });
    const timeout = options.timeout ?? 30_000;
    const deadline = setTimeout(
      () => req.destroy(new Error(`request to ${url} got no complete answer within ${timeout} ms`)),
      timeout,
    );
    const fail = (error: Error): void => {
      clearTimeout(deadline);
      reject(error);
    };
    req.once('error', fail);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', fail);
      res.once('end', () => {
        clearTimeout(deadline);
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    req.end(options.body);
  });
}

/** One server-sent event. */
export interface ServerEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/** An open `/api/events` stream that collects events and comments. */
export interface EventReader {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly events: ServerEvent[];
  readonly comments: string[];
  /** Resolves with the first event (from the start) that matches, waiting up to `timeout` ms. */
  next(predicate: (event: ServerEvent) => boolean, timeout?: number): Promise<ServerEvent>;
  /** Resolves once `count` comments arrived. */
  comment(count: number, timeout?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens an SSE stream at `url` and parses it as a browser would; fails if no answer starts within `timeout` ms. */
export function openEvents(url: string, timeout = 10_000): Promise<EventReader> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { Accept: 'text/event-stream' } });
    const opening = setTimeout(
      () => req.destroy(new Error(`no event stream answer from ${url} within ${timeout} ms`)),
      timeout,
    );
    req.once('error', (error) => {
      clearTimeout(opening);
      reject(error);
    });
    req.once('response', (res) => {
      clearTimeout(opening);
      const events: ServerEvent[] = [];
      const comments: string[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) {
              event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('data: ')) {
              data.push(line.slice(6));
              isEvent = true;
            } else if (line.startsWith('id: ')) id = line.slice(4);
          }
          if (isEvent) events.push({ event, data: data.join('\n'), id });
        }
        for (const wake of [...waiters]) wake();
      });
      res.on('error', () => {});
      const ended = new Promise<void>((done) => res.once('close', () => done()));
      const wait = (check: () => boolean, timeout: number, what: string): Promise<void> =>
        new Promise((done, fail) => {
          const wake = (): void => {
            if (!check()) return;
            clearTimeout(timer);
            waiters.delete(wake);
            done();
          };
          const timer = setTimeout(() => {
            waiters.delete(wake);
            fail(new Error(`timed out waiting for ${what}`));
          }, timeout);
          waiters.add(wake);
          wake();
        });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments,
        async next(predicate, timeout = 10_000) {
          await wait(() => events.some(predicate), timeout, 'an event');
          return events.find(predicate) as ServerEvent;
        },
        comment: (count, timeout = 10_000) =>
          wait(() => comments.length >= count, timeout, `${count} comments`),
        ended,
        close: () => req.destroy(),
      });
    });
  });
}

/** A provider whose next result the test sets. */
export interface SwitchableProvider {
  report: HealthReport | Error;
  calls: number;
  healthCheck(signal: AbortSignal): Promise<HealthReport>;
}

/** A provider answering with whatever `report` currently holds (an Error rejects). */
export function switchable(
  report: HealthReport | Error = { healthy: true, message: 'ok' },
): SwitchableProvider {
  const provider: SwitchableProvider = {
    report,
    calls: 0,
    async healthCheck() {
      provider.calls++;
      if (provider.report instanceof Error) throw provider.report;
      return provider.report;
    },
  };
  return provider;
}

/** A registry and cache (not running) holding `providers`, checked once unless `check` is false. */
export async function demoCache(
  providers: Record<string, object>,
  options: HealthCacheOptions = {},
  check = true,
): Promise<{ registry: ProviderRegistry; cache: HealthCache }> {
  const registry = new ProviderRegistry();
  for (const [name, provider] of Object.entries(providers)) registry.register(name, provider);
  const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 2_000, ...options });
  if (check) await cache.checkNow();
  return { registry, cache };
}

/** Polls `condition` every 20 ms until true, failing after `timeout` ms. */
export async function waitUntil(
  condition: () => boolean,
  timeout = 10_000,
  what = 'a condition',
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A {@link HealthView} over `cache` that counts `get` calls and live subscriptions, to prove caching and release. */
export function countingView(cache: HealthCache): HealthView & { gets: number; subscriptions: number } {
  const counted = <T>(event: HealthEvent<T>): HealthEvent<T> => {
    return (listener, options) => {
      const subscription = event(listener, options);
      view.subscriptions++;
      let live = true;
      const dispose = (): void => {
        if (live) view.subscriptions--;
        live = false;
        subscription.dispose();
      };
      return { dispose, [Symbol.dispose]: dispose };
    };
  };
  const view = {
    gets: 0,
    subscriptions: 0,
    get registry() {
      return cache.registry;
    },
    get options() {
      return cache.options;
    },
    get(name: string) {
      view.gets++;
      return cache.get(name);
    },
    snapshot: () => cache.snapshot(),
    history: (name: string) => cache.history(name),
    checkNow: (signal?: AbortSignal) => cache.checkNow(signal),
    checkProvider: (name: string, signal?: AbortSignal) => cache.checkProvider(name, signal),
    get abandonedChecks() {
      return cache.abandonedChecks;
    },
    get abandonedChecksTotal() {
      return cache.abandonedChecksTotal;
    },
    onResult: counted(cache.onResult),
    onTransition: counted(cache.onTransition),
    onRemove: counted(cache.onRemove),
    onChange: counted(cache.onChange),
    onSweep: counted(cache.onSweep),
  };
  return view;
}

/** Writes `text` to a raw TCP connection and resolves with all the server sent back before closing. */
export function rawExchange(port: number, text: string | Buffer, timeout = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeout);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // A server may reset a connection it refused; what it sent first still counts.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(text);
  });
}
