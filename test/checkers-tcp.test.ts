import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { tcpChecker } from '../src/checkers/tcp.js';
import { close, hangingPort, listen, refusedPort } from './support/listen.js';

describe('tcpChecker', () => {
  const server = net.createServer();
  let port = 0;
  before(async () => {
    port = await listen(server);
  });
  after(() => close(server));

  it('is healthy when the port accepts a connection, and closes it', async () => {
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const checker = tcpChecker({ host: '127.0.0.1', port });
    const report = await checker.healthCheck(new AbortController().signal);
    assert.equal(report.healthy, true);
    assert.equal(report.message, `connected to 127.0.0.1:${port}`);
    assert.equal(typeof report.latency, 'number');
    const socket = await accepted;
    if (!socket.closed) await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(checker.target, `127.0.0.1:${port}`);
  });

  it('is unhealthy with "connection refused" when nothing listens', async () => {
    const closedPort = await refusedPort();
    const report = await tcpChecker({ host: '127.0.0.1', port: closedPort }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(report.healthy, false);
    assert.equal(report.message, `127.0.0.1:${closedPort}: connection refused`);
  });

  it('reports a DNS failure for a name that cannot resolve', async () => {
    // A 64-character label is refused by the resolver library itself, so the lookup fails without a DNS query.
    const host = `${'x'.repeat(64)}.invalid`;
    const report = await tcpChecker({ host, port: 80 }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, false);
    assert.equal(report.message, `${host}:80: DNS lookup failed: no such host`);
  });

  it('is degraded when slower than slowThreshold', async () => {
    // A threshold far below any real connect time (0.000001 ms) makes the check "slow" deterministically.
    const report = await tcpChecker({ host: '127.0.0.1', port, slowThreshold: 1e-6 }).healthCheck(
      new AbortController().signal,
    );
    assert.equal(report.healthy, true);
    assert.equal(report.degraded, true);
    assert.match(report.message ?? '', /slow: answered in \d+ ms, above the 0\.000001 ms threshold/);
  });

  it('rejects at once with an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(tcpChecker({ host: '127.0.0.1', port }).healthCheck(controller.signal), {
      name: 'AbortError',
    });
  });

  it('rejects when the signal aborts before the connection opens, and leaves no listener', async () => {
    const controller = new AbortController();
    const pending = tcpChecker({ host: '127.0.0.1', port }).healthCheck(controller.signal);
    controller.abort(new DOMException('check timed out after 5 ms', 'TimeoutError'));
    await assert.rejects(pending, {
      name: 'TimeoutError',
      message: `timed out: 127.0.0.1:${port} did not answer in time`,
    });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('times out on a port whose connection attempts hang, destroying the attempt', async () => {
    const hanging = await hangingPort();
    try {
      // The pending connection is a live TCP handle until the checker destroys it.
      const handles = (): number =>
        process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
      const before = handles();
      const signal = AbortSignal.timeout(300);
      await assert.rejects(tcpChecker({ host: '127.0.0.1', port: hanging.port }).healthCheck(signal), {
        name: 'TimeoutError',
      });
      assert.equal(getEventListeners(signal, 'abort').length, 0);
      // A destroyed handle is released a few event-loop turns later; one left open would stay forever.
      const deadline = Date.now() + 30_000;
      while (handles() > before && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(handles(), before);
    } finally {
      await hanging.close();
    }
  });

  it('leaves no abort listener after a success', async () => {
    const controller = new AbortController();
    await tcpChecker({ host: '127.0.0.1', port }).healthCheck(controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('validates its options, naming the option', () => {
    assert.throws(() => tcpChecker(undefined as never), {
      name: 'TypeError',
      message: /tcpChecker: options must be an object/,
    });
    assert.throws(() => tcpChecker({ host: '', port: 1 }), {
      name: 'TypeError',
      message: /host must be a non-empty string/,
    });
    assert.throws(() => tcpChecker({ port: 1 } as never), { name: 'TypeError', message: /host is required/ });
    assert.throws(() => tcpChecker({ host: 'a', port: 1.5 }), {
      name: 'TypeError',
      message: /port must be an integer, got 1\.5/,
    });
    assert.throws(() => tcpChecker({ host: 'a', port: 70_000 }), {
      name: 'RangeError',
      message: /port must be from 1 to 65535, got 70000/,
    });
    assert.throws(() => tcpChecker({ host: 'a', port: 1, slowThreshold: -1 }), {
      name: 'RangeError',
      message: /slowThreshold .* got -1/,
    });
    assert.throws(() => tcpChecker({ host: 'a', port: 1, slowThreshold: Number.NaN }), {
      name: 'TypeError',
      message: /slowThreshold/,
    });
  });

  it('runs without a signal too', async () => {
    assert.equal((await tcpChecker({ host: '127.0.0.1', port }).healthCheck()).healthy, true);
  });

  it('describes an IPv6 target with brackets', () => {
    assert.equal(tcpChecker({ host: '::1', port: 80 }).target, '[::1]:80');
  });
});
