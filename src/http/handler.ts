import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import { ApiBodies } from './api-bodies.js';
import { apiRoutes } from './api-routes.js';
import { EventsRoute } from './events-route.js';
import { hostAllowed } from './host-patterns.js';
import { MetricsRoute } from './metrics-route.js';
import { resolveHandlerOptions, type HealthHandlerOptions, type ResolvedHandlerOptions } from './options.js';
import { operationRoutes } from './ops-routes.js';
import { isCrossOrigin } from './origin-guard.js';
import { pageRoutes } from './page-route.js';
import { alertsRoute } from './alerts-route.js';
import { RefreshAuth } from './refresh-auth.js';
import { RefreshRoute } from './refresh-route.js';
import { SilencesRoute } from './silences-route.js';
import { isTargetError, parseTarget } from './request-target.js';
import { BASE_HEADERS, sendClosing, sendError, sendFailure, sendTooLarge } from './responses.js';
import { matchRoute, type Route } from './route-table.js';

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

/** The route table and the checks every request passes before its route serves it. */
class HealthServer {
  readonly #options: ResolvedHandlerOptions;
  readonly #events: EventsRoute;
  readonly #routes: readonly Route[];
  /** Released on close, in order. */
  readonly #parts: Disposable[];
  readonly #closing = new AbortController();

  constructor(view: HealthView, options: ResolvedHandlerOptions) {
    this.#options = options;
    const bodies = new ApiBodies(view, options.clock, options.publishInterval, options.basePath);
    this.#events = new EventsRoute(view, bodies, options);
    // One authorisation for every state-changing route (refresh, silences).
    const auth = new RefreshAuth(options.token);
    const refresh = new RefreshRoute(view, options, this.#closing.signal, auth);
    const ops = operationRoutes(view, options, this.#closing.signal);
    // The route table: the first row whose path matches serves; add rows here.
    const routes: Route[] = [
      ...apiRoutes(view, bodies),
      this.#events.route,
      ...refresh.routes,
      ...ops.routes,
    ];
    if (options.silences) {
      routes.push(...new SilencesRoute(options.silences, options, this.#closing.signal, auth).routes);
    }
    if (options.alerts) routes.push(alertsRoute(view, options.alerts));
    this.#parts = [bodies, this.#events, ops];
    if (options.page) {
      // The page asks only for the optional APIs served here (no 404 in its console).
      const features = { silences: options.silences !== undefined, alerts: options.alerts !== undefined };
      routes.push(...pageRoutes(options.title, options.basePath, features));
    }
    if (options.metrics !== false) {
      const metrics = new MetricsRoute(view, options.metrics, () => this.#events.size, options.alerts);
      routes.push(metrics.route);
      this.#parts.push(metrics);
    }
    this.#routes = routes;
  }

  get connections(): number {
    return this.#events.size;
  }

  get basePath(): string {
    return this.#options.basePath;
  }

  handle(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): void {
    try {
      this.#dispatch(req, res, next);
    } catch (error) {
      sendFailure(req, res, error);
    }
  }

  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error('The health handler was closed'));
    for (const part of this.#parts) part.dispose();
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): void {
    // Express rewrites req.url under a mount path; originalUrl keeps what the client sent.
    const original = (req as { originalUrl?: unknown }).originalUrl;
    const raw = typeof original === 'string' ? original : (req.url ?? '/');
    const { basePath, maxUrlLength, maxBodySize } = this.#options;
    const mine = basePath === '' || raw.startsWith(basePath) || !raw.startsWith('/');
    if (mine && raw.length > maxUrlLength) {
      return sendError(req, res, 414, `The request target is longer than ${maxUrlLength} characters`);
    }
    const target = parseTarget(raw, basePath);
    if (target === undefined) return notFound(req, res, next);
    if (isTargetError(target)) return sendError(req, res, target.status, target.message);
    const match = matchRoute(this.#routes, target.segments);
    if (match === undefined) return notFound(req, res, next);
    const { route, name } = match;

    if (!hostAllowed(req.headers.host, this.#options.allowedHosts)) {
      const message = 'The Host header names a host this handler does not serve; add it to allowedHosts';
      return sendError(req, res, 403, message);
    }
    const method = req.method ?? '';
    if (!route.methods.includes(method)) return wrongMethod(req, res, method, route.methods);
    if (method !== 'GET' && method !== 'HEAD' && isCrossOrigin(req)) {
      const message =
        'Cross-origin requests may not change anything: send them from the status page or without browser origin headers';
      return sendError(req, res, 403, message);
    }
    const bodyLimit = route.maxBodySize ?? maxBodySize;
    if (Number(req.headers['content-length'] ?? 0) > bodyLimit) {
      return sendTooLarge(req, res, bodyLimit);
    }
    if (this.#closing.signal.aborted) return sendClosing(req, res);
    route.serve(req, res, name, target);
  }
}

function notFound(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): void {
  if (next) return next();
  sendError(req, res, 404, 'Not found');
}

function wrongMethod(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  allowed: readonly string[],
): void {
  const allow = allowed.join(', ');
  if (method === 'OPTIONS') {
    res.writeHead(204, { ...BASE_HEADERS, Allow: allow });
    res.end();
    return;
  }
  sendError(req, res, 405, `Method ${method} is not allowed here; use ${allow}`, { Allow: allow });
}
