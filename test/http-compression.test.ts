/**
 * Compression negotiated with Accept-Encoding: gzip and brotli forms of each
 * body version, their own ETags, `Vary`, and an uncompressed event stream.
 */
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createHealthHandler, type HealthHandler } from '../src/http/index.js';
import { negotiateEncoding } from '../src/http/encodings.js';
import { demoCache, serve, switchable, type TestServer } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

/** GETs `url` and keeps the bytes as sent (no decoding). */
function raw(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers, timeout: 10_000 });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
      );
    });
  });
}

describe('compressed answers', () => {
  let server: TestServer;
  let handler: HealthHandler;
  let setup: Awaited<ReturnType<typeof demoCache>>;

  before(async () => {
    const providers: Record<string, object> = {};
    for (let i = 0; i < 1_000; i++) {
      providers[`provider-${String(i).padStart(4, '0')}`] = switchable({
        healthy: i % 7 !== 0,
        message: `checked ${i}`,
      });
    }
    setup = await demoCache(providers);
    handler = createHealthHandler(setup.cache, { metrics: false });
    server = await serve(handler);
  });
  after(async () => {
    handler.close();
    await server.close();
  });

  it(
    'sends gzip or brotli when accepted: the same JSON, at least 5x smaller, its own ETag',
    { timeout: 30_000 },
    async () => {
      const plain = await raw(`${server.url}/api/providers`);
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.headers.vary, 'Accept-Encoding');
      const gz = await raw(`${server.url}/api/providers`, { 'Accept-Encoding': 'gzip, deflate' });
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.equal(gz.headers.vary, 'Accept-Encoding');
      assert.equal(Number(gz.headers['content-length']), gz.bytes.length);
      assert.deepEqual(gunzipSync(gz.bytes), plain.bytes);
      const br = await raw(`${server.url}/api/providers`, { 'Accept-Encoding': 'gzip, deflate, br' });
      assert.equal(br.headers['content-encoding'], 'br');
      assert.deepEqual(brotliDecompressSync(br.bytes), plain.bytes);
      for (const coded of [gz, br]) {
        assert.ok(
          plain.bytes.length >= 5 * coded.bytes.length,
          `${plain.bytes.length} vs ${coded.bytes.length}`,
        );
      }
      const tags = new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]);
      assert.equal(tags.size, 3, 'one ETag per coding');
      for (const tag of tags) assert.match(String(tag), /^"[\w-]+"$/);
    },
  );

  it('revalidates each coding against its own ETag', { timeout: 30_000 }, async () => {
    const gz = await raw(`${server.url}/api/providers`, { 'Accept-Encoding': 'gzip' });
    const again = await raw(`${server.url}/api/providers`, {
      'Accept-Encoding': 'gzip',
      'If-None-Match': String(gz.headers.etag),
    });
    assert.equal(again.status, 304);
    assert.equal(again.headers.etag, gz.headers.etag);
    // The gzip ETag does not validate the identity form.
    const identity = await raw(`${server.url}/api/providers`, { 'If-None-Match': String(gz.headers.etag) });
    assert.equal(identity.status, 200);
    const second = await raw(`${server.url}/api/providers`, { 'Accept-Encoding': 'gzip' });
    assert.deepEqual(second.bytes, gz.bytes, 'the same bytes until the statuses change');
    await setup.cache.checkProvider('provider-0001');
    const changed = await raw(`${server.url}/api/providers`, {
      'Accept-Encoding': 'gzip',
      'If-None-Match': String(gz.headers.etag),
    });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.etag, gz.headers.etag);
  });

  it(
    'keeps small bodies uncompressed; the event stream is gzip only when asked for, never brotli',
    { timeout: 30_000 },
    async () => {
      const one = await raw(`${server.url}/api/providers/provider-0001`, { 'Accept-Encoding': 'gzip, br' });
      assert.equal(one.status, 200);
      assert.equal(one.headers['content-encoding'], undefined);
      // Decoding is tested in http-events-gzip.test.ts (Node, curl, Chromium).
      const first = (encoding: string) =>
        new Promise<{ headers: IncomingHttpHeaders; chunk: Buffer }>((resolve, reject) => {
          const req = http.get(`${server.url}/api/events`, {
            agent: false,
            headers: { 'Accept-Encoding': encoding },
          });
          req.once('error', reject);
          req.once('response', (res) => {
            res.once('data', (chunk: Buffer) => {
              req.destroy();
              resolve({ headers: res.headers, chunk });
            });
          });
        });
      const coded = await first('gzip, br');
      assert.equal(coded.headers['content-encoding'], 'gzip');
      assert.deepEqual([...coded.chunk.subarray(0, 2)], [0x1f, 0x8b], 'a gzip header');
      for (const encoding of ['br', 'identity', 'gzip;q=0']) {
        const plain = await first(encoding);
        assert.equal(plain.headers['content-encoding'], undefined, encoding);
        assert.match(plain.chunk.toString(), /^retry: 3000/, 'plain text on the wire');
      }
    },
  );
});

describe('negotiateEncoding', () => {
  it('prefers brotli, then gzip, honouring q-values and *', () => {
    const cases: [string | undefined, string | undefined][] = [
      [undefined, undefined],
      ['', undefined],
      ['identity', undefined],
      ['gzip', 'gzip'],
      ['x-gzip', 'gzip'],
      ['br', 'br'],
      ['gzip, deflate, br, zstd', 'br'],
      ['br;q=0.5, gzip', 'gzip'],
      ['br;q=0, gzip;q=0', undefined],
      ['*', 'br'],
      ['*;q=0.1, br;q=0', 'gzip'],
      ['GZIP ; Q=1', 'gzip'],
    ];
    for (const [header, expected] of cases) assert.equal(negotiateEncoding(header), expected, String(header));
  });
});
