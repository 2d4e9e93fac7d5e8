/**
 * Review: POST /api/reload refuses like every other write (one RefreshAuth
 * check and one denial answer for all of them), over a real socket: 401 with
 * WWW-Authenticate without or with a wrong token, 403 for a remote client
 * when no token is set, and the reload is never called when refused.
 */
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { describe, it } from 'node:test';
import { createHealthHandler, type ReloadOutcome } from '../src/http/index.js';
import { demoCache, request, serve, switchable } from './support/http.js';

const TOKEN = 'reload-review-token-5f1c';
const REPORT: ReloadOutcome = {
  ok: true,
  report: { added: [], removed: [], changed: [], unchanged: ['a'], renamed: [], notApplied: [] },
};

async function start(token: string | undefined, remote: boolean) {
  const setup = await demoCache({ a: switchable() });
  let calls = 0;
  const handler = createHealthHandler(setup.cache, {
    metrics: false,
    ...(token === undefined ? {} : { token }),
    reload: () => {
      calls++;
      return Promise.resolve(REPORT);
    },
  });
  const listener: RequestListener = (req, res) => {
    if (remote)
      Object.defineProperty(req.socket, 'remoteAddress', { value: '203.0.113.9', configurable: true });
    handler(req, res);
  };
  const server = await serve(listener);
  return {
    calls: () => calls,
    post: (headers: Record<string, string> = {}) =>
      request(`${server.url}/api/reload`, { method: 'POST', headers }),
    async close() {
      handler.close();
      await server.close();
      setup.cache.dispose();
    },
  };
}

describe('review: POST /api/reload authorisation', () => {
  it(
    '401 with WWW-Authenticate without or with a wrong token; 200 with it',
    { timeout: 30_000 },
    async () => {
      const t = await start(TOKEN, true);
      try {
        const none = await t.post();
        assert.equal(none.status, 401);
        assert.equal(none.headers['www-authenticate'], 'Bearer realm="provider-health"');
        assert.equal(none.json<{ error: string }>().error, 'Reload requires an Authorization: Bearer token');
        const wrong = await t.post({ Authorization: 'Bearer nope' });
        assert.equal(wrong.status, 401);
        assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="provider-health"');
        assert.equal(t.calls(), 0);
        const ok = await t.post({ Authorization: `Bearer ${TOKEN}` });
        assert.equal(ok.status, 200, ok.text);
        assert.deepEqual(ok.json<{ unchanged: unknown }>().unchanged, { count: 1, names: ['a'] });
        assert.equal(t.calls(), 1);
      } finally {
        await t.close();
      }
    },
  );

  it(
    '403 for a remote client without a token configured, no WWW-Authenticate',
    { timeout: 30_000 },
    async () => {
      const t = await start(undefined, true);
      try {
        const res = await t.post();
        assert.equal(res.status, 403);
        assert.equal(res.headers['www-authenticate'], undefined);
        assert.match(res.json<{ error: string }>().error, /^Reload is only allowed from loopback clients/);
        assert.equal(t.calls(), 0);
      } finally {
        await t.close();
      }
    },
  );
});
