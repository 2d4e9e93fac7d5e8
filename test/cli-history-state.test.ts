import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, startCli, waitUntil, type CliProcess, type CliResult } from './support/cli.js';
import { close, listen } from './support/listen.js';
import { FileStateStore } from '../src/state/file-state-store.js';
import { MAX_DOCUMENT_BYTES, type JsonValue } from '../src/state/state-store.js';

interface ProviderJSON {
  readonly name: string;
  readonly state: string;
  readonly checked_at: string;
  readonly samples: number;
  readonly uptime: number;
  readonly uptime_24h: number;
  readonly uptime_7d: number;
  readonly latency_p50_24h: number;
}

interface StateFile {
  format: string;
  version: number;
  documents: Record<string, { version: number; parts?: number; providers?: unknown }>;
}

/**
 * `serve` with `state.file` keeps each provider's last status, samples and
 * 24h/7d/30d buckets across restarts (the built bin, real processes, a real
 * HTTP target). While the target holds every request, no check can finish,
 * so what the API shows right after a restart is what was saved.
 */
describe('serve keeps the history in state.file', () => {
  let dir = '';
  let webPort = 0;
  /** `up`, every third request failing; or `hold`: requests wait until released. */
  let mode: 'up' | 'hold' = 'up';
  let requests = 0;
  const held = new Set<http.ServerResponse>();
  const running = new Set<CliProcess>();
  const web = http.createServer((_req, res) => {
    requests++;
    if (mode === 'hold') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const ok = requests % 3 !== 0;
    res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'down');
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-history-'));
    webPort = await listen(web);
  });
  after(async () => {
    await Promise.all([...running].map((cli) => cli.kill()));
    web.closeAllConnections();
    await close(web);
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A config polling once a minute (results come from `refresh`, and a held
   * check cannot end within a test), or every second with `fast`.
   */
  async function config(
    name: string,
    options: { providers?: string[]; state?: object; fast?: boolean } = {},
  ): Promise<string> {
    const file = join(dir, `${name}${options.fast ? '-fast' : ''}.yaml`);
    const url = `http://127.0.0.1:${webPort}/`;
    await writeFile(
      file,
      JSON.stringify({
        pollInterval: options.fast ? '1s' : '1m',
        // Long enough that a held check never ends while a test reads the API.
        checkTimeout: options.fast ? '500ms' : '30s',
        server: { minRefreshInterval: 0 },
        providers: (options.providers ?? ['api', 'db']).map((provider) => ({
          name: provider,
          type: 'http',
          url,
        })),
        state: { file: `./${name}/state.json`, ...options.state },
      }),
    );
    return file;
  }

  async function serve(file: string): Promise<{ cli: CliProcess; url: string }> {
    const cli = startCli(['serve', '--config', file, '--port', '0'], {
      cwd: dir,
      env: cliEnv({ HOME: dir }),
    });
    running.add(cli);
    void cli.exited.then(() => running.delete(cli));
    const [, url] = await cli.waitForLine(/listening on (http:\/\/\S+)/);
    return { cli, url: url! };
  }

  async function stop(cli: CliProcess): Promise<CliResult> {
    cli.child.kill('SIGTERM');
    const result = await cli.exited;
    assert.equal(result.code, 0, result.stderr);
    return result;
  }

  async function get<T>(url: string): Promise<T> {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    assert.equal(response.status, 200, url);
    return (await response.json()) as T;
  }

  async function provider(url: string, name: string): Promise<ProviderJSON> {
    return get<ProviderJSON>(`${url}/api/providers/${name}`);
  }

  /** Sweeps `times` times, one after the other (each answer comes after its sweep). */
  async function refresh(url: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const response = await fetch(`${url}/api/refresh`, {
        method: 'POST',
        signal: AbortSignal.timeout(30_000),
      });
      assert.equal(response.status, 200, await response.text());
    }
  }

  /** Waits until `name` has at least `samples` results. */
  async function samplesReach(url: string, name: string, samples: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await provider(url, name)).samples < samples) {
      if (Date.now() > deadline) throw new Error(`${name} did not reach ${samples} samples within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Holds the target and waits until a check of each provider is held (no result can come in). */
  async function hold(count: number): Promise<void> {
    mode = 'hold';
    await waitUntil(() => held.size >= count, `${count} held checks`);
  }

  function release(): void {
    mode = 'up';
    for (const res of held) res.writeHead(200).end('ok');
  }

  async function stateFile(name: string): Promise<StateFile> {
    return JSON.parse(await readFile(join(dir, name, 'state.json'), 'utf8')) as StateFile;
  }

  it(
    'shows the same samples, uptime and windows at once after SIGTERM and a restart',
    { timeout: 180_000 },
    async () => {
      const file = await config('restart');
      const first = await serve(file);
      await refresh(first.url, 6);
      // The next poll is a minute away: nothing changes until the stop.
      const before = await provider(first.url, 'api');
      const beforeHistory = await get<unknown>(`${first.url}/api/providers/api/history`);
      assert.ok(before.uptime_24h > 0 && before.uptime_24h < 1, `some failed: ${before.uptime_24h}`);
      await stop(first.cli);

      const saved = await stateFile('restart');
      assert.equal(saved.documents['history']?.parts, 1);
      const entries = saved.documents['history.0']?.providers as { name: string; history: string }[];
      assert.deepEqual(
        entries.map((entry) => entry.name),
        ['api', 'db'],
      );
      assert.ok(entries[0]!.history.length < 1_000, `${entries[0]!.history.length} base64 characters`);

      await hold(0);
      const second = await serve(file);
      try {
        assert.match(
          second.cli.stdout(),
          /state: history of 2 providers loaded from \S+restart\/state\.json/,
        );
        const after = await provider(second.url, 'api');
        assert.equal(after.checked_at, before.checked_at, 'no new check yet: the saved status');
        assert.equal(after.samples, before.samples);
        assert.equal(after.uptime, before.uptime);
        assert.equal(after.uptime_24h, before.uptime_24h);
        assert.equal(after.uptime_7d, before.uptime_7d);
        assert.equal(after.latency_p50_24h, before.latency_p50_24h);
        assert.deepEqual(await get<unknown>(`${second.url}/api/providers/api/history`), beforeHistory);
        assert.equal(held.size, 2, 'the first sweep of the restart is still held');
      } finally {
        release();
        await stop(second.cli);
      }
    },
  );

  it('loses at most one saveInterval of results to kill -9', { timeout: 180_000 }, async () => {
    const first = await serve(await config('killed', { state: { saveInterval: '1s' }, fast: true }));
    await samplesReach(first.url, 'api', 6);
    const before = await provider(first.url, 'api');
    await first.cli.kill();

    await hold(0);
    const second = await serve(await config('killed', { state: { saveInterval: '1s' } }));
    try {
      const after = await provider(second.url, 'api');
      // One interval of 1 s holds a result or two at pollInterval 1s; allow for a late timer.
      assert.ok(after.samples >= before.samples - 3, `${after.samples} of ${before.samples} kept`);
      assert.ok(after.samples >= 3);
      assert.ok(after.uptime_24h > 0);
    } finally {
      release();
      await stop(second.cli);
    }
  });

  it(
    'drops providers no longer configured, skips bad entries and says so',
    { timeout: 180_000 },
    async () => {
      const file = await config('dropped');
      const first = await serve(file);
      await refresh(first.url, 2);
      await stop(first.cli);

      // `api` gets a broken history; `db` is no longer in the config.
      const state = await stateFile('dropped');
      const entries = state.documents['history.0']!.providers as { name: string; history: string }[];
      entries.find((entry) => entry.name === 'api')!.history = 'AQ==';
      await writeFile(join(dir, 'dropped', 'state.json'), JSON.stringify(state));
      const onlyApi = await config('dropped', { providers: ['api'] });
      await hold(0);
      const second = await serve(onlyApi);
      try {
        const out = second.cli.stdout();
        assert.match(
          out,
          /WARN {2}state: \S+dropped\/state\.json: history of "api" skipped: History: the bytes end too soon/,
        );
        assert.match(
          out,
          /state: history of 0 providers loaded from \S+ \(1 no longer configured, dropped\)/,
        );
        assert.equal((await provider(second.url, 'api')).state, 'unknown');
      } finally {
        release();
        await stop(second.cli);
      }
      const rewritten = await stateFile('dropped');
      const names = (rewritten.documents['history.0']!.providers as { name: string }[]).map(
        (entry) => entry.name,
      );
      assert.deepEqual(names, ['api'], 'db dropped from the file, api saved afresh');
    },
  );

  it('moves a corrupt state file aside, names it, and starts empty', { timeout: 120_000 }, async () => {
    const file = await config('corrupt');
    const first = await serve(file);
    await refresh(first.url, 1);
    await stop(first.cli);
    await writeFile(
      join(dir, 'corrupt', 'state.json'),
      '{"format":"provider-health-state","version":1,"docum',
    );
    await hold(0);
    const second = await serve(file);
    try {
      assert.match(
        second.cli.stdout(),
        /State file \S+corrupt\/state\.json is unreadable or corrupt \(.+\); moved aside to \S+corrupt\/state\.json\.corrupt-\S+, starting empty/,
      );
      const api = await provider(second.url, 'api');
      assert.equal(api.samples, 0);
      assert.equal(api.uptime_24h, 0);
      const names = await readdir(join(dir, 'corrupt'));
      assert.equal(names.filter((name) => name.startsWith('state.json.corrupt-')).length, 1, names.join(','));
    } finally {
      release();
      await stop(second.cli);
    }
  });

  it(
    'leaves a history saved by a newer version alone and never saves over it',
    { timeout: 120_000 },
    async () => {
      const file = await config('newer');
      const first = await serve(file);
      await refresh(first.url, 1);
      await stop(first.cli);
      const state = await stateFile('newer');
      state.documents['history']!.version = 7;
      const text = JSON.stringify(state);
      await writeFile(join(dir, 'newer', 'state.json'), text);
      const second = await serve(file);
      try {
        assert.match(
          second.cli.stdout(),
          /WARN {2}state: \S+newer\/state\.json: the history was saved by a newer provider-health \(history version 7\); it is left as it is/,
        );
        await refresh(second.url, 1);
      } finally {
        await stop(second.cli);
      }
      const after = await stateFile('newer');
      assert.deepEqual(after.documents['history'], state.documents['history']);
      assert.deepEqual(after.documents['history.0'], state.documents['history.0']);
    },
  );
});

describe('FileStateStore.putMany', () => {
  it('puts and deletes several documents in one write, or refuses before writing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'provider-health-put-many-'));
    try {
      const file = join(dir, 'state.json');
      const store = await FileStateStore.open(file);
      await store.put('silences', { version: 1, silences: [] });
      await store.putMany(
        new Map([
          ['history', { parts: 2 }],
          ['history.0', [1]],
          ['history.1', [2]],
        ]),
      );
      await store.putMany(
        new Map<string, JsonValue | undefined>([
          ['history', { parts: 1 }],
          ['history.1', undefined],
        ]),
      );
      const written = JSON.parse(await readFile(file, 'utf8')) as StateFile;
      assert.deepEqual(Object.keys(written.documents), ['silences', 'history', 'history.0']);
      const tooBig = 'x'.repeat(MAX_DOCUMENT_BYTES);
      await assert.rejects(
        store.putMany(
          new Map<string, JsonValue>([
            ['history', { parts: 0 }],
            ['history.0', tooBig],
          ]),
        ),
        RangeError,
      );
      await assert.rejects(store.putMany(new Map([['bad key', 1]])), TypeError);
      assert.deepEqual(
        JSON.parse(await readFile(file, 'utf8')),
        written,
        'nothing of a refused change written',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
