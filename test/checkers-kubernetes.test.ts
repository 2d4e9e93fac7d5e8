import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { findKubeconfig, kubernetesChecker } from '../src/checkers/kubernetes.js';
import { close, leakedSecrets, listen, refusedPort, trackSockets } from './support/listen.js';
import { createTestPki, type TestPki } from './support/tls.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.k8s-test-token.c2lnbmF0dXJl';
const EXEC_TOKEN = 'exec-plugin-token-5e6f7a8b9c';
const VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.2' };
const never = (): AbortSignal => new AbortController().signal;

type Mode = 'ready' | 'etcd-failing' | 'hang' | 'version-hangs';

interface FakeApiServer {
  server: https.Server;
  readonly seen: { path: string; authorization: string | undefined }[];
  mode: Mode;
}

/**
 * An API server that follows the documented health endpoints: `/readyz` is
 * 200 `ok` when ready; when a check fails it is 500 listing the failed check
 * and ending `readyz check failed`, and `/readyz?verbose` lists every check.
 */
function fakeApiServer(
  options: https.ServerOptions,
  acceptedTokens: readonly string[] | undefined,
): FakeApiServer {
  const state: FakeApiServer = {
    server: undefined as unknown as https.Server,
    seen: [],
    mode: 'ready',
  };
  const checks = (failing: boolean, verbose: boolean): string =>
    [
      '[+]ping ok',
      '[+]log ok',
      failing ? '[-]etcd failed: reason withheld' : '[+]etcd ok',
      '[+]informer-sync ok',
      '[+]poststarthook/start-apiserver-admission-initializer ok',
    ]
      .filter((line) => verbose || line.startsWith('[-]'))
      .join('\n');
  state.server = https.createServer(options, (req, res) => {
    state.seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (
      acceptedTokens !== undefined &&
      !acceptedTokens.some((token) => req.headers.authorization === `Bearer ${token}`)
    ) {
      res
        .writeHead(401, { 'Content-Type': 'application/json' })
        .end(
          '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
        );
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname === '/version') {
      if (state.mode === 'version-hangs') return;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(VERSION));
      return;
    }
    if (url.pathname !== '/readyz') {
      res.writeHead(404).end();
      return;
    }
    if (state.mode === 'hang') return;
    const verbose = url.searchParams.has('verbose');
    if (state.mode === 'ready' || state.mode === 'version-hangs') {
      res
        .writeHead(200, { 'Content-Type': 'text/plain' })
        .end(verbose ? `${checks(false, true)}\nreadyz check passed` : 'ok');
      return;
    }
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${checks(true, verbose)}\nreadyz check failed`);
  });
  return state;
}

interface KubeconfigSpec {
  currentContext?: string;
  clusters?: Record<string, Record<string, unknown>>;
  users?: Record<string, Record<string, unknown>>;
  contexts?: Record<string, { cluster: string; user: string }>;
}

async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  const doc: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: Object.entries(spec.clusters ?? {}).map(([name, cluster]) => ({ name, cluster })),
    users: Object.entries(spec.users ?? {}).map(([name, user]) => ({ name, user })),
    contexts: Object.entries(spec.contexts ?? {}).map(([name, context]) => ({ name, context })),
  };
  if (spec.currentContext !== undefined) doc['current-context'] = spec.currentContext;
  await writeFile(path, stringify(doc));
  return path;
}

describe('kubernetesChecker', () => {
  let pki: TestPki;
  let dir = '';
  let tokenApi: FakeApiServer;
  let certApi: FakeApiServer;
  let tokenServer = '';
  let certServer = '';
  let caData = '';
  let otherCaData = '';
  let tokenConfig = '';
  let tokenSockets: ReturnType<typeof trackSockets>;

  before(async () => {
    pki = await createTestPki();
    dir = await mkdtemp(join(tmpdir(), 'provider-health-kube-'));
    tokenApi = fakeApiServer({ cert: pki.server.cert, key: pki.server.key }, [TOKEN, EXEC_TOKEN]);
    certApi = fakeApiServer(
      {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      undefined,
    );
    tokenSockets = trackSockets(tokenApi.server);
    tokenServer = `https://127.0.0.1:${await listen(tokenApi.server)}`;
    certServer = `https://localhost:${await listen(certApi.server)}`;
    caData = Buffer.from(pki.ca.cert).toString('base64');
    otherCaData = Buffer.from(pki.otherCa.cert).toString('base64');
    tokenConfig = await writeKubeconfig(join(dir, 'token.yaml'), {
      currentContext: 'token',
      clusters: { token: { server: tokenServer, 'certificate-authority-data': caData } },
      users: { 'token-user': { token: TOKEN } },
      contexts: { token: { cluster: 'token', user: 'token-user' } },
    });
  });
  after(async () => {
    await close(tokenApi.server);
    await close(certApi.server);
    await rm(dir, { recursive: true, force: true });
    await pki?.cleanup();
  });

  it('is healthy when /readyz answers 200, with the version, sending the bearer token', async () => {
    tokenApi.mode = 'ready';
    tokenApi.seen.length = 0;
    const checker = kubernetesChecker({ kubeconfig: tokenConfig });
    assert.equal(checker.target, tokenServer);
    const report = await checker.healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.message, `Kubernetes API server at ${tokenServer} is ready (v1.31.2)`);
    // The server certificate's notAfter joined the details with certificate expiry (issue 14).
    assert.deepEqual(report.details, {
      version: 'v1.31.2',
      serverCertificateNotAfter: '2099-12-31T00:00:00.000Z',
    });
    assert.deepEqual(
      tokenApi.seen.map((request) => request.path),
      ['/readyz', '/version'],
    );
    assert.equal(tokenApi.seen[0]?.authorization, `Bearer ${TOKEN}`);
  });

  it('is degraded when slower than slowThreshold', async () => {
    tokenApi.mode = 'ready';
    // A threshold far below any real round trip makes the check "slow" deterministically.
    const report = await kubernetesChecker({ kubeconfig: tokenConfig, slowThreshold: 1e-6 }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(report.healthy, true);
    assert.equal(report.degraded, true);
    assert.match(
      report.message ?? '',
      /is ready \(v1\.31\.2\) \(slow: answered in \d+ ms, above the 0\.000001 ms threshold\)$/,
    );
  });

  it('names the failing check after fetching /readyz?verbose once', async () => {
    tokenApi.mode = 'etcd-failing';
    tokenApi.seen.length = 0;
    const report = await kubernetesChecker({ kubeconfig: tokenConfig }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `Kubernetes API server at ${tokenServer} is not ready (500 Internal Server Error): [-]etcd failed: reason withheld`,
    );
    assert.deepEqual(report.details, {
      failing: ['[-]etcd failed: reason withheld'],
      serverCertificateNotAfter: '2099-12-31T00:00:00.000Z',
    });
    assert.deepEqual(
      tokenApi.seen.map((request) => request.path),
      ['/readyz', '/readyz?verbose'],
    );
  });

  it('reports a wrong token as an authentication problem, without the token', async () => {
    tokenApi.mode = 'ready';
    const config = await writeKubeconfig(join(dir, 'wrong-token.yaml'), {
      currentContext: 'token',
      clusters: { token: { server: tokenServer, 'certificate-authority-data': caData } },
      users: { 'token-user': { token: `${TOKEN}-revoked` } },
      contexts: { token: { cluster: 'token', user: 'token-user' } },
    });
    const report = await kubernetesChecker({ kubeconfig: config }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `Kubernetes API server at ${tokenServer}: authentication failed (401): the credentials of the kubeconfig were rejected`,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify(report), [TOKEN]), []);
  });

  it('reports a CA that does not match as a TLS unknown-CA failure', async () => {
    const config = await writeKubeconfig(join(dir, 'wrong-ca.yaml'), {
      currentContext: 'token',
      clusters: { token: { server: tokenServer, 'certificate-authority-data': otherCaData } },
      users: { 'token-user': { token: TOKEN } },
      contexts: { token: { cluster: 'token', user: 'token-user' } },
    });
    const report = await kubernetesChecker({ kubeconfig: config }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(
      report.message,
      `Kubernetes API server at ${tokenServer}: TLS failure: the server certificate is signed by an unknown CA`,
    );
  });

  it('says "connection refused" when nothing listens', async () => {
    const port = await refusedPort();
    const config = await writeKubeconfig(join(dir, 'refused.yaml'), {
      currentContext: 'c',
      clusters: { c: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': caData } },
      users: { u: { token: TOKEN } },
      contexts: { c: { cluster: 'c', user: 'u' } },
    });
    const report = await kubernetesChecker({ kubeconfig: config }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.message, `Kubernetes API server at https://127.0.0.1:${port}: connection refused`);
  });

  /** No listener stays on the check's signal and no socket stays open on the server. */
  const assertNothingLeft = async (signal: AbortSignal): Promise<void> => {
    assert.equal(getEventListeners(signal, 'abort').length, 0);
    await tokenSockets.closed();
    assert.equal(tokenSockets.open.size, 0);
  };

  it('is still ready when only the /version follow-up hangs', { timeout: 30_000 }, async () => {
    tokenApi.mode = 'version-hangs';
    try {
      const controller = new AbortController();
      const report = await kubernetesChecker({ kubeconfig: tokenConfig }).healthCheck(controller.signal);
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.message, `Kubernetes API server at ${tokenServer} is ready`);
      await assertNothingLeft(controller.signal);
    } finally {
      tokenApi.mode = 'ready';
    }
  });

  it('aborts when the server hangs, leaving no socket and no listener', async () => {
    tokenApi.mode = 'hang';
    try {
      const checker = kubernetesChecker({ kubeconfig: tokenConfig });
      const controller = new AbortController();
      const arrived = new Promise<void>((resolve) => tokenApi.server.once('request', () => resolve()));
      const pending = checker.healthCheck(controller.signal);
      await arrived;
      controller.abort(new DOMException('check timed out after 200 ms', 'TimeoutError'));
      await assert.rejects(pending, {
        name: 'TimeoutError',
        message: `timed out: ${tokenServer} did not answer in time`,
      });
      await assertNothingLeft(controller.signal);
    } finally {
      tokenApi.mode = 'ready';
    }
  });

  it('authenticates with a client certificate given as files relative to the kubeconfig', async () => {
    const certDir = join(dir, 'cert');
    await mkdir(certDir);
    await writeFile(join(certDir, 'client.pem'), pki.client.cert);
    await writeFile(join(certDir, 'client-key.pem'), pki.client.key);
    await writeFile(join(certDir, 'ca.pem'), pki.ca.cert);
    const config = await writeKubeconfig(join(certDir, 'config'), {
      currentContext: 'cert',
      clusters: { cert: { server: certServer, 'certificate-authority': 'ca.pem' } },
      users: { 'cert-user': { 'client-certificate': 'client.pem', 'client-key': 'client-key.pem' } },
      contexts: { cert: { cluster: 'cert', user: 'cert-user' } },
    });
    const report = await kubernetesChecker({ kubeconfig: config }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.message, `Kubernetes API server at ${certServer} is ready (v1.31.2)`);

    const keyless = await writeKubeconfig(join(certDir, 'no-cert'), {
      currentContext: 'cert',
      clusters: { cert: { server: certServer, 'certificate-authority': 'ca.pem' } },
      users: { nobody: {} },
      contexts: { cert: { cluster: 'cert', user: 'nobody' } },
    });
    const refused = await kubernetesChecker({ kubeconfig: keyless }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(
      refused.message,
      `Kubernetes API server at ${certServer}: TLS failure: the server requires a client certificate`,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify([report, refused]), [pki.client.key]), []);
  });

  it('merges the files of KUBECONFIG, and selects a context with the context option', async () => {
    // First file: the current context (defined in the second file) and the token cluster.
    const first = await writeKubeconfig(join(dir, 'first.yaml'), {
      currentContext: 'cert',
      clusters: { token: { server: tokenServer, 'certificate-authority-data': caData } },
      users: { 'token-user': { token: TOKEN } },
      contexts: { token: { cluster: 'token', user: 'token-user' } },
    });
    const second = await writeKubeconfig(join(dir, 'second.yaml'), {
      currentContext: 'token',
      clusters: {
        cert: { server: certServer, 'certificate-authority-data': caData },
        // Ignored: the first file already defines "token".
        token: { server: 'https://127.0.0.1:1', 'certificate-authority-data': caData },
      },
      users: {
        'cert-user': {
          'client-certificate-data': Buffer.from(pki.client.cert).toString('base64'),
          'client-key-data': Buffer.from(pki.client.key).toString('base64'),
        },
      },
      contexts: { cert: { cluster: 'cert', user: 'cert-user' } },
    });
    const env = { KUBECONFIG: `${first}:${join(dir, 'missing.yaml')}:${second}`, HOME: dir };
    assert.deepEqual(findKubeconfig(env), { kind: 'files', files: [first, second], from: 'KUBECONFIG' });

    certApi.seen.length = 0;
    const merged = kubernetesChecker({ env });
    assert.equal(merged.target, certServer);
    const report = await merged.healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
    assert.equal(certApi.seen[0]?.path, '/readyz');

    const chosen = kubernetesChecker({ env, context: 'token' });
    assert.equal(chosen.target, tokenServer);
    assert.equal(
      (await chosen.healthCheck(AbortSignal.timeout(30_000))).message,
      `Kubernetes API server at ${tokenServer} is ready (v1.31.2)`,
    );

    const missing = await kubernetesChecker({ env, context: 'staging' }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(missing.healthy, false);
    assert.match(
      missing.message ?? '',
      /context "staging" is not in the kubeconfig \(it has "token", "cert"\)/,
    );
  });

  it('reads a tokenFile (trailing newline and all) and runs exec credential plugins', async () => {
    const tokenFile = join(dir, 'token.txt');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const fileConfig = await writeKubeconfig(join(dir, 'token-file.yaml'), {
      currentContext: 'c',
      clusters: { c: { server: tokenServer, 'certificate-authority-data': caData } },
      users: { u: { tokenFile: 'token.txt' } },
      contexts: { c: { cluster: 'c', user: 'u' } },
    });
    const fromFile = await kubernetesChecker({ kubeconfig: fileConfig }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(fromFile.healthy, true, fromFile.message);

    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: EXEC_TOKEN },
    };
    const execConfig = await writeKubeconfig(join(dir, 'exec.yaml'), {
      currentContext: 'c',
      clusters: { c: { server: tokenServer, 'certificate-authority-data': caData } },
      users: {
        u: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`],
            interactiveMode: 'Never',
          },
        },
      },
      contexts: { c: { cluster: 'c', user: 'u' } },
    });
    tokenApi.seen.length = 0;
    const fromExec = await kubernetesChecker({ kubeconfig: execConfig }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(fromExec.healthy, true, fromExec.message);
    assert.equal(tokenApi.seen[0]?.authorization, `Bearer ${EXEC_TOKEN}`);

    const failingExec = await writeKubeconfig(join(dir, 'exec-fails.yaml'), {
      currentContext: 'c',
      clusters: { c: { server: tokenServer, 'certificate-authority-data': caData } },
      users: {
        u: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: ['-e', 'process.stderr.write("login expired: run sso login"); process.exit(1)'],
          },
        },
      },
      contexts: { c: { cluster: 'c', user: 'u' } },
    });
    const failed = await kubernetesChecker({ kubeconfig: failingExec }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(
      failed.message,
      `Kubernetes API server at ${tokenServer}: cannot apply the kubeconfig credentials: login expired: run sso login`,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify([fromFile, fromExec, failed]), [TOKEN, EXEC_TOKEN]), []);
  });

  it('uses the in-cluster service account', async () => {
    const account = join(dir, 'serviceaccount');
    await mkdir(account);
    await writeFile(join(account, 'token'), TOKEN);
    await writeFile(join(account, 'ca.crt'), pki.ca.cert);
    await writeFile(join(account, 'namespace'), 'default');
    const env = {
      HOME: join(dir, 'empty-home'),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: new URL(tokenServer).port,
    };
    assert.deepEqual(findKubeconfig(env, account), {
      kind: 'in-cluster',
      server: tokenServer,
      serviceAccountDir: account,
    });
    const checker = kubernetesChecker({ env, serviceAccountDir: account });
    assert.equal(checker.target, tokenServer);
    const report = await checker.healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
  });

  it('finds ~/.kube/config, and reports when there is nothing to use', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, '.kube'), { recursive: true });
    assert.equal(findKubeconfig({ HOME: home }, join(dir, 'no-account')), undefined);
    const none = await kubernetesChecker({
      env: { HOME: home },
      serviceAccountDir: join(dir, 'no-account'),
    }).healthCheck(never());
    assert.equal(none.healthy, false);
    assert.match(none.message ?? '', /no kubeconfig found: set the kubeconfig option or KUBECONFIG/);
    await writeFile(
      join(home, '.kube', 'config'),
      await import('node:fs/promises').then((fs) => fs.readFile(tokenConfig, 'utf8')),
    );
    assert.deepEqual(findKubeconfig({ HOME: home }), {
      kind: 'files',
      files: [join(home, '.kube', 'config')],
      from: 'default',
    });
    assert.equal(
      (await kubernetesChecker({ env: { HOME: home } }).healthCheck(AbortSignal.timeout(30_000))).healthy,
      true,
    );
  });

  it('reports a kubeconfig that is missing or broken without quoting it', async () => {
    const missing = await kubernetesChecker({ kubeconfig: join(dir, 'nope.yaml') }).healthCheck(never());
    assert.match(missing.message ?? '', /cannot load kubeconfig .*nope\.yaml: no such file/);
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, `users:\n- name: u\n  user:\n    token: ${TOKEN}\n   bad: [indent\n`);
    const report = await kubernetesChecker({ kubeconfig: broken }).healthCheck(never());
    assert.equal(report.healthy, false);
    assert.match(
      report.message ?? '',
      /^Kubernetes: cannot load kubeconfig .*broken\.yaml: All mapping items must start at the same column at line 5, column 1$/,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify(report), [TOKEN]), []);
  });

  it('says to install @kubernetes/client-node when it is missing', async () => {
    // A child process whose module resolution cannot see the peer dependency, as in a project without it.
    const hook = `export async function resolve(specifier, context, next) {
      if (specifier === '@kubernetes/client-node') {
        throw Object.assign(new Error("Cannot find package '@kubernetes/client-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
      }
      return next(specifier, context);
    }`;
    const script = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const { kubernetesChecker } = await import(${JSON.stringify(new URL('../src/checkers/kubernetes.ts', import.meta.url).href)});
      const report = await kubernetesChecker({ kubeconfig: ${JSON.stringify(tokenConfig)} }).healthCheck(AbortSignal.timeout(30000));
      process.stdout.write(JSON.stringify(report));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        timeout: 60_000,
      },
    );
    const report = JSON.parse(stdout) as { healthy: boolean; message: string };
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      'Kubernetes: kubernetesChecker needs the optional peer dependency @kubernetes/client-node: npm install @kubernetes/client-node@1',
    );
  });

  it('validates its options, naming them', () => {
    assert.throws(
      () => kubernetesChecker({ kubeconfig: '' }),
      /kubernetesChecker: kubeconfig must be a non-empty string/,
    );
    assert.throws(
      () => kubernetesChecker({ context: 7 as never }),
      /context must be a non-empty string, got 7/,
    );
    assert.throws(() => kubernetesChecker({ slowThreshold: '5' as never }), {
      name: 'TypeError',
      message: /slowThreshold/,
    });
    assert.throws(() => kubernetesChecker([] as never), /options must be an object, got an array/);
  });
});
