import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cliEnv,
  runCli,
  runMain,
  startCli,
  waitUntil,
  type CliProcess,
  type CliResult,
} from './support/cli.js';
import { close, listen } from './support/listen.js';
import { RedisServer } from './support/redis-server.js';

const TOKEN = 'silence-token-4c8e1a7b93';
const WRONG_TOKEN = 'wrong-token-0f2d6b8e51';

interface ProviderJSON {
  readonly name: string;
  readonly state: string;
  readonly silenced?: boolean;
  readonly silenced_by?: readonly string[];
}

/**
 * `provider-health silence add|list|expire` against a real `serve` on a free
 * port (both the built bin), with the state file and maintenance windows of
 * the config.
 */
describe('provider-health silence and serve with silences', () => {
  let dir = '';
  let webPort = 0;
  let webHealthy = false;
  const running = new Set<CliProcess>();
  const web = http.createServer((_req, res) => {
    res.writeHead(webHealthy ? 200 : 503).end(webHealthy ? 'ok' : 'down');
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-silence-'));
    webPort = await listen(web);
  });
  after(async () => {
    await Promise.all([...running].map((cli) => cli.kill()));
    await close(web);
    await rm(dir, { recursive: true, force: true });
  });

  /** A config with three providers, a maintenance window always open over `tier=batch`, and a state file. */
  async function config(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const file = join(dir, name);
    const url = `http://127.0.0.1:${webPort}/`;
    await writeFile(
      file,
      JSON.stringify({
        pollInterval: '1s',
        checkTimeout: '500ms',
        server: { token: TOKEN },
        providers: [
          { name: 'api', type: 'http', url, labels: { env: 'prod', team: 'web' } },
          { name: 'worker', type: 'http', url, labels: { env: 'prod', tier: 'batch' } },
          { name: 'dev', type: 'http', url, labels: { env: 'dev' } },
        ],
        // Every minute, for an hour: always open, whatever the time the test runs.
        maintenance: [
          {
            name: 'nightly',
            cron: '* * * * *',
            duration: '1h',
            selector: 'tier=batch',
            comment: 'batch window',
          },
        ],
        state: { file: './state/silences.json' },
        ...extra,
      }),
    );
    return file;
  }

  /** Starts `serve` from `dir` and resolves with its base URL once it listens. */
  async function serve(
    file: string,
    env: Record<string, string> = {},
  ): Promise<{ cli: CliProcess; url: string }> {
    const cli = startCli(['serve', '--config', file, '--port', '0'], {
      cwd: dir,
      env: cliEnv({ HOME: dir, ...env }),
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

  /** Runs `silence …` with `token` in PROVIDER_HEALTH_TOKEN (`null`: none). */
  function silence(args: string[], token: string | null = TOKEN): Promise<CliResult> {
    return runCli(['silence', ...args], {
      cwd: dir,
      env: cliEnv({ HOME: dir, PROVIDER_HEALTH_TOKEN: token ?? undefined }),
    });
  }

  async function providers(url: string): Promise<Map<string, ProviderJSON>> {
    const response = await fetch(`${url}/api/providers`, { signal: AbortSignal.timeout(10_000) });
    const list = (await response.json()) as ProviderJSON[];
    return new Map(list.map((status) => [status.name, status]));
  }

  /** Waits until every provider has a first result, so `silenced_by` can be read. */
  async function checked(url: string): Promise<void> {
    let seen = 0;
    const deadline = Date.now() + 30_000;
    while (seen < 3) {
      if (Date.now() > deadline) throw new Error('the providers were not checked within 30 s');
      seen = [...(await providers(url)).values()].filter((status) => status.state !== 'unknown').length;
      if (seen < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  function assertNoToken(...texts: string[]): void {
    for (const text of texts) {
      assert.ok(!text.includes(TOKEN), 'the token must never be printed');
      assert.ok(!text.includes(WRONG_TOKEN), 'nor a wrong one');
    }
  }

  it(
    'adds, lists and expires silences with the token; refuses without it or with a wrong one',
    { timeout: 120_000 },
    async () => {
      const { cli, url } = await serve(await config('silences.yaml'));
      await checked(url);
      const server = ['--server', url];

      const missing = await silence(
        ['add', ...server, '--selector', 'team=web', '-d', '2h', '-m', 'deploy'],
        null,
      );
      assert.equal(missing.code, 3, missing.stderr);
      assert.match(
        missing.stderr,
        /^provider-health silence add: not authorised \(HTTP 401: .*\); set PROVIDER_HEALTH_TOKEN/,
      );
      const wrong = await silence(
        ['add', ...server, '--selector', 'team=web', '-d', '2h', '-m', 'deploy'],
        WRONG_TOKEN,
      );
      assert.equal(wrong.code, 3, wrong.stderr);
      assert.match(wrong.stderr, /not authorised \(HTTP 401: .*\); check PROVIDER_HEALTH_TOKEN/);
      assertNoToken(missing.stdout, missing.stderr, wrong.stdout, wrong.stderr);
      assert.equal(
        (await providers(url)).get('api')?.silenced_by,
        undefined,
        'a refused silence changes nothing',
      );

      const added = await silence([
        'add',
        ...server,
        '--selector',
        'team=web',
        '--duration',
        '2h',
        '--comment',
        'deploy of the web tier',
        '--created-by',
        'alice',
      ]);
      assert.equal(added.code, 0, added.stderr);
      const id = /^added silence ([0-9a-f-]{36}): team=web from \S+ until \S+\n$/.exec(added.stdout)?.[1];
      assert.ok(id, added.stdout);
      const status = (await providers(url)).get('api');
      assert.equal(status?.silenced, true);
      assert.deepEqual(status?.silenced_by, [id]);

      // Names instead of a selector, as JSON; the OS user by default.
      const named = await silence([
        'add',
        ...server,
        '--provider',
        'dev',
        '--provider',
        'api',
        '-d',
        '30m',
        '-m',
        'x',
        '--json',
      ]);
      assert.equal(named.code, 0, named.stderr);
      const namedSilence = JSON.parse(named.stdout) as { id: string; matchers: string[]; createdBy: string };
      assert.deepEqual(namedSilence.matchers, ['api', 'dev']);
      assert.ok(namedSilence.createdBy.length > 0);

      const list = await silence(['list', ...server]);
      assert.equal(list.code, 0, list.stderr);
      const lines = list.stdout.split('\n');
      assert.match(lines[0]!, /^ID +MATCHERS +STARTS +ENDS +CREATED BY +COMMENT$/);
      assert.ok(
        lines.some((line) => line.startsWith(id) && /team=web .* alice +deploy of the web tier$/.test(line)),
        list.stdout,
      );
      assert.ok(
        lines.some((line) => line.startsWith(namedSilence.id) && line.includes('api,dev')),
        list.stdout,
      );
      assert.ok(list.stdout.includes('maintenance windows open now:'), list.stdout);
      assert.ok(
        lines.some((line) => /^nightly +tier=batch .* batch window$/.test(line)),
        list.stdout,
      );
      const listed = JSON.parse((await silence(['list', ...server, '--json'], null)).stdout) as {
        silences: { id: string }[];
        windows: { name: string }[];
      };
      assert.deepEqual(listed.silences.map((entry) => entry.id).sort(), [id, namedSilence.id].sort());
      assert.deepEqual(
        listed.windows.map((window) => window.name),
        ['nightly'],
      );

      // Refusals: a conflict, a time the server rejects (naming the field), a bad selector (before asking).
      const conflict = await silence(['add', ...server, '-l', 'team=web', '-d', '1h', '-m', 'again']);
      assert.equal(conflict.code, 5, conflict.stderr);
      assert.match(conflict.stderr, /HTTP 409: .*already covers that time/);
      const past = await silence([
        'add',
        ...server,
        '-l',
        'env=dev',
        '--ends-at',
        '2020-01-01T00:00:00Z',
        '-m',
        'old',
      ]);
      assert.equal(past.code, 2, past.stderr);
      assert.match(past.stderr, /the server refused the silence \(field endsAt\): HTTP 400: /);
      const badSelector = await silence(['add', ...server, '-l', 'env in (a', '-d', '1h', '-m', 'x']);
      assert.equal(badSelector.code, 2);
      assert.match(
        badSelector.stderr,
        /^provider-health silence add: --selector: expected "," or "\)", got the end at position 9 of "env in \(a"\n/,
      );

      const expired = await silence(['expire', ...server, id]);
      assert.equal(expired.code, 0, expired.stderr);
      assert.equal(expired.stdout, `expired silence ${id}\n`);
      assert.equal((await providers(url)).get('api')?.silenced_by?.includes(id), false);
      const again = await silence(['expire', ...server, id]);
      assert.equal(again.code, 4, again.stderr);
      assert.match(again.stderr, /no silence .* is pending or in force/);
      const refused = await silence(['expire', ...server, namedSilence.id], WRONG_TOKEN);
      assert.equal(refused.code, 3);

      const result = await stop(cli);
      assert.match(
        result.stdout,
        new RegExp(`INFO  silence ${id} added by alice: team=web from .*: deploy of the web tier`),
      );
      assert.match(result.stdout, new RegExp(`INFO  silence ${id} expired: team=web`));
      assertNoToken(result.stdout, result.stderr, list.stdout, added.stdout);
    },
  );

  it('silences the providers a maintenance window of the config selects', { timeout: 60_000 }, async () => {
    const { cli, url } = await serve(await config('window.yaml', { state: undefined }));
    await checked(url);
    const statuses = await providers(url);
    assert.deepEqual(statuses.get('worker')?.silenced_by, ['nightly']);
    assert.equal(statuses.get('worker')?.silenced, true);
    assert.equal(statuses.get('api')?.silenced_by, undefined);
    const result = await stop(cli);
    assert.match(
      result.stdout,
      /INFO {2}maintenance window nightly is open until \S+ \(selector "tier=batch"\)/,
    );
  });

  it('keeps silences in the state file across a restart', { timeout: 120_000 }, async () => {
    const file = await config('restart.yaml', { state: { file: './restart/state.json' } });
    const first = await serve(file);
    const added = await silence([
      'add',
      '--server',
      first.url,
      '-l',
      'env=prod',
      '-d',
      '3h',
      '-m',
      'survives',
      '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const { id } = JSON.parse(added.stdout) as { id: string };
    await stop(first.cli);
    const stored = JSON.parse(await readFile(join(dir, 'restart', 'state.json'), 'utf8')) as {
      documents: { silences: { silences: { id: string; comment: string }[] } };
    };
    assert.deepEqual(
      stored.documents.silences.silences.map((entry) => [entry.id, entry.comment]),
      [[id, 'survives']],
    );

    const second = await serve(file);
    assert.match(second.cli.stdout(), /INFO {2}state: 1 silence loaded from \S+restart\/state\.json/);
    await checked(second.url);
    assert.deepEqual((await providers(second.url)).get('api')?.silenced_by, [id]);
    const list = await silence(['list', '--server', second.url, '--json']);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { silences: { id: string }[] }).silences.map((s) => s.id),
      [id],
    );
    await stop(second.cli);
  });

  it('moves a corrupt state file aside, says where, and starts without it', { timeout: 60_000 }, async () => {
    const file = await config('corrupt.yaml', { state: { file: './corrupt/state.json' } });
    await mkdir(join(dir, 'corrupt'));
    await writeFile(join(dir, 'corrupt', 'state.json'), '{"format": "provider-health-state", "vers');
    const { cli, url } = await serve(file);
    const path = join(dir, 'corrupt', 'state.json');
    const line = cli
      .stdout()
      .split('\n')
      .find((text) => text.includes('WARN  State file'));
    assert.ok(
      line !== undefined && line.includes(`WARN  State file ${path} is unreadable or corrupt (`),
      cli.stdout(),
    );
    assert.ok(line.includes(`; moved aside to ${path}.corrupt-`), line);
    assert.ok(line.endsWith(', starting empty'), line);
    const names = await readdir(join(dir, 'corrupt'));
    assert.equal(names.filter((name) => name.startsWith('state.json.corrupt-')).length, 1, names.join(','));
    const list = await silence(['list', '--server', url, '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { silences: unknown[] }).silences, []);
    // It works on: a new silence is written to a fresh file.
    const added = await silence(['add', '--server', url, '-l', 'env=dev', '-d', '1h', '-m', 'fresh']);
    assert.equal(added.code, 0, added.stderr);
    await stop(cli);
    const fresh = JSON.parse(await readFile(path, 'utf8')) as { format: string };
    assert.equal(fresh.format, 'provider-health-state');
  });

  it(
    'refuses a state file of a newer version at its config line, exit 2, leaving it untouched',
    { timeout: 60_000 },
    async () => {
      const file = await config('newer.yaml', { state: { file: './newer.json' } });
      const text = '{"format":"provider-health-state","version":99,"documents":{}}\n';
      await writeFile(join(dir, 'newer.json'), text);
      const result = await runCli(['serve', '--config', file, '--port', '0'], {
        cwd: dir,
        env: cliEnv({ HOME: dir }),
      });
      assert.equal(result.code, 2, result.stdout);
      assert.match(
        result.stderr,
        /^\S+newer\.yaml:1: state\.file: State file \S+newer\.json has format version 99, newer than/,
      );
      assert.equal(await readFile(join(dir, 'newer.json'), 'utf8'), text);
    },
  );

  it('ends an --ends-on-recovery silence when its provider recovers', { timeout: 60_000 }, async () => {
    webHealthy = false;
    const { cli, url } = await serve(
      await config('recovery.yaml', { state: undefined, maintenance: undefined }),
    );
    await checked(url);
    const added = await silence([
      'add',
      '--server',
      url,
      '--provider',
      'dev',
      '-d',
      '1h',
      '-m',
      'fixing',
      '--ends-on-recovery',
      '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const { id } = JSON.parse(added.stdout) as { id: string };
    webHealthy = true;
    await waitUntil(
      () => cli.stdout().includes(`silence ${id} ended: its providers recovered`),
      'the silence to end',
      20_000,
    );
    const list = await silence(['list', '--server', url, '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { silences: unknown[] }).silences, []);
    await stop(cli);
  });

  it(
    'in shared mode, a silence added on one replica is in force on the other, and stays when it dies',
    { timeout: 120_000 },
    async () => {
      const redis = await RedisServer.start();
      try {
        const file = await config('shared.yaml', {
          state: undefined,
          redis: { key: `cli-silence-${process.pid}` },
        });
        const env = { PROVIDER_HEALTH_REDIS_URL: redis.url };
        const [one, two] = await Promise.all([serve(file, env), serve(file, env)]);
        const added = await silence([
          'add',
          '--server',
          one.url,
          '-l',
          'team=web',
          '-d',
          '1h',
          '-m',
          'shared',
          '--json',
        ]);
        assert.equal(added.code, 0, added.stderr);
        const { id } = JSON.parse(added.stdout) as { id: string };
        assert.match(one.cli.stdout(), new RegExp(`INFO  silence ${id} added by \\S+: team=web`));
        const listedOn = async (url: string): Promise<string[]> => {
          const list = await silence(['list', '--server', url, '--json']);
          return (JSON.parse(list.stdout) as { silences: { id: string }[] }).silences.map(
            (entry) => entry.id,
          );
        };
        let seen: string[] = [];
        const deadline = Date.now() + 10_000;
        while (!seen.includes(id) && Date.now() < deadline) seen = await listedOn(two.url);
        assert.deepEqual(seen, [id], 'the other replica lists it');
        await one.cli.kill();
        assert.deepEqual(await listedOn(two.url), [id], 'it stays when the replica that added it dies');
        const expired = await silence(['expire', '--server', two.url, id]);
        assert.equal(expired.code, 0, expired.stderr);
        assert.deepEqual(await listedOn(two.url), []);
        await stop(two.cli);
      } finally {
        await redis.destroy();
      }
    },
  );

  it('refuses a bad command line with exit 2 before asking any server', async () => {
    const cases: [string[], string][] = [
      [[], 'missing silence command: expected add, list or expire'],
      [['mute'], "unknown silence command 'mute': expected add, list or expire"],
      [['add', '-l', 'env=prod', '-d', '1h'], '--comment is required: say why, e.g. --comment "OS patching"'],
      [
        ['add', '-l', 'env=prod', '-m', 'x'],
        'expected exactly one of --duration (2h) and --ends-at (an RFC 3339 time)',
      ],
      [
        ['add', '-l', 'env=prod', '--provider', 'a', '-d', '1h', '-m', 'x'],
        'expected exactly one of --selector (or --matchers) and --provider, to say what to silence',
      ],
      [
        ['add', '-l', '', '-d', '1h', '-m', 'x'],
        '--selector: expected at least one requirement (an empty one selects everything)',
      ],
      [
        ['add', '-l', 'env=prod', '-d', '31d', '-m', 'x'],
        '--duration: expected a duration of at most 30d (2592000000 ms), got "31d"',
      ],
      [['expire'], 'missing the id of the silence to expire'],
      [['expire', '../refresh'], 'expected a silence id (a UUID), got "../refresh"'],
      [
        ['list', '--server', 'ftp://host'],
        '--server: expected an http:// or https:// URL such as http://127.0.0.1:7070, got ftp:',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runMain(['silence', ...args], { env: cliEnv({ HOME: dir }) });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      const command = args[0] === undefined || args[0] === 'mute' ? 'silence' : `silence ${args[0]}`;
      assert.equal(
        result.stderr,
        `provider-health ${command}: ${message}\nRun 'provider-health ${command} --help' for usage.\n`,
      );
    }
  });

  it('says when the server cannot be reached, and refuses a --server with credentials without echoing them', async () => {
    // A port that was free a moment ago: nothing listens there.
    const closed = http.createServer();
    const port = await listen(closed);
    await close(closed);
    const result = await silence(['list', '--server', `http://127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `provider-health silence list: cannot reach http://127.0.0.1:${port}/api/silences: connection refused (is provider-health serve running there?)\n`,
    );
    const credentials = await silence(['list', '--server', 'http://user:pa55word@127.0.0.1:1']);
    assert.equal(credentials.code, 2);
    assert.ok(!credentials.stderr.includes('pa55word'));
    assert.match(
      credentials.stderr,
      /--server: the URL must not carry credentials; put the token in PROVIDER_HEALTH_TOKEN/,
    );
  });
});
