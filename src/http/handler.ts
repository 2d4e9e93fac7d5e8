import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { HealthMetrics } from '../metrics/health-metrics.js';
import { createMetrics, MetricsUnavailableError } from '../metrics/metrics.js';
import { BodyCache, type CachedBody } from './body-cache.js';
import { EventStreamHub, formatEvent } from './event-stream.js';
import { resolveHandlerOptions, type HealthHandlerOptions, type ResolvedHandlerOptions } from './options.js';
import { createPageAssets, type PageAssets } from './page/assets.js';
import { historyToJSON, providersToJSON, providerToJSON, type ProviderJSON } from './provider-json.js';
import { RefreshAuth } from './refresh-auth.js';
import { RefreshLimiter } from './refresh-limiter.js';
import { isTargetError, parseTarget, type RequestTarget } from './request-target.js';
import { BASE_HEADERS, sendCached, sendError, sendJSON } from './responses.js';

/** What Express and Connect pass as the third argument: called for requests the handler does not serve. */
export type NextFunction = (error?: unknown) => void;

/**
 * A node:http request listener serving the health API, live events, metrics
 * and the status page of a {@link HealthView}. Mount it with
 * `http.createServer(handler)` or `app.use(handler)` (Express); see the
 * README for Fastify and Hono. It never throws and never starts a server.
 */
export interface HealthHandler {
  /**
   * Serves one request. With `next` (Express, Connect), paths it does not
   * know are passed on; without it they get 404.
   */
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /** Open `/api/events` streams. */
  readonly connections: number;
  /** The normalised base path ("" for the root). */
  readonly basePath: string;
  /** Ends every event stream, releases listeners and timers; later requests get 503. Idempotent. */
  close(): void;
  /** The same as {@link HealthHandler.close}. */
  [Symbol.dispose](): void;
}

const READ = ['GET', 'HEAD'] as const;
const WRITE = ['POST'] as const;
const STREAM = ['GET'] as const;

/**
 * Creates the HTTP handler for `view` (a `HealthCache` or any {@link HealthView}).
 *
 * ```ts
 * const handler = createHealthHandler(cache, { basePath: '/health', token: process.env.REFRESH_TOKEN });
 * http.createServer(handler).listen(8080);
 * process.on('SIGTERM', () => handler.close());
 * ```
 *
 * @throws TypeError or RangeError naming a bad option and its value.
 */
export function createHealthHandler(view: HealthView, options: HealthHandlerOptions = {}): HealthHandler {
  if (typeof view?.snapshot !== 'function' || typeof view.registry?.names !== 'function') {
    throw new TypeError(
      'createHealthHandler needs a HealthView (such as a HealthCache) as its first argument',
    );
  }
  const server = new HealthServer(view, resolveHandlerOptions(options, view.options.clock));
  const handler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void =>
    server.handle(req, res, next);
  const close = (): void => server.close();
  Object.defineProperties(handler, {
    connections: { get: () => server.connections, enumerable: true },
    basePath: { value: server.basePath, enumerable: true },
    close: { value: close },
    [Symbol.dispose]: { value: close },
  });
  return handler as HealthHandler;
}

/** The state behind a {@link HealthHandler}. */
class HealthServer {
  readonly #view: HealthView;
  readonly #options: ResolvedHandlerOptions;
  readonly #bodies = new BodyCache();
  readonly #hub: EventStreamHub;
  readonly #limiter: RefreshLimiter;
  readonly #auth: RefreshAuth;
  readonly #page: PageAssets;
  readonly #subscriptions: Disposable[];
  /** Settles with the metrics or with why there are none; `undefined` when turned off. */
  readonly #metrics: Promise<HealthMetrics> | undefined;
  readonly #ownsMetrics: boolean;
  /** Forced sweeps and checks in flight, which later refresh requests join instead of starting another. */
  #forcedSweep: Promise<unknown> | undefined;
  readonly #forcedChecks = new Map<string, Promise<unknown>>();
  readonly #closing = new AbortController();
  #eventId = 0;

