import type { IncomingMessage, ServerResponse } from 'node:http';
import { toCachedBody, type CachedBody } from './body-cache.js';
import { codedEtag, negotiateEncoding, type BodyVariant } from './encodings.js';

/** Headers every response carries. @internal */
export const BASE_HEADERS = { 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * Sends a cached body with its prepared headers, compressed when the client
 * accepts gzip or brotli (each form computed once per body version); a
 * matching `If-None-Match` gets 304 and HEAD gets the headers only. @internal
 */
export function sendCached(req: IncomingMessage, res: ServerResponse, cached: CachedBody): void {
  const coding = cached.compressed && negotiateEncoding(req.headers['accept-encoding']);
  if (!coding || cached.compressed === undefined) return sendVariant(req, res, cached.status, cached);
  // Revalidation needs no compression: the coded ETag is derived from the identity one.
  if (notModified(req, cached.status, codedEtag(cached.etag, coding))) {
    res.writeHead(304, { ...cached.notModifiedHeaders, ETag: codedEtag(cached.etag, coding) });
    res.end();
    return;
  }
  cached.compressed.get(coding).then(
    (variant) => {
      if (!res.destroyed) sendVariant(req, res, cached.status, variant);
    },
    // Compression cannot fail on a Buffer short of running out of memory; identity still works.
    () => sendVariant(req, res, cached.status, cached),
  );
}

function sendVariant(req: IncomingMessage, res: ServerResponse, status: number, variant: BodyVariant): void {
  if (notModified(req, status, variant.etag)) {
    res.writeHead(304, variant.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(status, variant.headers);
  res.end(req.method === 'HEAD' ? undefined : variant.body);
}

/**
 * Whether `If-None-Match` names `etag`. RFC 9110 §13.2.1: preconditions apply
 * only when the answer would be 2xx; a 503 from /api/health is always sent in full.
 */
function notModified(req: IncomingMessage, status: number, etag: string): boolean {
  return status >= 200 && status < 300 && etagMatches(req.headers['if-none-match'], etag);
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

/** 413 for a request body over `limit` bytes; the connection closes (the rest is not read). @internal */
export function sendTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  sendError(req, res, 413, `The request body is larger than ${limit} bytes`, { Connection: 'close' });
}

/** 400 for a refused query parameter: `{ "error", "parameter", "position"? }`. @internal */
export function sendQueryError(
  req: IncomingMessage,
  res: ServerResponse,
  query: { readonly error: string; readonly parameter: string; readonly position?: number | undefined },
): void {
  const extra =
    query.position === undefined
      ? { parameter: query.parameter }
      : { parameter: query.parameter, position: query.position };
  sendError(req, res, 400, query.error, undefined, extra);
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
