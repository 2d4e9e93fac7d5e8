import { createHash } from 'node:crypto';
import { CompressedForms, MIN_COMPRESSED_SIZE, type BodyVariant } from './encodings.js';

/**
 * A serialised response: built once per change and sent as is to every
 * request. The identity form's ETag is a hash of the bytes, so replicas
 * holding the same statuses agree. @internal
 */
export interface CachedBody extends BodyVariant {
  readonly status: number;
  /** gzip and brotli forms, each computed once on demand; `undefined` for bodies too small to compress. */
  readonly compressed: CompressedForms | undefined;
}

/** The content type of every JSON body. @internal */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Bodies kept per change; queries with many distinct filters cannot grow it past this. */
const MAX_ENTRIES = 512;
/** Query variants of one body (filters, fields, pages) kept per version, least recently used dropped first. @internal */
export const MAX_VARIANTS = 64;

/**
 * JSON bodies keyed by what they describe (`providers`, `provider:<name>` …),
 * dropped as a whole whenever a status or the registry changes. @internal
 */
export class BodyCache {
  #entries = new Map<string, CachedBody>();
  /** In least-recently-used order: a hit moves its entry to the end. */
  #variants = new Map<string, CachedBody>();

  /** The cached body under `key`, or the one `build` makes now. */
  get(key: string, build: () => { status: number; value: unknown }): CachedBody {
    const cached = this.#entries.get(key);
    if (cached) return cached;
    const { status, value } = build();
    const entry = toCachedBody(status, value);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, entry);
    return entry;
  }

  /** The cached JSON body under `key`, or the bytes `build` makes now (status 200). */
  bytes(key: string, build: () => Buffer): CachedBody {
    const cached = this.#entries.get(key);
    if (cached) return cached;
    const entry = cachedBytes(200, build(), JSON_TYPE);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * A query variant under `key`, or the one `build` makes now; at most
   * {@link MAX_VARIANTS} are kept, so hostile queries cannot grow memory
   * (they only cost the serialisation of what they ask for).
   */
  variant(key: string, build: () => CachedBody): CachedBody {
    const cached = this.#variants.get(key);
    if (cached) {
      this.#variants.delete(key);
      this.#variants.set(key, cached);
      return cached;
    }
    const entry = build();
    if (this.#variants.size >= MAX_VARIANTS)
      this.#variants.delete(this.#variants.keys().next().value as string);
    this.#variants.set(key, entry);
    return entry;
  }

  /** Forgets every body; the next request serialises again. */
  invalidate(): void {
    if (this.#entries.size > 0) this.#entries = new Map();
    if (this.#variants.size > 0) this.#variants = new Map();
  }
}

/** Serialises `value` as JSON with its ETag and headers. @internal */
export function toCachedBody(
  status: number,
  value: unknown,
  extra?: Readonly<Record<string, string>>,
): CachedBody {
  return cachedBytes(status, Buffer.from(JSON.stringify(value)), JSON_TYPE, extra);
}

/**
 * Wraps bytes as a {@link CachedBody}. `Cache-Control: no-cache` (unless
 * `extra` says otherwise) makes clients revalidate each time, which costs
 * them a 304 at most. @internal
 */
export function cachedBytes(
  status: number,
  body: Buffer,
  contentType: string,
  extra?: Readonly<Record<string, string>>,
): CachedBody {
  const etag = etagOf(body);
  const compressible = body.length >= MIN_COMPRESSED_SIZE;
  const notModifiedHeaders = Object.freeze({
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
    ...extra,
    'Content-Type': contentType,
    ETag: etag,
    // Caches must keep the identity and the compressed forms apart.
    ...(compressible ? { Vary: 'Accept-Encoding' } : {}),
  });
  const headers = Object.freeze({ ...notModifiedHeaders, 'Content-Length': body.length });
  const identity: BodyVariant = { body, etag, headers, notModifiedHeaders };
  return { status, ...identity, compressed: compressible ? new CompressedForms(identity) : undefined };
}

/** A strong ETag of `bytes`. @internal */
export function etagOf(bytes: Buffer | string): string {
  return `"${createHash('sha1').update(bytes).digest('base64url')}"`;
}
