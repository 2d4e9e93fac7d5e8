/**
 * The bounds `serve` puts on its HTTP server, so that slow or idle clients
 * cannot hold its file descriptors (20,000 connections sending a header byte
 * every 10 s once took them all, and then every check failed with EMFILE).
 */
import type http from 'node:http';

/** The bounds, in milliseconds and counts. */
export interface ServerLimits {
  /** Open connections at most; Node closes further ones at once (its `drop` event). */
  readonly maxConnections: number;
  /** Time to receive the request headers, then 408 and close. */
  readonly headersTimeout: number;
  /** Time to receive the whole request; an answer being streamed (events) is not cut. */
  readonly requestTimeout: number;
  /** Idle time of a keep-alive connection between requests. */
  readonly keepAliveTimeout: number;
  /** Requests on one connection before it is closed; 0 for no limit. */
  readonly maxRequestsPerSocket: number;
}

/** The defaults: well inside any file-descriptor limit, generous for real clients. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  maxConnections: 1_000,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxRequestsPerSocket: 1_000,
});

/**
 * Options for `http.createServer`: the timeouts, and how often Node looks for
 * connections past them (at most every second; Node's default is every 30 s,
 * which would let a slow client stay 30 s past `headersTimeout`).
 */
export function serverOptions(limits: ServerLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeout / 2))),
  };
}

/** Sets the bounds that are properties rather than options of the server. */
export function applyServerLimits(server: http.Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.headersTimeout = limits.headersTimeout;
  server.requestTimeout = limits.requestTimeout;
  server.keepAliveTimeout = limits.keepAliveTimeout;
}
