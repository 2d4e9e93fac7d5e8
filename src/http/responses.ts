import type { IncomingMessage, ServerResponse } from 'node:http';
import { toCachedBody, type CachedBody } from './body-cache.js';

/** Headers every response carries. @internal */
export const BASE_HEADERS = { 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * Sends a cached body with its prepared headers; a matching `If-None-Match`
 * gets 304 and HEAD gets the headers only. @internal
 */
export function sendCached(req: IncomingMessage, res: ServerResponse, cached: CachedBody): void {
  // RFC 9110 §13.2.1: If-None-Match applies only when the answer would be 2xx;
  // a 503 from /api/health is always sent in full.
  if (cached.status >= 200 && cached.status < 300 && etagMatches(req.headers['if-none-match'], cached.etag)) {
    res.writeHead(304, cached.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(cached.status, cached.headers);
  res.end(req.method === 'HEAD' ? undefined : cached.body);
}

/** Sends a JSON error `{ "error": message, ...extra }`; never cached. @internal */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  headers?: Readonly<Record<string, string>>,
  extra?: Readonly<Record<string, unknown>>,
): void {
  sendJSON(req, res, status, { error: message, ...extra }, headers);
}

/** Sends `value` as JSON without caching. @internal */
export function sendJSON(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  const { body } = toCachedBody(status, value);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': body.length,
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks for this header). @internal */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}

/** 404 for a provider name that is not registered, naming it. @internal */
export function sendUnknownProvider(req: IncomingMessage, res: ServerResponse, name: string): void {
  sendError(req, res, 404, `No provider named ${JSON.stringify(name)} is registered`, undefined, { name });
}

/**
 * Answers 500 (or cuts the connection if the answer had started) for an
 * error the handler did not expect, and warns once per failure. Only the
 * error's class reaches the warning: messages could quote request data.
 * @internal
 */
export function sendFailure(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const kind = error instanceof Error ? error.name : typeof error;
  process.emitWarning(`provider-health HTTP handler failed on a request (${kind})`, 'ProviderHealthWarning');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(req, res, 500, 'Internal error');
}

/** 503 while the handler shuts down. @internal */
export function sendClosing(req: IncomingMessage, res: ServerResponse): void {
  sendError(req, res, 503, 'The health handler is shutting down', { 'Retry-After': '1' });
}