  constructor(view: HealthView, options: ResolvedHandlerOptions) {
    this.#view = view;
    this.#options = options;
    this.#hub = new EventStreamHub(options.clock, options.heartbeatInterval, () => view.snapshot());
    this.#limiter = new RefreshLimiter(options.minRefreshInterval, options.clock);
    this.#auth = new RefreshAuth(options.token);
    this.#page = createPageAssets(options.title, options.basePath);
    this.#subscriptions = [
      view.onChange(({ name, status }) => {
        this.#bodies.invalidate();
        // Removals are announced once, from the registry listener below.
        if (status !== undefined) this.#announce(name);
      }),
      view.registry.onChange(({ type, name }) => {
        this.#bodies.invalidate();
        if (type === 'unregistered') this.#broadcast('remove', JSON.stringify({ name }));
        else this.#announce(name);
      }),
    ];
    if (options.metrics === true) {
      this.#ownsMetrics = true;
      this.#metrics = createMetrics(view, { eventStreams: () => this.#hub.size });
      // Failure (prom-client missing) is reported by GET /metrics, not as an unhandled rejection.
      this.#metrics.catch(() => {});
    } else {
      this.#ownsMetrics = false;
      this.#metrics = options.metrics === false ? undefined : Promise.resolve(options.metrics);
    }
  }

  get connections(): number {
    return this.#hub.size;
  }

  get basePath(): string {
    return this.#options.basePath;
  }

  handle(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): void {
    try {
      this.#route(req, res, next);
    } catch (error) {
      this.#fail(req, res, error);
    }
  }

  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error('The health handler was closed'));
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#hub.closeAll();
    if (this.#ownsMetrics) {
      this.#metrics?.then(
        (metrics) => metrics.dispose(),
        () => {},
      );
    }
  }

  // ---- routing ----------------------------------------------------------

  #route(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): void {
    // Express rewrites req.url under a mount path; originalUrl keeps what the client sent.
    const original = (req as { originalUrl?: unknown }).originalUrl;
    const raw = typeof original === 'string' ? original : (req.url ?? '/');
    const { basePath, maxUrlLength, maxBodySize } = this.#options;
    const mine = basePath === '' || raw.startsWith(basePath) || !raw.startsWith('/');
    if (mine && raw.length > maxUrlLength) {
      return sendError(req, res, 414, `The request target is longer than ${maxUrlLength} characters`);
    }
    const target = parseTarget(raw, basePath);
    if (target === undefined) return this.#notFound(req, res, next);
    if (isTargetError(target)) return sendError(req, res, target.status, target.message);

    const route = this.#match(target);
    if (route === undefined) return this.#notFound(req, res, next);
    const method = req.method ?? '';
    if (!route.methods.includes(method)) {
      const allow = route.methods.join(', ');
      if (method === 'OPTIONS') {
        res.writeHead(204, { ...BASE_HEADERS, Allow: allow });
        res.end();
        return;
      }
      return sendError(req, res, 405, `Method ${method} is not allowed here; use ${allow}`, { Allow: allow });
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > maxBodySize) {
      return sendError(req, res, 413, `The request body is larger than ${maxBodySize} bytes`, {
        Connection: 'close',
      });
    }
    if (this.#closing.signal.aborted) {
      return sendError(req, res, 503, 'The health handler is shutting down', { 'Retry-After': '1' });
    }
    route.serve(req, res);
  }

  #match(target: RequestTarget): { methods: readonly string[]; serve: Serve } | undefined {
    const { segments } = target;
    const [first, second, name, action] = segments;
    if (segments.length === 0) {
      return this.#options.page
        ? { methods: READ, serve: (req, res) => this.#servePage(req, res) }
        : undefined;
    }
    if (first === 'assets' && segments.length === 2 && this.#options.page) {
      const asset = this.#page.assets.get(second ?? '');
      return (
        asset && {
          methods: READ,
          serve: (req, res) => sendCached(req, res, asset),
        }
      );
    }
    if (first === 'metrics' && segments.length === 1 && this.#metrics) {
      return { methods: READ, serve: (req, res) => void this.#serveMetrics(req, res) };
    }
    if (first !== 'api') return undefined;
    switch (segments.length) {
      case 2:
        if (second === 'providers')
          return { methods: READ, serve: (req, res) => this.#serveProviders(req, res) };
        if (second === 'health')
          return { methods: READ, serve: (req, res) => this.#serveHealth(req, res, target) };
        if (second === 'history')
          return { methods: READ, serve: (req, res) => this.#serveAllHistory(req, res) };
        if (second === 'events') return { methods: STREAM, serve: (req, res) => this.#serveEvents(req, res) };
        if (second === 'refresh')
          return { methods: WRITE, serve: (req, res) => void this.#serveRefresh(req, res) };
        return undefined;
      case 3:
        if (second !== 'providers' || name === undefined) return undefined;
        return { methods: READ, serve: (req, res) => this.#serveProvider(req, res, name) };
      case 4:
        if (second !== 'providers' || name === undefined) return undefined;
        if (action === 'history') {
          return { methods: READ, serve: (req, res) => this.#serveHistory(req, res, name) };
        }
        if (action === 'refresh') {
          return { methods: WRITE, serve: (req, res) => void this.#serveRefresh(req, res, name) };
        }
        return undefined;
      default:
        return undefined;
    }
  }

  #notFound(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): void {
    if (next) return next();
    sendError(req, res, 404, 'Not found');
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    // Only the error's class reaches the log: messages could quote request data.
    const kind = error instanceof Error ? error.name : typeof error;
    process.emitWarning(
      `provider-health HTTP handler failed on a request (${kind})`,
      'ProviderHealthWarning',
    );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(req, res, 500, 'Internal error');
  }

  // ---- JSON ---------------------------------------------------------------

  /** The cached body under `key`; polls the view first so stale statuses are noticed (and invalidate the cache). */
  #cached(key: string, build: () => { status: number; value: unknown }): CachedBody {
    this.#view.snapshot();
    return this.#bodies.get(key, build);
  }

  #providersBody(): CachedBody {
    return this.#cached('providers', () => ({ status: 200, value: providersToJSON(this.#view) }));
  }

  #serveProviders(req: IncomingMessage, res: ServerResponse): void {
    sendCached(req, res, this.#providersBody());
  }

  #serveProvider(req: IncomingMessage, res: ServerResponse, name: string): void {
    if (!this.#view.registry.has(name)) return this.#unknownProvider(req, res, name);
    sendCached(
      req,
      res,
      this.#cached(`provider:${name}`, () => ({ status: 200, value: providerToJSON(this.#view, name) })),
    );
  }

  #serveHistory(req: IncomingMessage, res: ServerResponse, name: string): void {
    if (!this.#view.registry.has(name)) return this.#unknownProvider(req, res, name);
    sendCached(
      req,
      res,
      this.#cached(`history:${name}`, () => ({
        status: 200,
        value: { name, samples: historyToJSON(this.#view, name) },
      })),
    );
  }

  #serveAllHistory(req: IncomingMessage, res: ServerResponse): void {
    sendCached(
      req,
      res,
      this.#cached('history', () => {
        const value: Record<string, unknown> = {};
        for (const name of this.#view.registry.names()) value[name] = historyToJSON(this.#view, name);
        return { status: 200, value };
      }),
    );
  }

  #serveHealth(req: IncomingMessage, res: ServerResponse, target: RequestTarget): void {
    const asked = [
      ...new Set(target.query.filter(([key]) => key === 'provider').map(([, value]) => value)),
    ].sort();
    const unknown = asked.filter((name) => !this.#view.registry.has(name));
    if (unknown.length > 0) {
      const list = unknown.map((name) => JSON.stringify(name)).join(', ');
      return sendError(req, res, 404, `No provider named ${list} is registered`, undefined, { unknown });
    }
    // JSON, not a join: names may hold any character, the separator included.
    const key = asked.length === 0 ? 'health' : `health:${JSON.stringify(asked)}`;
    sendCached(
      req,
      res,
      this.#cached(key, () => {
        const names = asked.length === 0 ? this.#view.registry.names() : asked;
        const providers = names.map((name) => providerToJSON(this.#view, name));
        const notHealthy = providers.filter((p) => !p.healthy).map(brief);
        const degraded = providers.filter((p) => p.state === 'degraded').map(brief);
        const healthy = notHealthy.length === 0;
        return {
          status: healthy ? 200 : 503,
          value: { healthy, providers: providers.length, not_healthy: notHealthy, degraded },
        };
      }),
    );
  }

  #unknownProvider(req: IncomingMessage, res: ServerResponse, name: string): void {
    sendError(req, res, 404, `No provider named ${JSON.stringify(name)} is registered`, undefined, { name });
  }

  // ---- page and metrics ----------------------------------------------------

  #servePage(req: IncomingMessage, res: ServerResponse): void {
    sendCached(req, res, this.#page.html);
  }

  async #serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let metrics: HealthMetrics;
    try {
      metrics = await (this.#metrics as Promise<HealthMetrics>);
    } catch (error) {
      const message =
        error instanceof MetricsUnavailableError ? error.message : 'Metrics could not be set up';
      return sendError(req, res, 501, message);
    }
    try {
      const text = await metrics.render();
      const body = Buffer.from(text);
      res.writeHead(200, {
        ...BASE_HEADERS,
        'Content-Type': metrics.contentType,
        'Cache-Control': 'no-store',
        'Content-Length': body.length,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      this.#fail(req, res, error);
    }
  }

  // ---- live events ---------------------------------------------------------

  #serveEvents(req: IncomingMessage, res: ServerResponse): void {
    if (this.#hub.size >= this.#options.maxEventStreams) {
      return sendError(req, res, 503, 'Too many open event streams; try again later', { 'Retry-After': '5' });
    }
    const snapshot = this.#providersBody().body.toString();
    this.#hub.open(res, formatEvent('snapshot', ++this.#eventId, snapshot));
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

  // ---- refresh -------------------------------------------------------------

  async #serveRefresh(req: IncomingMessage, res: ServerResponse, name?: string): Promise<void> {
    try {
      const denial = this.#auth.check(req);
      if (denial) {
        const headers: Record<string, string> =
          denial.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="provider-health"' } : {};
        return sendError(req, res, denial.status, denial.message, headers);
      }
      if (name !== undefined && !this.#view.registry.has(name)) return this.#unknownProvider(req, res, name);
      const body = await drainBody(req, this.#options.maxBodySize);
      if (body === 'too-large') {
        return sendError(
          req,
          res,
          413,
          `The request body is larger than ${this.#options.maxBodySize} bytes`,
          {
            Connection: 'close',
          },
        );
      }
      if (body === 'aborted' || res.destroyed) return;

      let work = name === undefined ? this.#forcedSweep : this.#forcedChecks.get(name);
      if (work === undefined) {
        const permit = this.#limiter.acquire(name);
        if (!permit.ok) {
          const seconds = Math.max(1, Math.ceil(permit.retryAfter / 1000));
          return sendError(
            req,
            res,
            429,
            `Refreshed too recently; at most one forced check per ${this.#options.minRefreshInterval} ms`,
            { 'Retry-After': String(seconds) },
            { retry_after: seconds },
          );
        }
        work = this.#force(name);
      }
      const outcome = await waitFor(work, this.#options.refreshTimeout, res, this.#closing.signal);
      if (outcome === 'gone') return;
      if (outcome === 'closed') {
        return sendError(req, res, 503, 'The health handler is shutting down', { 'Retry-After': '1' });
      }
      if (outcome instanceof Error) {
        if (name !== undefined && !this.#view.registry.has(name))
          return this.#unknownProvider(req, res, name);
        return sendError(req, res, 503, `The refresh failed: ${outcome.message}`);
      }
      const status = outcome === 'done' ? 200 : 202;
      const value: ProviderJSON | ProviderJSON[] =
        name === undefined ? providersToJSON(this.#view) : providerToJSON(this.#view, name);
      sendJSON(req, res, status, value);
    } catch (error) {
      this.#fail(req, res, error);
    }
  }

  /** Starts a forced sweep (or check of `name`) that concurrent refresh requests share. */
  #force(name: string | undefined): Promise<unknown> {
    const view = this.#view;
    if (name === undefined) {
      const sweep = view.checkNow().finally(() => {
        if (this.#forcedSweep === sweep) this.#forcedSweep = undefined;
      });
      this.#forcedSweep = sweep;
      sweep.catch(() => {});
      return sweep;
    }
    const check = view.checkProvider(name).finally(() => {
      if (this.#forcedChecks.get(name) === check) this.#forcedChecks.delete(name);
    });
    this.#forcedChecks.set(name, check);
    check.catch(() => {});
    return check;
  }
}

type Serve = (req: IncomingMessage, res: ServerResponse) => void;

function brief(provider: ProviderJSON): { name: string; state: string; message: string } {
  return { name: provider.name, state: provider.state, message: provider.message };
}

/**
 * Reads and discards a request body up to `limit` bytes. Bodies already read
 * by a framework count as read.
 */
function drainBody(req: IncomingMessage, limit: number): Promise<'ok' | 'too-large' | 'aborted'> {
  if (req.readableEnded || req.complete) return Promise.resolve('ok');
  return new Promise((resolve) => {
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish('too-large');
    };
    const onEnd = (): void => finish('ok');
    const onClose = (): void => finish(req.complete ? 'ok' : 'aborted');
    const finish = (result: 'ok' | 'too-large' | 'aborted'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClose);
      req.off('close', onClose);
      // Keep discarding whatever else arrives so the connection is not stuck.
      if (result !== 'ok') req.resume();
      resolve(result);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}

type WaitOutcome = 'done' | 'timeout' | 'gone' | 'closed' | Error;

/**
 * Waits for `work` at most `timeout` ms: `done`, `timeout`, the error it
 * failed with, `gone` when the client left, `closed` when the handler closed.
 */
function waitFor(
  work: Promise<unknown>,
  timeout: number,
  res: ServerResponse,
  closing: AbortSignal,
): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    const onGone = (): void => finish('gone');
    const onClosing = (): void => finish('closed');
    const timer = setTimeout(() => finish('timeout'), timeout);
    timer.unref();
    const finish = (result: WaitOutcome): void => {
      clearTimeout(timer);
      res.off('close', onGone);
      closing.removeEventListener('abort', onClosing);
      resolve(result);
    };
    if (closing.aborted) return finish('closed');
    res.once('close', onGone);
    closing.addEventListener('abort', onClosing, { once: true });
    work.then(
      () => finish('done'),
      (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
