import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { grpcChecker } from '../src/checkers/grpc.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { startGrpcHealthServer, type GrpcHealthServer } from './support/grpc-health-server.js';
import { close, listen, refusedPort } from './support/listen.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const never = (): AbortSignal => new AbortController().signal;

/** Client-side TCP and TLS handles of this process. */
const socketHandles = (): number =>
  process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'TLSWrap').length;

/** Waits (bounded) until the socket handles are back to `count` or fewer: a closed channel lets go within a few turns. */
async function handlesBackTo(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (socketHandles() > count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(socketHandles() <= count, `a socket was left open (${socketHandles()} > ${count})`);
}

describe('grpcChecker over plaintext', () => {
  let server: GrpcHealthServer;
  before(async () => {
    server = await startGrpcHealthServer();
  });
  after(() => server.close());

  it('is healthy when the server is SERVING, and unhealthy naming the status it flips to', async () => {
    const checker = grpcChecker({ address: server.address, plaintext: true });
    assert.equal(checker.target, server.address);
    const serving = await checker.healthCheck(never());
    assert.deepEqual(
      { healthy: serving.healthy, message: serving.message, details: serving.details },
      { healthy: true, message: `${server.address} is SERVING`, details: { status: 'SERVING' } },
    );
    assert.ok((serving.latency ?? -1) >= 0);
    for (const status of ['NOT_SERVING', 'UNKNOWN'] as const) {
      server.setStatus('', status);
      const report = await checker.healthCheck(never());
      assert.deepEqual(
        { healthy: report.healthy, message: report.message, details: report.details },
        { healthy: false, message: `${server.address} is ${status}`, details: { status } },
      );
    }
    server.setStatus('', 'SERVICE_UNKNOWN');
    assert.equal(
      (await checker.healthCheck(never())).message,
      `${server.address} is SERVICE_UNKNOWN (the server does not know the service)`,
    );
    server.setStatus('', 'SERVING');
    assert.equal((await checker.healthCheck(never())).healthy, true);
  });

  it('asks for the named service, and says when the server does not know it', async () => {
    server.setStatus('orders.v1.Orders', 'NOT_SERVING');
    server.requests.length = 0;
    const orders = await grpcChecker({
      address: server.address,
      service: 'orders.v1.Orders',
      plaintext: true,
    }).healthCheck(never());
    assert.equal(orders.message, `${server.address} service "orders.v1.Orders" is NOT_SERVING`);
    // A name longer than 127 bytes takes a two-byte length: the server must still read it whole.
    const long = `pkg.${'x'.repeat(200)}`;
    const unknown = await grpcChecker({
      address: server.address,
      service: long,
      plaintext: true,
    }).healthCheck(never());
    assert.deepEqual(server.requests, ['orders.v1.Orders', long]);
    assert.equal(unknown.healthy, false);
    assert.equal(
      unknown.message,
      `${server.address} service "${long}": NOT_FOUND: the server does not know the service "${long}"`,
    );
    assert.deepEqual(unknown.details, { code: 'NOT_FOUND' });
  });

  it('names gRPC errors: UNAVAILABLE, UNIMPLEMENTED, UNAUTHENTICATED, DEADLINE_EXCEEDED and others', async () => {
    const port = await refusedPort();
    const refused = await grpcChecker({ address: `127.0.0.1:${port}`, plaintext: true }).healthCheck(never());
    assert.equal(refused.message, `127.0.0.1:${port}: UNAVAILABLE: connection refused`);
    assert.deepEqual(refused.details, { code: 'UNAVAILABLE' });

    const bare = await startGrpcHealthServer({ withoutHealthService: true });
    try {
      const report = await grpcChecker({ address: bare.address, plaintext: true }).healthCheck(never());
      assert.equal(
        report.message,
        `${bare.address}: UNIMPLEMENTED: the server does not implement the health service`,
      );
    } finally {
      await bare.close();
    }

    const expected: [grpc.status, string][] = [
      [
        grpc.status.UNAUTHENTICATED,
        'UNAUTHENTICATED: the server requires credentials this check does not send',
      ],
      [grpc.status.PERMISSION_DENIED, 'PERMISSION_DENIED: the server refused the health check'],
      [grpc.status.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED: the server did not answer in time'],
      [grpc.status.INTERNAL, 'INTERNAL: database\tdown'],
    ];
    const checker = grpcChecker({ address: server.address, plaintext: true });
    try {
      for (const [code, message] of expected) {
        server.setMode({ error: code, details: 'database\tdown\nsecond line' });
        assert.equal((await checker.healthCheck(never())).message, `${server.address}: ${message}`);
      }
      // A server's details are quoted on one bounded line.
      server.setMode({ error: grpc.status.UNAVAILABLE, details: 'y'.repeat(5_000) });
      const long = await checker.healthCheck(never());
      assert.equal(long.message, `${server.address}: UNAVAILABLE: ${'y'.repeat(199)}…`);
    } finally {
      server.setMode('normal');
    }
  });

  it('reports a status the protocol does not define, and a malformed or oversized answer', async () => {
    const checker = grpcChecker({ address: server.address, plaintext: true });
    const cases: [Buffer, string, boolean][] = [
      [Buffer.from([0x08, 0x07]), 'answered status 7, which the health protocol does not define', false],
      // Unknown fields are skipped as protobuf requires; the status still counts.
      [Buffer.from([0x12, 0x02, 0x61, 0x62, 0x08, 0x01, 0x1d, 1, 2, 3, 4]), 'is SERVING', true],
      [Buffer.alloc(0), 'is UNKNOWN', false],
      [
        Buffer.from([0x08]),
        ': the server answered a malformed HealthCheckResponse (truncated varint)',
        false,
      ],
      [
        Buffer.alloc(5_000, 0x08),
        ': RESOURCE_EXHAUSTED: the server is out of resources or the answer is too large',
        false,
      ],
    ];
    try {
      for (const [raw, message, healthy] of cases) {
        server.setMode({ raw });
        const report = await checker.healthCheck(never());
        assert.equal(report.message, `${server.address}${message.startsWith(':') ? '' : ' '}${message}`);
        assert.equal(report.healthy, healthy);
      }
    } finally {
      server.setMode('normal');
    }
  });

  it('is degraded when slower than slowThreshold', async () => {
    const report = await grpcChecker({
      address: server.address,
      plaintext: true,
      slowThreshold: 1e-6,
    }).healthCheck(never());
    assert.equal(report.degraded, true);
    assert.match(
      report.message ?? '',
      /is SERVING \(slow: answered in \d+ ms, above the 0\.000001 ms threshold\)$/,
    );
  });

  it('cancels the call when the signal aborts (the check timeout holds) and leaves nothing open', async () => {
    const baseline = socketHandles();
    server.setMode('hang');
    try {
      const signal = AbortSignal.timeout(300);
      const started = Date.now();
      await assert.rejects(grpcChecker({ address: server.address, plaintext: true }).healthCheck(signal), {
        name: 'TimeoutError',
        message: `timed out: ${server.address} did not answer in time`,
      });
      assert.ok(Date.now() - started < 5_000, 'the timeout held');
      assert.equal(getEventListeners(signal, 'abort').length, 0);
      const deadline = Date.now() + 10_000;
      while (server.openCalls > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.openCalls, 0, 'the server saw the call cancelled');
      await handlesBackTo(baseline);
    } finally {
      server.setMode('normal');
    }
  });

  it('sends the timeout option as the call deadline, which the server learns; none by default', async () => {
    server.deadlines.length = 0;
    await grpcChecker({ address: server.address, plaintext: true }).healthCheck(never());
    const sent = Date.now();
    const report = await grpcChecker({
      address: server.address,
      plaintext: true,
      timeout: 5_000,
    }).healthCheck(never());
    const answered = Date.now();
    assert.equal(report.healthy, true, report.message);
    assert.equal(server.deadlines.length, 2);
    assert.equal(server.deadlines[0], Infinity, 'no deadline without the option');
    // The server computes its deadline from the grpc-timeout header it received: now + time left.
    const learnt = new Date(server.deadlines[1] as Date | number).getTime();
    assert.ok(
      learnt > sent + 4_000 && learnt <= answered + 5_000,
      `deadline ${learnt - sent} ms after the call`,
    );
  });

  it('ends a call past its deadline with DEADLINE_EXCEEDED, leaving nothing open; the signal still cancels', async () => {
    const baseline = socketHandles();
    server.setMode('hang');
    try {
      const started = Date.now();
      const report = await grpcChecker({
        address: server.address,
        plaintext: true,
        timeout: 300,
      }).healthCheck(AbortSignal.timeout(20_000));
      assert.ok(Date.now() - started < 5_000, 'the deadline held');
      assert.equal(report.healthy, false);
      assert.equal(
        report.message,
        `${server.address}: DEADLINE_EXCEEDED: the server did not answer within the 300 ms deadline`,
      );
      assert.deepEqual(report.details, { code: 'DEADLINE_EXCEEDED' });
      // A deadline longer than the check's signal: the signal cancels the call, as without one.
      await assert.rejects(
        grpcChecker({ address: server.address, plaintext: true, timeout: 60_000 }).healthCheck(
          AbortSignal.timeout(300),
        ),
        { name: 'TimeoutError', message: `timed out: ${server.address} did not answer in time` },
      );
      const deadline = Date.now() + 10_000;
      while (server.openCalls > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.openCalls, 0, 'the server saw both calls end');
      await handlesBackTo(baseline);
    } finally {
      server.setMode('normal');
    }
  });

  it('times out on a port that accepts connections but never speaks, and closes them', async () => {
    const accepted: net.Socket[] = [];
    const all: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      all.push(socket);
      socket.on('error', () => {}); // The checker resets the connection.
      accepted.push(socket);
    });
    const port = await listen(silent);
    try {
      // Plaintext hangs in the HTTP/2 handshake, TLS in the TLS handshake.
      for (const mode of [{ plaintext: true }, { tls: { skipVerify: true } }]) {
        accepted.length = 0;
        await assert.rejects(
          grpcChecker({ address: `127.0.0.1:${port}`, ...mode }).healthCheck(AbortSignal.timeout(500)),
          { name: 'TimeoutError' },
        );
        // The server sees the connection closed by the checker (grpc-js alone would keep it, waiting);
        // on a loaded machine it may even be accepted after the abort, and must be closed all the same.
        const closed = (): boolean => accepted.length > 0 && accepted.every((socket) => socket.closed);
        const deadline = Date.now() + 10_000;
        while (!closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.ok(closed(), `the connection was closed (${JSON.stringify(mode)})`);
      }
    } finally {
      for (const socket of all) socket.destroy();
      await close(silent);
    }
  });

  it('leaves no channel open after a cache has run it and is disposed', async () => {
    const baseline = socketHandles();
    const registry = new ProviderRegistry();
    registry.register('grpc', grpcChecker({ address: server.address, plaintext: true }));
    const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 5_000 });
    try {
      for (let i = 0; i < 3; i += 1) await cache.checkNow();
      assert.equal(cache.get('grpc')?.healthy, true, cache.get('grpc')?.message);
    } finally {
      cache.dispose();
    }
    await handlesBackTo(baseline);
  });

  it('rejects at once with an aborted signal, and runs without a signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const checker = grpcChecker({ address: server.address, plaintext: true });
    await assert.rejects(checker.healthCheck(controller.signal), { name: 'AbortError' });
    assert.equal((await checker.healthCheck()).healthy, true);
  });

  it('says so when a plaintext check meets a TLS port, and a TLS check a plaintext one', async () => {
    const toPlain = await grpcChecker({ address: server.address, tls: { skipVerify: true } }).healthCheck(
      never(),
    );
    assert.equal(
      toPlain.message,
      `${server.address}: UNAVAILABLE: TLS failure: the server does not speak TLS on this port`,
    );
    // TLS is the default: a plaintext server needs `plaintext: true`.
    const byDefault = await grpcChecker({ address: server.address }).healthCheck(never());
    assert.equal(byDefault.message, toPlain.message);
  });

  it('says how to install @grpc/grpc-js when it is missing', { timeout: 60_000 }, async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = `
      const { grpcChecker } = await import('./src/checkers/grpc.ts');
      const report = await grpcChecker({ address: ${JSON.stringify(server.address)}, plaintext: true }).healthCheck(AbortSignal.timeout(30000));
      process.stdout.write(JSON.stringify(report));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/fixtures/without-packages.mjs',
        '--input-type=module',
        '-e',
        script,
      ],
      { cwd: root, timeout: 60_000, env: { ...process.env, WITHOUT_PACKAGES: '@grpc/grpc-js' } },
    );
    const report = JSON.parse(stdout) as { healthy: boolean; message: string };
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `${server.address}: grpcChecker needs the optional peer dependency @grpc/grpc-js: npm install @grpc/grpc-js@1`,
    );
  });
});

describe('grpcChecker options', () => {
  it('validates its options, naming the option', () => {
    const bad: [unknown, RegExp, string][] = [
      [undefined, /^grpcChecker: options must be an object, got undefined$/, 'TypeError'],
      [{}, /^grpcChecker: address must be given \(host:port\), got undefined$/, 'TypeError'],
      [{ address: '' }, /^grpcChecker: address must be a non-empty string, got ""$/, 'TypeError'],
      [
        { address: 'localhost' },
        /address must be host:port, \[ipv6\]:port or unix:\/path, got "localhost"/,
        'TypeError',
      ],
      [{ address: 'localhost:70000' }, /address must be host:port/, 'TypeError'],
      [{ address: '[::1:50051' }, /address must be host:port/, 'TypeError'],
      [{ address: 'a:1', service: 7 }, /^grpcChecker: service must be a string, got 7$/, 'TypeError'],
      [
        { address: 'a:1', service: 'x'.repeat(1025) },
        /service must be a service name of at most 1024 bytes/,
        'TypeError',
      ],
      [
        { address: 'a:1', plaintext: 'yes' },
        /^grpcChecker: plaintext must be a boolean, got "yes"$/,
        'TypeError',
      ],
      [
        { address: 'a:1', plaintext: true, tls: {} },
        /plaintext must be false \(or left out\) when tls is given/,
        'TypeError',
      ],
      [
        { address: 'a:1', tls: { ca: '/etc/ca.pem' } },
        /tls\.ca must be PEM text starting with "-----BEGIN"/,
        'TypeError',
      ],
      [
        { address: 'a:1', slowThreshold: 0 },
        /slowThreshold must be a finite number of milliseconds > 0, got 0/,
        'RangeError',
      ],
      [
        { address: 'a:1', certExpiryWarning: -1 },
        /^grpcChecker: certExpiryWarning must be at least 0, got -1$/,
        'RangeError',
      ],
      [{ address: 'a:1', clock: {} }, /clock must be an object with a now\(\) method/, 'TypeError'],
      [{ address: 'a:1', timeout: 0 }, /^grpcChecker: timeout must be greater than 0, got 0$/, 'RangeError'],
      [{ address: 'a:1', timeout: '5s' }, /^grpcChecker: timeout must be a number, got "5s"$/, 'TypeError'],
      [
        { address: 'a:1', timeout: 2 ** 31 },
        /^grpcChecker: timeout must be at most 2147483647 ms/,
        'RangeError',
      ],
    ];
    for (const [options, message, name] of bad) {
      assert.throws(() => grpcChecker(options as never), { name, message }, String(message));
    }
    assert.equal(grpcChecker({ address: '[::1]:50051' }).target, '[::1]:50051');
    assert.equal(
      grpcChecker({ address: 'unix:/run/app.sock', plaintext: true }).target,
      'unix:/run/app.sock',
    );
  });
});
