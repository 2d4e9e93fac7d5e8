import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_PATH, cliEnv, REPO_ROOT, runCli, startCli, waitUntil } from './support/cli.js';
import { close, listen, refusedPort, trackSockets } from './support/listen.js';
import { startPodmanService, type PodmanService } from './support/podman.js';

const HEADER_SECRET = 'hdr-7f3a9c1e55';
const NOMAD_TOKEN = 'nomad-acl-b81d0e62';
const URL_PASSWORD = 'pw-4c2e8a90d1';
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

/** `check` against real local servers, a real Podman API service and a Nomad-like agent. */
describe('provider-health check', () => {
  let dir = '';
  let podman: PodmanService;
  let httpPort = 0;
  let tcpPort = 0;
  let hungPort = 0;
  let refused = 0;
  let nomadPort = 0;
  const nomadTokens: (string | undefined)[] = [];
  const hungSockets = new Set<net.Socket>();

  const web = http.createServer((req, res) => {
    if (req.url === '/health') res.end('ok');
    else if (req.url === '/slow') setTimeout(() => res.end('ok'), 400);
    else if (req.url === '/slower') setTimeout(() => res.end('ok'), 2_500);
    else if (req.url === '/private') {
      res.writeHead(req.headers.authorization === `Bearer ${HEADER_SECRET}` ? 401 : 400).end();
    } else res.writeHead(404).end();
  });
  const tcp = net.createServer((socket) => socket.destroy());
  // Accepts and never answers: a hung provider behind an http checker.
  const hung = net.createServer((socket) => {
    hungSockets.add(socket);
    // Read (and drop) the request, so the client's hang-up is seen.
    socket.resume();
  });
  const hungTracker = trackSockets(hung);
  const nomad = http.createServer((req, res) => {
    const token = req.headers['x-nomad-token'];
    nomadTokens.push(typeof token === 'string' ? token : undefined);
    if (!req.url?.startsWith('/v1/agent/health')) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ client: { ok: true, message: 'ok' }, server: { ok: true, message: 'ok' } }));
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-check-'));
    [httpPort, tcpPort, hungPort, nomadPort, refused] = await Promise.all([
      listen(web),
      listen(tcp),
      listen(hung),
      listen(nomad),
      refusedPort(),
    ]);
    podman = await startPodmanService();
  });
  after(async () => {
    for (const socket of hungSockets) socket.destroy();
    await Promise.all([close(web), close(tcp), close(hung), close(nomad)]);
    await podman?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function config(name: string, value: unknown): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return file;
  }
  const env = () => cliEnv({ HOME: dir });

  it('exits 0 and prints plain aligned text when every provider is healthy', async () => {
    const file = await config('healthy.yaml', {
      providers: [
        { name: 'web', type: 'http', url: `http://127.0.0.1:${httpPort}/health` },
        { name: 'db', type: 'tcp', host: '127.0.0.1', port: tcpPort },
        { name: 'engine', type: 'docker', host: podman.host },
        { name: 'nomad', type: 'nomad', address: `http://127.0.0.1:${nomadPort}`, token: NOMAD_TOKEN },
      ],
    });
    const result = await runCli(['check', '--config', file], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress line nor warning when stdout is not a terminal');
    assert.doesNotMatch(result.stdout, ANSI);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +STATE +LATENCY +MESSAGE$/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/ +/).slice(0, 2)),
      [
        ['db', 'healthy'],
        ['engine', 'healthy'],
        ['nomad', 'healthy'],
        ['web', 'healthy'],
      ],
    );
    // Columns line up: every STATE starts where the header's does.
    const column = lines[0]!.indexOf('STATE');
    for (const line of lines.slice(1)) assert.equal(line.indexOf('healthy'), column, line);
    assert.match(result.stdout, /engine +healthy .*[Pp]odman/);
    assert.equal(nomadTokens.at(-1), NOMAD_TOKEN, 'the ACL token was sent');
    assert.ok(!result.stdout.includes(NOMAD_TOKEN));
  });

  it('exits 1 when a provider is unhealthy, saying why', async () => {
    const file = await config('down.yaml', {
      providers: [
        { name: 'web', type: 'http', url: `http://127.0.0.1:${httpPort}/health` },
        { name: 'gone', type: 'tcp', host: '127.0.0.1', port: refused },
      ],
    });
    const result = await runCli(['check', '--config', file], { env: env() });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^gone +unhealthy +\S+ \S+ +127\.0\.0\.1:\d+: connection refused$/m);
    assert.match(result.stdout, /^web +healthy /m);
  });

  it('exits 0 with a warning on stderr when a provider is degraded', async () => {
    const file = await config('degraded.yaml', {
      providers: [
        { name: 'slow', type: 'http', url: `http://127.0.0.1:${httpPort}/slow`, slowThreshold: '50ms' },
      ],
    });
    const result = await runCli(['check', '--config', file], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^slow +degraded /m);
    // The only stderr line: a 400 ms sweep shows no progress line when stdout is not a terminal.
    assert.match(
      result.stderr,
      /^warning: slow is degraded: GET http:\/\/127\.0\.0\.1:\d+\/slow answered 200 OK[^\n]*\n$/,
    );
  });

  it('prints the statuses as JSON with --json, in the wire form', async () => {
    const file = await config('json.yaml', {
      providers: [
        { name: 'web', type: 'http', url: `http://127.0.0.1:${httpPort}/health` },
        { name: 'gone', type: 'tcp', host: '127.0.0.1', port: refused },
      ],
    });
    const result = await runCli(['check', '--config', file, '--json'], { env: env() });
    assert.equal(result.code, 1, result.stderr);
    const statuses = JSON.parse(result.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      statuses.map((status) => [status['name'], status['healthy'], status['state']]),
      [
        ['gone', false, 'unhealthy'],
        ['web', true, 'healthy'],
      ],
    );
    for (const status of statuses) {
      assert.ok(Number.isInteger(status['latency']), 'latency is integer nanoseconds');
      assert.match(String(status['checked_at']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it('checks a real Podman API found through DOCKER_HOST, saying what discovery found', async () => {
    const result = await runCli(['check'], { env: cliEnv({ HOME: dir, DOCKER_HOST: podman.host }) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`^discovery: docker found: ${podman.host} \\(from DOCKER_HOST\\)$`, 'm'),
    );
    assert.match(result.stderr, /^discovery: kubernetes not found: /m);
    assert.match(result.stderr, /^discovery: nomad not found: NOMAD_ADDR is not set/m);
    assert.match(result.stdout, /^docker +healthy .*[Pp]odman/m);
  });

  it('exits 1 when there is nothing to check, with an empty JSON array for --json', async () => {
    const file = await config('empty.yaml', 'providers: []\n');
    const result = await runCli(['check', '--config', file, '--json'], { env: env() });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '[]\n');
    assert.match(result.stderr, /no providers configured: nothing to check/);
  });

  it('gives up on a hung provider at checkTimeout and exits 1', async () => {
    const file = await config('hung.yaml', {
      checkTimeout: '500ms',
      providers: [{ name: 'hung', type: 'http', url: `http://127.0.0.1:${hungPort}/` }],
    });
    const result = await runCli(['check', '--config', file], { env: env() });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^hung +unhealthy .*timed out after 500 ms/m);
    await hungTracker.closed();
  });

  it('exits 130 when interrupted with SIGINT during the sweep', async () => {
    const file = await config('interrupt.yaml', {
      checkTimeout: '20s',
      pollInterval: '1m',
      providers: [{ name: 'hung', type: 'http', url: `http://127.0.0.1:${hungPort}/` }],
    });
    const before = hungSockets.size;
    const cli = startCli(['check', '--config', file], { env: env() });
    try {
      // Wait until the check has connected, so the signal lands mid-sweep.
      await waitUntil(() => hungSockets.size > before, 'the check to connect to the hung server');
      cli.child.kill('SIGINT');
      const result = await cli.exited;
      assert.equal(result.code, 130);
      assert.match(result.stderr, /interrupted by SIGINT/);
    } finally {
      await cli.kill();
    }
  });

  it('never shows header values, ACL tokens or URL passwords', async () => {
    const file = await config('secrets.yaml', {
      providers: [
        {
          name: 'private',
          type: 'http',
          url: `http://admin:${URL_PASSWORD}@127.0.0.1:${httpPort}/private`,
          headers: { Authorization: `Bearer ${HEADER_SECRET}` },
        },
        { name: 'nomad', type: 'nomad', address: `http://127.0.0.1:${refused}`, token: NOMAD_TOKEN },
      ],
    });
    for (const args of [[], ['--json']]) {
      const result = await runCli(['check', '--config', file, ...args], { env: env() });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /401/);
      for (const secret of [HEADER_SECRET, NOMAD_TOKEN, URL_PASSWORD]) {
        assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `${secret} leaked`);
      }
    }
  });

  it('on a terminal, colours the states and shows progress while waiting on a slow provider', async () => {
    const file = await config('tty.yaml', {
      providers: [
        { name: 'quick', type: 'tcp', host: '127.0.0.1', port: tcpPort },
        { name: 'slower', type: 'http', url: `http://127.0.0.1:${httpPort}/slower` },
      ],
    });
    // `script` gives the CLI a pseudo-terminal as stdout and stderr.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_PATH)} check --config ${JSON.stringify(file)}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...env(), TERM: 'xterm', COLUMNS: '120' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /checking 2 providers: 1 done, waiting on slower \(/);
    assert.ok(output.includes('\u001b[32mhealthy'), 'healthy in green');
    assert.match(output, /quick +\S*healthy/);
  });
});
