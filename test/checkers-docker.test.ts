import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getEventListeners, once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerChecker, dockerSocketCandidates, findDockerHost } from '../src/checkers/docker.js';
import { HealthCache } from '../src/health-cache.js';
import { ProviderRegistry } from '../src/registry.js';
import { close, leakedSecrets, listen } from './support/listen.js';
import { startPodmanService, type PodmanService } from './support/podman.js';
import { createTestPki, type TestPki } from './support/tls.js';

const never = (): AbortSignal => new AbortController().signal;
const SYSTEM_SOCKETS = ['/var/run/docker.sock', '/run/podman/podman.sock'];

describe('dockerChecker against a real Podman API service', () => {
  let runtimeDir = '';
  let podman: PodmanService;
  before(async () => {
    // The socket sits where rootless Podman puts it, so discovery through XDG_RUNTIME_DIR finds it.
    runtimeDir = await mkdtemp(join(tmpdir(), 'provider-health-xdg-'));
    await mkdir(join(runtimeDir, 'podman'));
    podman = await startPodmanService({ socketPath: join(runtimeDir, 'podman', 'podman.sock') });
  });
  after(async () => {
    await podman?.cleanup();
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it('is healthy and reports the API version and that it is Podman', async () => {
    const checker = dockerChecker({ host: podman.host });
    const report = await checker.healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.details?.engine, 'podman');
    assert.match(String(report.details?.apiVersion), /^\d+\.\d+$/);
    assert.match(String(report.details?.version), /^\d+\.\d+/);
    assert.equal(
      report.message,
      `Podman ${String(report.details?.version)} at ${podman.host} answered /_ping (API ${String(report.details?.apiVersion)})`,
    );
    assert.equal(checker.target, podman.host);
  });

  it('is degraded when slower than slowThreshold', async () => {
    const report = await dockerChecker({ host: podman.host, slowThreshold: 1e-6 }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(report.healthy, true);
    assert.equal(report.degraded, true);
    assert.match(
      report.message ?? '',
      /answered \/_ping \(API [\d.]+\) \(slow: answered in \d+ ms, above the 0\.000001 ms threshold\)$/,
    );
  });

  it('reads DOCKER_HOST from the env option', async () => {
    const checker = dockerChecker({ env: { DOCKER_HOST: podman.host } });
    assert.equal(checker.target, podman.host);
    assert.equal((await checker.healthCheck(AbortSignal.timeout(30_000))).healthy, true);
  });

  it('finds the Podman socket under XDG_RUNTIME_DIR when nothing else exists', async () => {
    const env = { XDG_RUNTIME_DIR: runtimeDir };
    assert.deepEqual(dockerSocketCandidates(env), [
      'unix:///var/run/docker.sock',
      `unix://${runtimeDir}/docker.sock`,
      'unix:///run/podman/podman.sock',
      `unix://${runtimeDir}/podman/podman.sock`,
    ]);
    // A machine with a system daemon would find that one first, as it should.
    const system = SYSTEM_SOCKETS.find((path) => existsSync(path));
    const expected = system === undefined ? podman.host : `unix://${system}`;
    assert.equal(await findDockerHost(env), expected);
    const checker = dockerChecker({ env });
    assert.equal(checker.target, expected);
    assert.equal((await checker.healthCheck(AbortSignal.timeout(30_000))).healthy, true);
    assert.equal(
      await findDockerHost({ DOCKER_HOST: 'tcp://127.0.0.1:2375', XDG_RUNTIME_DIR: runtimeDir }),
      'tcp://127.0.0.1:2375',
    );
    assert.deepEqual(dockerSocketCandidates({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }), [
      'tcp://127.0.0.1:2375',
      'unix:///var/run/docker.sock',
      'unix:///run/podman/podman.sock',
    ]);
  });

  it('times out while the service is frozen (SIGSTOP) and recovers after SIGCONT', async () => {
    const registry = new ProviderRegistry();
    registry.register('podman', dockerChecker({ host: podman.host }));
    const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 5_000 });
    // On a loaded machine even a live Podman may miss one 5 s deadline; healthy must come within a minute.
    const checkUntilHealthy = async (): Promise<void> => {
      const deadline = Date.now() + 60_000;
      do await cache.checkNow();
      while (cache.get('podman')?.healthy !== true && Date.now() < deadline);
      assert.equal(cache.get('podman')?.healthy, true, cache.get('podman')?.message);
    };
    try {
      await checkUntilHealthy();

      podman.pause();
      try {
        await cache.checkNow();
        const frozen = cache.get('podman');
        assert.equal(frozen?.healthy, false);
        assert.equal(frozen?.message, 'timed out after 5000 ms');
        // The checker itself, with its own deadline, says who did not answer and lets go of the signal.
        const signal = AbortSignal.timeout(300);
        await assert.rejects(dockerChecker({ host: podman.host }).healthCheck(signal), {
          name: 'TimeoutError',
          message: `timed out: ${podman.host} did not answer in time`,
        });
        assert.equal(getEventListeners(signal, 'abort').length, 0);
      } finally {
        podman.resume();
      }

      await checkUntilHealthy();
      assert.equal(cache.get('podman')?.details?.engine, 'podman');
    } finally {
      cache.dispose();
    }
  });

  it('is unhealthy with "no such socket" once the service stops, and healthy after a restart', async () => {
    const checker = dockerChecker({ host: podman.host });
    await podman.stop();
    try {
      const report = await checker.healthCheck(AbortSignal.timeout(30_000));
      assert.equal(report.healthy, false);
      assert.equal(report.message, `${podman.host}: no such socket`);
    } finally {
      await podman.restart();
    }
    assert.equal((await checker.healthCheck(AbortSignal.timeout(30_000))).healthy, true);
  });
});

