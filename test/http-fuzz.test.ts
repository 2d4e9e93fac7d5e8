/**
 * Random methods, request targets, headers and bodies, written as raw bytes
 * to a real socket: the handler never answers 500, never throws, and keeps
 * serving.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createHealthHandler } from '../src/http/index.js';
import { demoCache, request, serve, switchable, waitUntil } from './support/http.js';

const unhandled: unknown[] = [];
const warnings: Error[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const onWarning = (warning: Error) => {
  if (warning.name === 'ProviderHealthWarning') warnings.push(warning);
};
before(() => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  process.on('warning', onWarning);
});
after(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  process.off('warning', onWarning);
  assert.deepEqual(unhandled, [], 'no unhandled rejections or exceptions');
  assert.deepEqual(warnings, [], 'the handler never failed on a request');
});

/** Sends raw bytes and resolves with the status code of the first response (0 if none came). */
function exchange(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let head = '';
    const done = (status: number): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(0), 15_000);
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      // Event streams stay open: the status line is enough.
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      if (match) done(Number(match[1]));
    });
    socket.on('error', () => {});
    socket.on('close', () => done(0));
    socket.end(bytes);
  });
}

const segment = fc.oneof(
  fc.constantFrom(
    'api',
    'providers',
    'health',
    'events',
    'refresh',
    'history',
    'metrics',
    'assets',
    'up',
    'a%2Fb',
    '',
  ),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('%', '%zz', '%C0%AF', '%E0%A4%A', '..', '.', '%00', '*', '😀', 'x'.repeat(5000)),
);
const path = fc
  .array(segment, { maxLength: 6 })
  .chain((segments) =>
    fc.tuple(
      fc.constant(`/${segments.join('/')}`),
      fc.option(fc.string({ maxLength: 40, unit: 'grapheme-ascii' }), { nil: undefined }),
      fc.boolean(),
    ),
  )
  .map(
    ([p, query, trailing]) =>
      `${p}${trailing ? '/' : ''}${query === undefined ? '' : `?${query.replace(/[\s#]/g, '')}`}`,
  );
const route = fc.constantFrom(
  '/',
  '/api/providers',
  '/api/providers/up',
  '/api/providers/a%2Fb',
  '/api/providers/never/history',
  '/api/providers/up/refresh',
  '/api/health',
  '/api/health?provider=up&provider=never',
  '/api/history',
  '/api/events',
  '/api/refresh',
  '/metrics',
);
const target = fc.oneof(
  { weight: 6, arbitrary: route },
  { weight: 8, arbitrary: path },
  { weight: 1, arbitrary: path.map((p) => `http://127.0.0.1${p}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('*', 'nope', '//', '/?provider=up&provider=%', '/api/health?provider='),
  },
);
const method = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.constantFrom(
      'GET',
      'HEAD',
      'POST',
      'PUT',
      'DELETE',
      'OPTIONS',
      'PATCH',
      'TRACE',
      'PROPFIND',
      'M-SEARCH',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z-]{1,10}$/) },
);
const headerName = fc.oneof(
  fc.constantFrom(
    'If-None-Match',
    'Authorization',
    'Content-Length',
    'Content-Type',
    'Accept',
    'Transfer-Encoding',
    'Last-Event-ID',
    'X-Forwarded-For',
    'Cookie',
  ),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/),
);
const headerValue = fc.oneof(
  fc.constantFrom('*', '"x"', 'W/"x", "y"', 'Bearer x', 'Bearer', 'chunked', '-1', '99999999999', 'abc', ''),
  fc.string({ maxLength: 60, unit: 'grapheme-ascii' }),
  fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '')),
);
const requestBytes = fc
  .record({
    method,
    target,
    headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
    body: fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: undefined }),
  })
  .map(({ method, target, headers, body }) => {
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body ?? [])]);
  });

describe('fuzzing the handler over a socket', () => {
  it('never answers 500 and keeps serving', { timeout: 120_000 }, async () => {
    const { registry, cache } = await demoCache({ up: switchable(), 'a/b': switchable() });
    registry.register('never', switchable());
    const handler = createHealthHandler(cache, { minRefreshInterval: 0, token: 'fuzz-token' });
    const server = await serve(handler);
    const statuses = new Map<number, number>();
    try {
      await fc.assert(
        fc.asyncProperty(requestBytes, async (bytes) => {
          const status = await exchange(server.port, bytes);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          assert.notEqual(status, 500, bytes.toString('latin1').slice(0, 300));
          assert.ok(status < 500 || status === 501 || status === 503, `status ${status}`);
        }),
        { numRuns: 600 },
      );
      const after = await request(`${server.url}/api/providers`);
      assert.equal(after.status, 200, 'still serving');
      // The generators reach the handler's own answers, not only the HTTP parser's 400s.
      for (const status of [200, 404, 405]) assert.ok(statuses.has(status), `some requests got ${status}`);
      await waitUntil(() => handler.connections === 0, 10_000, 'streams opened by the fuzzer to be released');
    } finally {
      handler.close();
      await server.close();
    }
  });
});
