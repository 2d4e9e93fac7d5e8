/**
 * Review: the free text of a silence (comment, createdBy, provider names)
 * comes from any authorised client and is written to log lines and printed
 * by `silence list`. Control characters (a carriage return, an escape
 * sequence, NUL) are refused with a 400 naming the field, over a real socket,
 * and nothing is added.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthHandler } from '../src/http/index.js';
import { localSilenceControl, parseStoredSilence, SilenceSet } from '../src/quiet/index.js';
import { ManualClock } from '../src/testing/index.js';
import { demoCache, request, serve, switchable } from './support/http.js';

const GOOD = { matchers: ['a'], duration: 60_000, comment: 'DB upgrade', createdBy: 'ops' };

describe('review: silence text without control characters', () => {
  it(
    'refuses a comment, createdBy or name with control characters (400, field named, nothing added)',
    {
      timeout: 30_000,
    },
    async () => {
      const setup = await demoCache({ a: switchable() });
      const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
      const set = new SilenceSet({ clock });
      const handler = createHealthHandler(setup.cache, {
        metrics: false,
        clock,
        silences: localSilenceControl(set),
      });
      const server = await serve((req, res) => handler(req, res));
      try {
        const post = (body: unknown) =>
          request(`${server.url}/api/silences`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          });
        const cases: [Record<string, unknown>, string][] = [
          [{ ...GOOD, createdBy: 'me\u001b[31m' }, 'createdBy'],
          [{ ...GOOD, createdBy: 'me\r2026-03-01T10:00:00.000Z ERROR forged' }, 'createdBy'],
          [{ ...GOOD, comment: 'patch\u0000' }, 'comment'],
          [{ ...GOOD, comment: 'a\u2028b' }, 'comment'],
          [{ ...GOOD, comment: 'line one\nline two' }, 'comment'],
          [{ ...GOOD, matchers: ['a', 'b\u009b2J'] }, 'matchers[1]'],
        ];
        for (const [body, field] of cases) {
          const res = await post(body);
          assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
          assert.equal(res.json<{ field: string }>().field, field);
          assert.match(res.json<{ error: string }>().error, /control characters/);
        }
        assert.equal(set.list().length, 0);
        const ok = await post({ ...GOOD, comment: 'Patch tuesday – ticket «OPS-12»\tnow' });
        // A tab is a control character too: refused like the others.
        assert.equal(ok.status, 400, ok.text);
        const plain = await post({ ...GOOD, comment: 'Patch tuesday – ticket «OPS-12»' });
        assert.equal(plain.status, 201, plain.text);
        assert.equal(set.list().length, 1);
      } finally {
        handler.close();
        await server.close();
        set.dispose();
        setup.cache.dispose();
      }
    },
  );

  it('refuses a stored silence (state file, Redis record) with control characters', () => {
    const stored = {
      id: '0b5a0c7e-0000-4000-8000-000000000001',
      matchers: 'env=prod',
      startsAt: '2026-03-01T10:00:00Z',
      endsAt: '2026-03-01T11:00:00Z',
      comment: 'ok',
      createdBy: 'ops',
      endsOnRecovery: false,
    };
    assert.equal(parseStoredSilence(stored).comment, 'ok');
    assert.throws(
      () => parseStoredSilence({ ...stored, comment: '\u001b]0;owned\u0007' }),
      (error: Error & { option?: string }) => error.option === 'comment',
    );
  });
});