describe('dockerChecker failure messages', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-docker-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('says "connection refused" for a socket left behind by a crashed daemon', async () => {
    const path = join(dir, 'stale.sock');
    // A process that is killed cannot unlink its socket, exactly like a crashed daemon.
    const child = spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(child.stdout, 'data');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const report = await dockerChecker({ host: `unix://${path}` }).healthCheck(never());
    assert.equal(report.message, `unix://${path}: connection refused`);
  });

  it('reports an unexpected status, an auth failure and a body that is not OK', async () => {
    const path = join(dir, 'fake.sock');
    let answer: [number, string] = [500, 'boom'];
    const server = http.createServer((_req, res) =>
      res.writeHead(answer[0], { 'Api-Version': '1.45' }).end(answer[1]),
    );
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const checker = dockerChecker({ host: `unix://${path}` });
      assert.equal(
        (await checker.healthCheck(never())).message,
        `unix://${path}: /_ping answered 500 Internal Server Error`,
      );
      answer = [403, 'no'];
      assert.equal(
        (await checker.healthCheck(never())).message,
        `unix://${path}: /_ping answered 403: authorisation failed`,
      );
      answer = [200, '<html>'];
      assert.equal(
        (await checker.healthCheck(never())).message,
        `unix://${path}: /_ping answered 200 but not "OK": not a Docker Engine API?`,
      );
      answer = [200, 'OK'];
      const docker = await checker.healthCheck(never());
      assert.equal(docker.details?.engine, 'docker');
      assert.equal(docker.message, `Docker at unix://${path} answered /_ping (API 1.45)`);
    } finally {
      await close(server);
    }
  });

  it('looks for a socket again at each check until one appears', async () => {
    const runtimeDir = join(dir, 'xdg');
    await mkdir(runtimeDir);
    const checker = dockerChecker({ env: { XDG_RUNTIME_DIR: runtimeDir } });
    // A machine with a system daemon would find that one, as it should.
    const system = SYSTEM_SOCKETS.find((path) => existsSync(path));
    const before = `unix://${system ?? '/var/run/docker.sock'}`;
    assert.equal(checker.target, before);
    if (system === undefined) {
      assert.equal((await checker.healthCheck(never())).message, `${before}: no such socket`);
    }
    // Rootless Docker starts later: its socket appears under XDG_RUNTIME_DIR.
    const path = join(runtimeDir, 'docker.sock');
    const server = http.createServer((_req, res) =>
      res
        .writeHead(200, { 'Api-Version': '1.47', Server: 'Docker/27.3.1 (linux)', Ostype: 'linux' })
        .end('OK'),
    );
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const report = await checker.healthCheck(never());
      const expected = system === undefined ? `unix://${path}` : before;
      assert.equal(checker.target, expected);
      if (system === undefined) {
        assert.equal(report.message, `Docker 27.3.1 at unix://${path} answered /_ping (API 1.47)`);
        assert.deepEqual(report.details, {
          engine: 'docker',
          apiVersion: '1.47',
          version: '27.3.1',
          osType: 'linux',
        });
      }
    } finally {
      await close(server);
    }
  });

  it('validates its options and DOCKER_HOST, naming them', () => {
    assert.throws(() => dockerChecker({ host: 'ssh://me@host' }), {
      name: 'TypeError',
      message:
        'dockerChecker: host must start with unix:// or tcp:// (ssh:// and npipe:// are not supported), got ssh://',
    });
    assert.throws(
      () => dockerChecker({ env: { DOCKER_HOST: 'unix://relative.sock' } }),
      /DOCKER_HOST must be unix:\/\/\/absolute\/path/,
    );
    assert.throws(() => dockerChecker({ host: '' }), /host must be a non-empty string/);
    assert.throws(() => dockerChecker({ slowThreshold: -5 }), {
      name: 'RangeError',
      message: /slowThreshold .* got -5/,
    });
    assert.throws(() => dockerChecker({ env: 'x' as never }), /env must be an object/);
    assert.throws(
      () => dockerChecker({ tls: { verify: true, skipVerify: true } }),
      /tls\.verify and tls\.skipVerify contradict/,
    );
    assert.throws(
      () => dockerChecker({ tls: { verify: 'yes' as never } }),
      /tls\.verify must be a boolean, got "yes"/,
    );
    assert.equal(dockerChecker({ host: 'tcp://127.0.0.1' }).target, 'tcp://127.0.0.1:2375');
    assert.equal(
      dockerChecker({ env: { DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1' } }).target,
      'tcp://127.0.0.1:2376 (TLS)',
    );
  });
});

describe('dockerChecker over tcp:// with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', () => {
  let pki: TestPki;
  let podman: PodmanService;
  let certPath = '';
  let wrongCertPath = '';
  let proxy: https.Server;
  let port = 0;
  before(async () => {
    [pki, podman] = await Promise.all([createTestPki(), startPodmanService()]);
    // The layout the docker CLI reads: ca.pem, cert.pem, key.pem.
    certPath = join(pki.dir, 'docker-certs');
    wrongCertPath = join(pki.dir, 'docker-certs-wrong-ca');
    await mkdir(certPath);
    await mkdir(wrongCertPath);
    for (const [dirPath, ca] of [
      [certPath, pki.ca.certPath],
      [wrongCertPath, pki.otherCa.certPath],
    ] as const) {
      await copyFile(ca, join(dirPath, 'ca.pem'));
      await copyFile(pki.client.certPath, join(dirPath, 'cert.pem'));
      await copyFile(pki.client.keyPath, join(dirPath, 'key.pem'));
    }
    // Like dockerd --tlsverify: TLS on TCP, client certificate required; requests go on to the Podman socket.
    proxy = https.createServer(
      {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const upstream = http.request(
          { socketPath: podman.socketPath, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.writeHead(502).end());
        req.pipe(upstream);
      },
    );
    port = await listen(proxy);
  });
  after(async () => {
    if (proxy) await close(proxy);
    await podman?.cleanup();
    await pki?.cleanup();
  });

  it('is healthy through the TLS endpoint with the certificates of DOCKER_CERT_PATH', async () => {
    const checker = dockerChecker({
      env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath },
    });
    assert.equal(checker.target, `tcp://127.0.0.1:${port} (TLS)`);
    const report = await checker.healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.details?.engine, 'podman');
    assert.match(
      report.message ?? '',
      new RegExp(
        `^Podman .* at tcp://127\\.0\\.0\\.1:${port} \\(TLS\\) answered /_ping \\(API \\d+\\.\\d+\\)$`,
      ),
    );
  });

  it('takes PEM contents from the tls option', async () => {
    const checker = dockerChecker({
      host: `tcp://localhost:${port}`,
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    });
    assert.equal((await checker.healthCheck(AbortSignal.timeout(30_000))).healthy, true);
  });

  it('names TLS failures and missing files, never showing the key', async () => {
    const target = `tcp://127.0.0.1:${port} (TLS)`;
    const outputs = [
      await dockerChecker({
        env: {
          DOCKER_HOST: `tcp://127.0.0.1:${port}`,
          DOCKER_TLS_VERIFY: '1',
          DOCKER_CERT_PATH: wrongCertPath,
        },
      }).healthCheck(never()),
      await dockerChecker({
        env: {
          DOCKER_HOST: `tcp://127.0.0.1:${port}`,
          DOCKER_TLS_VERIFY: '1',
          DOCKER_CERT_PATH: join(pki.dir, 'nowhere'),
        },
      }).healthCheck(never()),
      await dockerChecker({ host: `tcp://127.0.0.1:${port}`, tls: { ca: pki.ca.cert } }).healthCheck(never()),
      await dockerChecker({
        host: `tcp://127.0.0.1:${port}`,
        tls: { ca: pki.ca.cert, cert: pki.otherCa.cert, key: pki.otherCa.key },
      }).healthCheck(never()),
    ];
    assert.deepEqual(
      outputs.map((report) => report.message),
      [
        `${target}: TLS failure: the server certificate is signed by an unknown CA`,
        `${target}: cannot read DOCKER_CERT_PATH/ca.pem (${join(pki.dir, 'nowhere', 'ca.pem')}): no such file`,
        `${target}: TLS failure: the server requires a client certificate`,
        outputs[3]?.message,
      ],
    );
    // Depending on timing, the client reads the server's "unknown CA" alert or only the reset that follows it.
    assert.match(
      outputs[3]?.message ?? '',
      /\(TLS\): (TLS failure: the server does not trust the client certificate \(unknown CA\)|the connection was reset by the peer \(was the client certificate rejected\?\))$/,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify(outputs), [pki.client.key, pki.otherCa.key]), []);
  });

  it('uses TLS without verification under DOCKER_TLS (no _VERIFY), still sending the client certificate', async () => {
    const report = await dockerChecker({
      env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS: '1', DOCKER_CERT_PATH: wrongCertPath },
    }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
  });
});
