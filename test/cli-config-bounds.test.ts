import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, runMain } from './support/cli.js';

/**
 * Hostile or mistaken config files, in this process through `main`: each is
 * refused quickly, with a short message that echoes nothing large.
 */
describe('CLI config bounds', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-bounds-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `check --config name` on `text`; resolves with the result and the milliseconds it took. */
  async function check(name: string, text: string) {
    await writeFile(join(dir, name), text);
    const started = performance.now();
    const result = await runMain(['check', '--config', name], { cwd: dir, env: cliEnv({ HOME: dir }) });
    return { ...result, ms: performance.now() - started };
  }

  for (const [label, size] of [
    ['2 MB', 2_000_000],
    ['20 MB', 20_000_000],
  ] as const) {
    it(
      `refuses a file holding a ${label} explicit key at once, without echoing it`,
      { timeout: 20_000 },
      async () => {
        const result = await check('huge-key.yaml', `? ${'k'.repeat(size)}\n: 1\n`);
        assert.equal(result.code, 2, result.stderr);
        assert.equal(result.stdout, '');
        assert.equal(
          result.stderr,
          'huge-key.yaml: the file is larger than 262144 bytes (256 KiB): not a config file this tool reads\n',
        );
        assert.ok(result.ms < 2_000, `took ${Math.round(result.ms)} ms`);
      },
    );
  }

  it(
    'names a long unknown key by its start and length, without "did you mean" work',
    { timeout: 20_000 },
    async () => {
      const result = await check('long-key.yaml', `? ${'k'.repeat(200_000)}\n: 1\n`);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^long-key\.yaml:1: "k{16}…" \(200000 characters\): unknown key; expected one of pollInterval, /,
      );
      assert.ok(result.stderr.length < 400, `${result.stderr.length} characters of error`);
      assert.ok(result.ms < 2_000, `took ${Math.round(result.ms)} ms`);
    },
  );

  it('never quotes a long value, nor a long duration', { timeout: 20_000 }, async () => {
    const long = 'v'.repeat(100_000);
    const result = await check(
      'long-value.yaml',
      `checkTimeout: "${long}"\nproviders:\n  - name: db\n    type: tcp\n    host: 127.0.0.1\n    port: "${long}"\n`,
    );
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      [
        'long-value.yaml:1: checkTimeout: expected a duration like "30s", "1m30s", "250ms" or a number of milliseconds, got a string of 100000 characters',
        'long-value.yaml:6: providers[0].port: expected a port from 0 to 65535, got a string of 100000 characters',
        '',
      ].join('\n'),
    );
  });

  it(
    'lists at most 20 problems, counting the rest, and stays linear in the number of keys',
    { timeout: 20_000 },
    async () => {
      const keys = Array.from({ length: 10_000 }, (_, index) => `unknown${index}: 1`).join('\n');
      const result = await check('many-keys.yaml', `${keys}\n`);
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 21);
      assert.equal(
        lines[0],
        'many-keys.yaml:1: unknown0: unknown key; expected one of pollInterval, checkTimeout, staleAfter, jitter, concurrency, failureThreshold, successThreshold, historySize, maxMessageLength, discover, server, redis, providers, maintenance, state, notifiers, alerts',
      );
      assert.equal(lines[20], '… and 9980 more problems');
      assert.ok(result.ms < 5_000, `took ${Math.round(result.ms)} ms`);
    },
  );

  it('still finds a duplicate key in a large mapping, at its line', { timeout: 20_000 }, async () => {
    const keys = Array.from({ length: 10_000 }, (_, index) => `      h${index}: x`).join('\n');
    const text = `providers:\n  - name: api\n    type: http\n    url: http://127.0.0.1:1/\n    headers:\n${keys}\n      h17: y\n`;
    const result = await check('dup-large.yaml', text);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, 'dup-large.yaml:10006: invalid YAML: Map keys must be unique\n');
    assert.ok(result.ms < 5_000, `took ${Math.round(result.ms)} ms`);
  });

  it(
    'refuses flow collections nested deeper than 64 levels before parsing them',
    { timeout: 20_000 },
    async () => {
      const result = await check('deep.yaml', `pollInterval: 10s\nproviders: ${'['.repeat(200_000)}\n`);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, 'deep.yaml:2: invalid YAML: nested deeper than 64 levels of [ and {\n');
      assert.ok(result.ms < 1_000, `took ${Math.round(result.ms)} ms`);
    },
  );

  it('refuses durations longer than 2^31 - 1 ms (the longest timer Node.js honours), naming each field', async () => {
    const text = [
      'pollInterval: 600h',
      'checkTimeout: 2147483648',
      'staleAfter: 720h',
      'server:',
      '  minRefreshInterval: 596h31m24s',
      'redis:',
      '  url: redis://127.0.0.1:1',
      '  leaseTtl: 30000h',
      'providers:',
      '  - name: db',
      '    type: tcp',
      '    host: 127.0.0.1',
      '    port: 1',
      '    slowThreshold: 9999999h',
      '',
    ].join('\n');
    const result = await check('long-durations.yaml', text);
    assert.equal(result.code, 2, result.stderr);
    const most =
      'expected a duration of at most 2147483647 ms (about 24.8 days, the longest timer Node.js honours), got';
    assert.equal(
      result.stderr,
      [
        `long-durations.yaml:1: pollInterval: ${most} "600h"`,
        `long-durations.yaml:2: checkTimeout: ${most} 2147483648`,
        `long-durations.yaml:3: staleAfter: ${most} "720h"`,
        `long-durations.yaml:5: server.minRefreshInterval: ${most} "596h31m24s"`,
        `long-durations.yaml:8: redis.leaseTtl: ${most} "30000h"`,
        `long-durations.yaml:14: providers[0].slowThreshold: ${most} "9999999h"`,
        '',
      ].join('\n'),
    );
    // The longest one honoured is accepted.
    const ok = await check(
      'longest.yaml',
      'pollInterval: 596h31m23s647ms\ncheckTimeout: 5s\nproviders: []\n',
    );
    assert.equal(ok.code, 1, ok.stderr);
    assert.match(ok.stderr, /no providers configured/);
  });

  it('validates the server bounds at their lines', async () => {
    const text = [
      'server:',
      '  maxConnections: 0',
      '  keepAliveTimeout: 0',
      '  maxRequestsPerSocket: 1.5',
      'providers: []',
      '',
    ].join('\n');
    const result = await check('server.yaml', text);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      [
        'server.yaml:2: server.maxConnections: expected a whole number from 1 to 100000, got 0',
        'server.yaml:3: server.keepAliveTimeout: expected a duration above 0',
        'server.yaml:4: server.maxRequestsPerSocket: expected a whole number from 0 to 1000000, got 1.5',
        '',
      ].join('\n'),
    );
    const order = await check('timeouts.yaml', 'server:\n  headersTimeout: 40s\nproviders: []\n');
    assert.equal(
      order.stderr,
      'timeouts.yaml:2: server.headersTimeout: expected headersTimeout (40000 ms) not above requestTimeout (30000 ms)\n',
    );
  });
});
