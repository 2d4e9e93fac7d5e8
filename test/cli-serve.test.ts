import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, startCli, type CliProcess, type CliResult, waitUntil } from './support/cli.js';
import { close, listen } from './support/listen.js';
import { startPodmanService, type PodmanService } from './support/podman.js';
import { RedisServer } from './support/redis-server.js';

const TOKEN = 'refresh-token-5d1c7e9a0b';
const ENV_TOKEN = 'env-token-8e2f4a6c13';
const REDIS_PASSWORD = 'redis-pw-3a7d1f9e';

/** One HTTP exchange with the CLI's server. */
async function fetchText(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: await response.text() };
}

/** Sends `signal` and resolves with the result and the milliseconds from the signal to the exit. */
async function stopWith(cli: CliProcess, signal: NodeJS.Signals): Promise<{ result: CliResult; ms: number }> {
  const sent = performance.now();
  cli.child.kill(signal);
  const result = await cli.exited;
  return { result, ms: performance.now() - sent };
}

/**
 * The stream's text up to its first complete event with data (its initial
 * snapshot; a `retry:` line may come in a chunk of its own); then the stream
 * is dropped. At most 1 MiB is read.
 */
function firstEvent(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk: string) => {
        text += chunk;
        if (/^data:.*\n\n/ms.test(text) || text.length > 1_048_576) {
          resolve(text);
          req.destroy();
        }
      });
      res.once('end', () => resolve(text));
    });
    // After resolve, the error of the dropped connection changes nothing.
    req.once('error', reject);
  });
}

