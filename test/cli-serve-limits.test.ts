import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, startCli, waitUntil, type CliProcess } from './support/cli.js';
import { close, listen } from './support/listen.js';

/** A client that sends one header byte every `interval` ms and never finishes its request. */
interface SlowClient {
  readonly socket: net.Socket;
  /** Whether the server closed it (or it failed). */
  closed: boolean;
  /** What the server answered before closing, if anything. */
  answer: string;
}

function slowClient(port: number, interval: number): Promise<SlowClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const client: SlowClient = { socket, closed: false, answer: '' };
    let timer: NodeJS.Timeout | undefined;
    const header = 'GET /api/providers HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
    let sent = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (client.answer += chunk));
    socket.once('close', () => {
      client.closed = true;
      clearInterval(timer);
    });
    socket.once('error', () => undefined);
    socket.once('connect', () => {
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(header[sent] ?? 'a');
        sent++;
      }, interval);
      resolve(client);
    });
    socket.once('error', reject);
  });
}

/** The server bounds of `serve`, through the built CLI and real sockets. */
describe('serve connection bounds', () => {
  let dir = '';
  let targetPort = 0;
  const clients: SlowClient[] = [];
  const running = new Set<CliProcess>();
  // A TCP provider that is always up.
  const target = net.createServer((socket) => socket.destroy());

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-limits-'));
    targetPort = await listen(target);
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await Promise.all([...running].map((cli) => cli.kill()));
    await close(target);
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(name: string, config: unknown): Promise<{ cli: CliProcess; port: number }> {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify(config));
    const cli = startCli(['serve', '--config', file, '--port', '0'], { env: cliEnv({ HOME: dir }) });
    running.add(cli);
    const [, url] = await cli.waitForLine(/listening on (http:\/\/\S+)/);
    return { cli, port: Number(new URL(url!).port) };
  }

  async function openSlow(port: number, count: number, interval: number): Promise<SlowClient[]> {
    const opened: SlowClient[] = [];
    for (let index = 0; index < count; index++) opened.push(await slowClient(port, interval));
    clients.push(...opened);
    return opened;
  }

  it(
    'closes connections past maxConnections at once, and slow headers after headersTimeout, keeping event streams',
    { timeout: 30_000 },
    async () => {
      const { cli, port } = await serve('limits.json', {
        server: { maxConnections: 20, headersTimeout: '1s', requestTimeout: '1s' },
        providers: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port: targetPort }],
      });
      // An event stream opened first: a response that lasts is not cut by requestTimeout.
      const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`http://127.0.0.1:${port}/api/events`, resolve).once('error', reject);
      });
      assert.equal(stream.statusCode, 200);
      let streamClosed = false;
      stream.once('close', () => (streamClosed = true)).resume();

      const slow = await openSlow(port, 40, 100);
      // 19 fit beside the stream; the server closes the other 21 at once.
      await waitUntil(
        () => slow.filter((client) => client.closed).length >= 21,
        '21 connections closed',
        2_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(
        slow.filter((client) => client.closed).length,
        21,
        'exactly the connections past the limit',
      );
      await cli.waitForLine(
        /WARN +closed \d+ new connections?: 20 open connections \(server\.maxConnections\)/,
        5_000,
      );

      // Each slow client has 1 s to send its headers: then 408 and close, well before Node's default of 60 s.
      await waitUntil(() => slow.every((client) => client.closed), 'every slow client closed', 5_000);
      assert.ok(
        slow.some((client) => client.answer.startsWith('HTTP/1.1 408')),
        'a slow client got 408',
      );
      assert.equal(streamClosed, false, 'the event stream outlives requestTimeout');
      stream.destroy();
      const providers = await fetch(`http://127.0.0.1:${port}/api/providers`, {
        signal: AbortSignal.timeout(5_000),
      });
      assert.equal(providers.status, 200);
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    },
  );

  it(
    'keeps file descriptors for the checks while slow clients hold connections (no false outage)',
    { timeout: 30_000 },
    async () => {
      const { cli, port } = await serve('fds.json', {
        pollInterval: '200ms',
        checkTimeout: '150ms',
        server: { maxConnections: 20 },
        providers: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port: targetPort }],
      });
      await cli.waitForLine(/db: unknown -> healthy/);
      // Once started (loading modules needs many more), leave it 40 descriptors to spare:
      // 20 connections and the checks fit, 60 slow clients would not.
      const pid = cli.child.pid!;
      const limit = readdirSync(`/proc/${pid}/fd`).length + 40;
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
      const slow = await openSlow(port, 60, 500);
      // Fifteen sweeps while the slow clients hold what they can.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.doesNotMatch(
        cli.stdout(),
        /db: healthy -> |EMFILE|file descriptors/,
        'a check failed for want of descriptors',
      );
      assert.ok(slow.filter((client) => !client.closed).length <= 20, 'at most maxConnections held');
      for (const client of slow) client.socket.destroy();
      await waitUntil(() => slow.every((client) => client.closed), 'the slow clients gone', 5_000);
      const db = await fetch(`http://127.0.0.1:${port}/api/providers/db`, {
        signal: AbortSignal.timeout(5_000),
      });
      assert.equal(((await db.json()) as { state: string }).state, 'healthy');
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    },
  );

  it(
    'says when the service itself runs out of file descriptors, once, and when checks get through again',
    { timeout: 30_000 },
    async () => {
      const web = http.createServer((request, response) => response.end('ok'));
      const webPort = await listen(web);
      after(() => close(web));
      const { cli } = await serve('emfile.json', {
        pollInterval: '200ms',
        checkTimeout: '150ms',
        providers: [{ name: 'db', type: 'http', url: `http://127.0.0.1:${webPort}/` }],
      });
      await cli.waitForLine(/db: unknown -> healthy/);
      const pid = String(cli.child.pid!);
      // New descriptors take the lowest free number below the limit, and Node holds its lowest
      // ten or so for good: below 10 there is not one to spare, and every check fails with EMFILE.
      const lowest = readdirSync(`/proc/${pid}/fd`)
        .map(Number)
        .sort((a, b) => a - b);
      assert.deepEqual(lowest.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'descriptors 0 to 9 in use');
      // Only the soft limit moves: raising a lowered hard limit again needs a privilege CI may not have.
      execFileSync('prlimit', ['--pid', pid, '--nofile=10:']);
      await cli.waitForLine(
        /ERROR +this service ran out of file descriptors \(EMFILE\): checks fail here, not at the providers; db: /,
        10_000,
      );
      // A second at five sweeps a second: still one line, and the provider is not called unhealthy.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(cli.stdout().match(/ran out of file descriptors/g)?.length, 1);
      assert.doesNotMatch(cli.stdout(), /db: healthy -> unhealthy/);
      execFileSync('prlimit', ['--pid', pid, '--nofile=1024:']);
      await cli.waitForLine(/INFO +checks get through again: file descriptors are available/, 10_000);
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    },
  );
});
