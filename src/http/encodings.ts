import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/** The content codings the handler offers, best first. @internal */
export type ContentCoding = 'br' | 'gzip';

/** Bodies smaller than this are sent as they are: compressing them saves nothing worth the CPU. */
export const MIN_COMPRESSED_SIZE = 1_024;
/** Only this much of an `Accept-Encoding` header is read (browsers send under 100 characters). */
const MAX_HEADER = 1_024;

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** One form of a body: its bytes, its ETag and the headers of a full and of a 304 answer. @internal */
export interface BodyVariant {
  readonly body: Buffer;
  /** Strong; distinct per coding, derived from the identity ETag so replicas agree. */
  readonly etag: string;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly notModifiedHeaders: Readonly<Record<string, string | number>>;
}

/**
 * The coding to answer with for an `Accept-Encoding` header: brotli, then
 * gzip, when the client accepts them (q > 0, directly or through `*`);
 * `undefined` for identity. @internal
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | undefined {
  if (header === undefined || header === '') return undefined;
  const { br, gz } = codingWeights(header);
  if (br > 0 && br >= gz) return 'br';
  return gz > 0 ? 'gzip' : undefined;
}

/** Whether an `Accept-Encoding` header accepts gzip (q > 0, directly or through `*`). @internal */
export function acceptsGzip(header: string | undefined): boolean {
  return header !== undefined && header !== '' && codingWeights(header).gz > 0;
}

function codingWeights(header: string): { br: number; gz: number } {
  const weights = new Map<string, number>();
  for (const part of header.slice(0, MAX_HEADER).split(',')) {
    const [token = '', ...params] = part.split(';');
    const name = token.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    if (name !== '') weights.set(name === 'x-gzip' ? 'gzip' : name, q);
  }
  const any = weights.get('*') ?? 0;
  const br = weights.get('br') ?? any;
  const gz = weights.get('gzip') ?? any;
  return { br, gz };
}

/** The ETag of `identity` under `coding`: the same hash, marked with the coding. @internal */
export function codedEtag(identity: string, coding: ContentCoding): string {
  return `${identity.slice(0, -1)}-${coding}"`;
}

/**
 * The compressed forms of one body version. Each is computed once, on the
 * first request that asks for it, in libuv's thread pool (not on the event
 * loop that runs sweeps); concurrent requests share the same work. @internal
 */
export class CompressedForms {
  readonly #identity: BodyVariant;
  readonly #forms = new Map<ContentCoding, Promise<BodyVariant>>();

  constructor(identity: BodyVariant) {
    this.#identity = identity;
  }

  /** The body under `coding`, computed now or earlier. */
  get(coding: ContentCoding): Promise<BodyVariant> {
    let form = this.#forms.get(coding);
    if (form === undefined) {
      form = this.#compress(coding);
      this.#forms.set(coding, form);
    }
    return form;
  }

  async #compress(coding: ContentCoding): Promise<BodyVariant> {
    const { body, etag, headers, notModifiedHeaders } = this.#identity;
    const bytes =
      coding === 'gzip'
        ? await gzipAsync(body, { level: 6 })
        : await brotliAsync(body, {
            params: {
              // Quality 5 compresses JSON nearly as well as 11 at a small fraction of the time.
              [constants.BROTLI_PARAM_QUALITY]: 5,
              [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          });
    const coded = codedEtag(etag, coding);
    const notModified = Object.freeze({ ...notModifiedHeaders, ETag: coded });
    return {
      body: bytes,
      etag: coded,
      headers: Object.freeze({
        ...headers,
        ETag: coded,
        'Content-Encoding': coding,
        'Content-Length': bytes.length,
      }),
      notModifiedHeaders: notModified,
    };
  }
}