describe('provider-health serve', () => {
  let dir = '';
  let podman: PodmanService;
  let redis: RedisServer;
  let webPort = 0;
  let hungPort = 0;
  let webHealthy = true;
  const hungSockets = new Set<net.Socket>();
  const running = new Set<CliProcess>();

  const web = http.createServer((req, res) => {
    res.writeHead(webHealthy ? 200 : 503).end(webHealthy ? 'ok' : 'down');
  });
  // Accepts and never answers, like a wedged control plane.
  const hung = net.createServer((socket) => {
    hungSockets.add(socket);
    socket.resume();
    socket.once('close', () => hungSockets.delete(socket));
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-serve-'));
    [webPort, hungPort] = await Promise.all([listen(web), listen(hung)]);
    [podman, redis] = await Promise.all([
      startPodmanService(),
      RedisServer.start({ password: REDIS_PASSWORD }),
    ]);
  });
  after(async () => {
    await Promise.all([...running].map((cli) => cli.kill()));
    for (const socket of hungSockets) socket.destroy();
    await Promise.all([close(web), close(hung)]);
    await Promise.all([podman?.cleanup(), redis?.destroy()]);
    await rm(dir, { recursive: true, force: true });
  });

  async function config(name: string, value: unknown): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify(value, null, 2));
    return file;
  }

  function serve(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
    const cli = startCli(['serve', ...args], { env: cliEnv({ HOME: dir, ...env }) });
    running.add(cli);
    void cli.exited.then(() => running.delete(cli));
    return cli;
  }

  /** Waits for the start line and returns the base URL it names. */
  async function started(cli: CliProcess): Promise<string> {
    const [, url] = await cli.waitForLine(/listening on (http:\/\/\S+)/);
    return url!;
  }

  it('serves the providers of a config, logs transitions, and exits 0 on SIGTERM', async () => {
    webHealthy = true;
    const file = await config('basic.json', {
      pollInterval: '1s',
      checkTimeout: '500ms',
      providers: [
        { name: 'web', type: 'http', url: `http://127.0.0.1:${webPort}/` },
        { name: 'engine', type: 'docker', host: podman.host },
      ],
    });
    const cli = serve(['--config', file, '--port', '0']);
    const url = await started(cli);
    assert.match(cli.stdout(), /listening on http:\/\/127\.0\.0\.1:\d+ with 2 providers: engine, web/);
    assert.doesNotMatch(cli.stdout(), /discovery:/, 'no discovery with a config file');
    await cli.waitForLine(/web: unknown -> healthy/);
    await cli.waitForLine(/engine: unknown -> healthy/);

    const providers = JSON.parse((await fetchText(`${url}/api/providers`)).body) as {
      name: string;
      state: string;
    }[];
    assert.deepEqual(
      providers.map((provider) => [provider.name, provider.state]),
      [
        ['engine', 'healthy'],
        ['web', 'healthy'],
      ],
    );
    webHealthy = false;
    await cli.waitForLine(/WARN +web: healthy -> unhealthy: GET http:\/\/127\.0\.0\.1:\d+\/ answered 503/);
    assert.equal((await fetchText(`${url}/api/health`)).status, 503);
    webHealthy = true;
    await cli.waitForLine(/INFO +web: unhealthy -> healthy/);

    const { result } = await stopWith(cli, 'SIGTERM');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /stopping \(SIGTERM\)\n.*stopped\n$/);
    assert.equal(result.stderr, '');
  });

  it('writes one JSON object per line with --log-format json', async () => {
    const file = await config('json.json', {
      providers: [{ name: 'web', type: 'http', url: `http://127.0.0.1:${webPort}/` }],
    });
    const cli = serve(['--config', file, '--port', '0', '--log-format', 'json']);
    await started(cli);
    await cli.waitForLine(/"provider":"web"/);
    const { result } = await stopWith(cli, 'SIGINT');
    assert.equal(result.code, 0, result.stderr);
    const records = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      assert.equal(typeof record['time'], 'string');
      assert.match(String(record['level']), /^(info|warn|error)$/);
      assert.equal(typeof record['msg'], 'string');
    }
    const start = records.find((record) => String(record['msg']).startsWith('listening on'));
    assert.match(String(start?.['url']), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(start?.['providers'], 'web');
    const transition = records.find((record) => record['provider'] === 'web');
    assert.deepEqual([transition?.['from'], transition?.['to']], ['unknown', 'healthy']);
    assert.equal(records.at(-1)?.['msg'], 'stopped');
  });

  it('exits 0 within 2 s of SIGTERM during a sweep with a hung provider, ending event streams', async () => {
    const file = await config('hung.json', {
      pollInterval: '2m',
      checkTimeout: '1m',
      providers: [
        { name: 'web', type: 'http', url: `http://127.0.0.1:${webPort}/` },
        { name: 'wedged', type: 'http', url: `http://127.0.0.1:${hungPort}/` },
      ],
    });
    const before = hungSockets.size;
    const cli = serve(['--config', file, '--port', '0']);
    const url = await started(cli);
    // An event stream stays open until the server ends it.
    const events = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${url}/api/events`, resolve).once('error', reject);
    });
    assert.equal(events.statusCode, 200);
    const streamEnded = new Promise<void>((resolve) => {
      events
        .once('end', resolve)
        .once('close', resolve)
        .once('error', () => resolve());
      events.resume();
    });
    // The sweep is under way once the hung provider has a connection.
    await waitUntil(() => hungSockets.size > before, 'the sweep to connect to the hung provider');
    await cli.waitForLine(/web: unknown -> healthy/);

    const { result, ms } = await stopWith(cli, 'SIGTERM');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(ms < 2_000, `exited ${Math.round(ms)} ms after SIGTERM`);
    await streamEnded;
    assert.doesNotMatch(result.stdout, /wedged: unknown ->/, 'an aborted check is not recorded as a result');
  });

  it('keeps the token out of logs and HTTP responses, and requires it for refresh', async () => {
    const file = await config('token.json', {
      server: { token: TOKEN, minRefreshInterval: '100ms' },
      providers: [{ name: 'web', type: 'http', url: `http://127.0.0.1:${webPort}/` }],
    });
    for (const [env, token] of [
      [{}, TOKEN],
      [{ PROVIDER_HEALTH_TOKEN: ENV_TOKEN }, ENV_TOKEN],
    ] as const) {
      const cli = serve(['--config', file, '--port', '0', '--log-format', 'json'], env);
      const url = await started(cli);
      await cli.waitForLine(/"provider":"web"/);
      const bodies: string[] = [];
      const denied = await fetchText(`${url}/api/refresh`, { method: 'POST' });
      assert.equal(denied.status, 401);
      const wrong = await fetchText(`${url}/api/refresh`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token === TOKEN ? ENV_TOKEN : TOKEN}` },
      });
      assert.equal(wrong.status, 401, 'the env token replaces the file one, and the other way round');
      const allowed = await fetchText(`${url}/api/refresh`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.ok(allowed.status === 200 || allowed.status === 202, `refresh answered ${allowed.status}`);
      bodies.push(denied.body, wrong.body, allowed.body);
      for (const path of ['/', '/api/providers', '/api/health', '/api/history', '/metrics']) {
        bodies.push((await fetchText(`${url}${path}`)).body);
      }
      const snapshot = await firstEvent(`${url}/api/events`);
      assert.match(snapshot, /"name":"web"/, 'the stream starts with the statuses');
      bodies.push(snapshot);
      const { result } = await stopWith(cli, 'SIGTERM');
      assert.equal(result.code, 0, result.stderr);
      for (const text of [...bodies, result.stdout, result.stderr]) {
        assert.ok(!text.includes(TOKEN) && !text.includes(ENV_TOKEN), 'a token leaked');
      }
    }
  });

  it('lets --host and --port override the config', async () => {
    const taken = http.createServer();
    const takenPort = await listen(taken);
    try {
      const file = await config('override.json', {
        server: { host: '::1', port: takenPort },
        providers: [{ name: 'web', type: 'http', url: `http://127.0.0.1:${webPort}/` }],
      });
      const cli = serve(['--config', file, '--host', '127.0.0.1', '--port', '0']);
      const url = await started(cli);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(url, `http://127.0.0.1:${takenPort}`);
      assert.equal((await stopWith(cli, 'SIGTERM')).result.code, 0);

      // Without the flags, the config's port is used, and a port in use is a start failure (exit 1).
      const clash = serve(['--config', file, '--host', '127.0.0.1']);
      const result = await clash.exited;
      assert.equal(result.code, 1);
      assert.match(
        result.stdout,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${takenPort}: the address is already in use`),
      );
    } finally {
      await close(taken);
    }
  });

  it('listens on 127.0.0.1:7070 by default, as npm start does', async () => {
    const cli = serve([], { XDG_RUNTIME_DIR: join(dir, 'no-runtime') });
    // Another program may hold 7070 on a shared machine: either way the default address is the one tried.
    const outcome = await Promise.race([
      cli.waitForLine(/listening on (http:\/\/\S+)/).then(([, url]) => url ?? ''),
      cli.exited.then((result) => result),
    ]);
    if (typeof outcome === 'string') {
      assert.equal(outcome, 'http://127.0.0.1:7070');
      assert.equal((await stopWith(cli, 'SIGTERM')).result.code, 0);
    } else {
      assert.equal(outcome.code, 1);
      assert.match(outcome.stdout, /cannot listen on 127\.0\.0\.1:7070: the address is already in use/);
    }
  });

  it('starts with an empty dashboard when discovery finds nothing, and says where it looked', async () => {
    const cli = serve(['--port', '0'], { XDG_RUNTIME_DIR: join(dir, 'no-runtime') });
    const url = await started(cli);
    const out = cli.stdout();
    assert.match(
      out,
      /discovery: docker not found: .*looked at DOCKER_HOST \(unset\), unix:\/\/\/var\/run\/docker\.sock/,
    );
    assert.match(out, /discovery: kubernetes not found: .*KUBECONFIG \(unset\)/);
    assert.match(out, /discovery: nomad not found: NOMAD_ADDR is not set/);
    assert.match(out, /with no providers \(empty dashboard\)/);
    assert.equal((await fetchText(`${url}/api/providers`)).body, '[]');
    assert.equal((await fetchText(url)).status, 200);
    assert.equal((await stopWith(cli, 'SIGTERM')).result.code, 0);
  });

  it('serves what discovery finds: a real Podman API through DOCKER_HOST', async () => {
    const cli = serve(['--port', '0'], { DOCKER_HOST: podman.host });
    const url = await started(cli);
    assert.match(cli.stdout(), new RegExp(`discovery: docker found: ${podman.host} \\(from DOCKER_HOST\\)`));
    assert.match(cli.stdout(), /with 1 provider: docker/);
    await cli.waitForLine(/docker: unknown -> healthy/);
    const docker = JSON.parse((await fetchText(`${url}/api/providers/docker`)).body) as { state: string };
    assert.equal(docker.state, 'healthy');
    assert.equal((await stopWith(cli, 'SIGTERM')).result.code, 0);
  });

  it('shares polling through Redis when configured, never logging the Redis password', async () => {
    const file = await config('redis.json', {
      pollInterval: '1s',
      checkTimeout: '500ms',
      redis: { key: `cli-test-${process.pid}` },
      providers: [{ name: 'web', type: 'http', url: `http://127.0.0.1:${webPort}/` }],
    });
    const cli = serve(['--config', file, '--port', '0'], { PROVIDER_HEALTH_REDIS_URL: redis.url });
    const url = await started(cli);
    assert.match(cli.stdout(), new RegExp(`shared through redis://\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}`));
    await cli.waitForLine(/web: unknown -> healthy/);
    const web = JSON.parse((await fetchText(`${url}/api/providers/web`)).body) as { state: string };
    assert.equal(web.state, 'healthy');
    const { result } = await stopWith(cli, 'SIGTERM');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes(REDIS_PASSWORD) && !result.stderr.includes(REDIS_PASSWORD));
  });
});
