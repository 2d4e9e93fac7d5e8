// Operating `serve` through the built CLI (real processes, real sockets):
// /livez and /readyz around the first sweep, SIGHUP and POST /api/reload
// while a sweep runs, a bad config that changes nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, startCli, type CliProcess } from './support/cli.js';
import { request, type TestResponse } from './support/http.js';
import { close, listen, refusedPort } from './support/listen.js';

const TOKEN = 'reload-token-6b2e9d41';

/** GETs `url` every 50 ms until it answers `status` (at most `timeout` ms), and returns that answer. */
async function answered(url: string, status: number, timeout: number): Promise<TestResponse> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const response = await request(url);
    if (response.status === status) return response;
    if (Date.now() > deadline) {
      throw new Error(
        `${url} answered ${response.status}, not ${status}, for ${timeout} ms: ${response.text}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Sample {
  readonly checked_at: string;
}

describe('serve under an orchestrator', () => {
  let dir = '';
  let upPort = 0;
  let otherUpPort = 0;
  let hungPort = 0;
  let downPort = 0;
  const running = new Set<CliProcess>();
  const up = net.createServer((socket) => socket.destroy());
  const otherUp = net.createServer((socket) => socket.destroy());
  // Accepts HTTP requests and never answers: a check of it lasts until checkTimeout.
  const hung = http.createServer(() => {});

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-ops-serve-'));
    [upPort, otherUpPort, hungPort] = await Promise.all([listen(up), listen(otherUp), listen(hung)]);
    downPort = await refusedPort();
  });
  after(async () => {
    await Promise.all([...running].map((cli) => cli.kill()));
    await Promise.all([close(up), close(otherUp), close(hung)]);
    await rm(dir, { recursive: true, force: true });
  });

  async function start(
    file: string,
    env: Record<string, string> = {},
  ): Promise<{ cli: CliProcess; url: string }> {
    const cli = startCli(['serve', '--config', file, '--port', '0'], { env: cliEnv({ HOME: dir, ...env }) });
    running.add(cli);
    const [, url] = await cli.waitForLine(/listening on (http:\/\/\S+)/, 20_000);
    return { cli, url: url as string };
  }

  const tcp = (name: string, port: number, extra: object = {}) => ({
    name,
    type: 'tcp',
    host: '127.0.0.1',
    port,
    ...extra,
  });
  const slow = () => ({ name: 'slow', type: 'http', url: `http://127.0.0.1:${hungPort}/` });

  it(
    'answers /readyz 503 until the first sweep ends, /livez 200 throughout, neither following the providers',
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'probes.json');
      await writeFile(
        file,
        JSON.stringify({
          pollInterval: '10s',
          checkTimeout: '4s',
          providers: [slow(), tcp('down', downPort)],
        }),
      );
      const { cli, url } = await start(file);
      // The first sweep waits up to 4 s on `slow`.
      const early = await request(`${url}/readyz`);
      assert.equal(early.status, 503, early.text);
      assert.deepEqual(early.json(), { ok: false, reason: 'the first sweep has not finished' });
      const live = await request(`${url}/livez`);
      assert.equal(live.status, 200, live.text);

      await cli.waitForLine(/WARN +slow: unknown -> unhealthy: .*timed out/, 15_000);
      const ready = await answered(`${url}/readyz`, 200, 5_000);
      assert.deepEqual(ready.json(), { ok: true, reason: 'statuses are loaded' });
      assert.equal((await request(`${url}/livez`)).status, 200);
      assert.equal(
        (await request(`${url}/api/health`)).status,
        503,
        'the providers are down, the service is not',
      );

      const status = (await request(`${url}/api/status`)).json<Record<string, unknown>>();
      assert.equal(status['mode'], 'local');
      assert.equal(status['providers'], 2);
      assert.equal(status['live'], true);
      assert.equal(status['ready'], true);
      assert.equal(typeof status['version'], 'string');

      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    },
  );

  it(
    'applies SIGHUP while a sweep runs: added, removed, changed, renamed; unchanged keep their history',
    { timeout: 90_000 },
    async () => {
      const file = join(dir, 'reload.json');
      const before = {
        pollInterval: '6s',
        checkTimeout: '3s',
        providers: [
          slow(),
          tcp('keep', upPort),
          tcp('retune', upPort),
          tcp('orders', otherUpPort),
          tcp('gone', downPort),
          tcp('app', upPort, { dependsOn: ['gone'] }),
        ],
      };
      await writeFile(file, JSON.stringify(before));
      const { cli, url } = await start(file);
      await cli.waitForLine(/INFO +keep: unknown -> healthy/, 10_000);
      await cli.waitForLine(/INFO +app: unknown -> healthy/, 10_000);
      const keepBefore = (await request(`${url}/api/providers/keep/history`)).json<{ samples: Sample[] }>();
      assert.equal(keepBefore.samples.length, 1);
      assert.doesNotMatch(cli.stdout(), /slow: unknown/, 'the first sweep still waits on slow');

      // Renamed orders -> orders-db, retune points elsewhere, gone goes (app first lets go of it), fresh comes.
      await writeFile(
        file,
        JSON.stringify({
          ...before,
          providers: [
            slow(),
            tcp('keep', upPort),
            tcp('retune', downPort),
            tcp('orders-db', otherUpPort),
            tcp('app', upPort),
            tcp('fresh', upPort),
          ],
        }),
      );
      cli.child.kill('SIGHUP');
      await cli.waitForLine(/INFO +reload \(SIGHUP\): orders renamed/, 10_000);
      const lines = cli
        .stdout()
        .split('\n')
        .filter((line) => / reload \(SIGHUP\)/.test(line))
        .map((line) => line.replace(/^\S+ /, ''));
      assert.deepEqual(lines, [
        'INFO  reload (SIGHUP): 2 added (fresh, orders-db), 2 removed (gone, orders), 2 changed (app, retune), 2 unchanged',
        'INFO  reload (SIGHUP): orders renamed to orders-db: orders was removed with its history, orders-db added',
      ]);
      // The sweep that was running when the reload came finishes for the providers still there.
      await cli.waitForLine(/WARN +slow: unknown -> unhealthy: .*timed out/, 10_000);
      await cli.waitForLine(/INFO +fresh: unknown -> healthy/, 10_000);
      await cli.waitForLine(/INFO +orders-db: unknown -> healthy/, 10_000);
      await cli.waitForLine(/WARN +retune: healthy -> unhealthy: .*refused/, 10_000);

      const names = (await request(`${url}/api/providers`)).json<{ name: string }[]>().map((p) => p.name);
      assert.deepEqual(names, ['app', 'fresh', 'keep', 'orders-db', 'retune', 'slow']);
      assert.equal((await request(`${url}/api/providers/gone`)).status, 404);
      assert.equal((await request(`${url}/api/providers/orders`)).status, 404);
      const app = (await request(`${url}/api/providers/app`)).json<Record<string, unknown>>();
      assert.equal(app['depends_on'], undefined, 'app no longer depends on gone');
      const keepAfter = (await request(`${url}/api/providers/keep/history`)).json<{ samples: Sample[] }>();
      assert.deepEqual(keepAfter.samples[0], keepBefore.samples[0], 'keep kept its history');
      assert.equal(cli.stdout().match(/keep: unknown/g)?.length, 1, 'keep was never reset to unknown');

      // A bad file: logged with its line, nothing changes.
      await writeFile(
        file,
        [
          '{',
          '  "pollInterval": "6s",',
          '  "checkTimeout": "3s",',
          '  "providers": [{ "name": "x", "type": "tcpp" }]',
          '}',
        ].join('\n'),
      );
      cli.child.kill('SIGHUP');
      await cli.waitForLine(/ERROR +reload \(SIGHUP\) refused, the running config stays: 1 problem/, 10_000);
      await cli.waitForLine(
        /ERROR +reload: \S*reload\.json:4: providers\[0\]\.type: expected one of .*"tcpp"/,
        10_000,
      );
      const still = (await request(`${url}/api/providers`)).json<{ name: string }[]>().map((p) => p.name);
      assert.deepEqual(still, names);

      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    },
  );

  it(
    'POST /api/reload: refused without the token, 400 with the errors, 200 with what changed',
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'post.json');
      const config = (providers: object[]) =>
        JSON.stringify({ pollInterval: '5s', checkTimeout: '1s', providers });
      await writeFile(file, config([tcp('a', upPort)]));
      const { cli, url } = await start(file, { PROVIDER_HEALTH_TOKEN: TOKEN });
      await cli.waitForLine(/INFO +a: unknown -> healthy/, 10_000);
      const reload = (headers: Record<string, string> = {}) =>
        request(`${url}/api/reload`, { method: 'POST', headers });
      const auth = { Authorization: `Bearer ${TOKEN}` };

      assert.equal((await reload()).status, 401);
      assert.equal((await reload({ Authorization: 'Bearer wrong' })).status, 401);
      assert.doesNotMatch(cli.stdout(), /reload \(/, 'a refused request reloads nothing');

      await writeFile(file, '{ "pollInterval": "5s", "providers": [ { "name": "a" } ] }');
      const bad = await reload(auth);
      assert.equal(bad.status, 400, bad.text);
      const body = bad.json<{ error: string; errors: string[] }>();
      assert.equal(body.error, 'The config has errors; the running config stays');
      assert.ok(body.errors.length >= 1);
      assert.match(body.errors[0] ?? '', /post\.json:1: providers\[0\]/);

      await writeFile(file, config([tcp('a', upPort), tcp('b', upPort)]));
      const [one, two] = await Promise.all([reload(auth), reload(auth)]);
      for (const answer of [one, two]) assert.equal(answer.status, 200, answer.text);
      const reports = [one, two].map((answer) =>
        answer.json<Record<string, { count: number; names: string[] }>>(),
      );
      const added = reports.map((report) => report['added']?.names);
      // Serialised: whichever ran first added b, the other found nothing to do (or both joined one reload).
      assert.ok(
        JSON.stringify(added) === '[["b"],[]]' ||
          JSON.stringify(added) === '[[],["b"]]' ||
          JSON.stringify(added) === '[["b"],["b"]]',
        JSON.stringify(added),
      );
      assert.deepEqual(reports[0]?.['unchanged']?.names.includes('a'), true);
      assert.ok(!cli.stdout().includes(TOKEN));
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    },
  );
});
