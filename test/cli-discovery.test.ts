import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { discover } from '../src/cli/discovery.js';
import { cliEnv, runCli } from './support/cli.js';
import { close, listen } from './support/listen.js';
import { startPodmanService, type PodmanService } from './support/podman.js';
import { createTestPki, type TestPki } from './support/tls.js';

const KUBE_TOKEN = 'kube-token-6b0e2d4f81';
const NOMAD_TOKEN = 'nomad-token-19c7a3e5d2';

/**
 * The machine-wide sockets come before the per-user ones; where one exists
 * (not on the machines this project runs on), discovery must pick it instead.
 */
const SYSTEM_SOCKET = ['/var/run/docker.sock', '/run/podman/podman.sock'].find((path) => {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
});

/** Discovery through the real CLI, with every place it looks under the test's control. */
describe('CLI discovery', () => {
  let dir = '';
  let podman: PodmanService;
  let pki: TestPki;
  let kubeServer = '';
  let nomadAddress = '';
  const kubeAuth: (string | undefined)[] = [];
  const nomadTokens: (string | undefined)[] = [];

  const kube = https.createServer({}, (req, res) => {
    kubeAuth.push(req.headers.authorization);
    if (req.headers.authorization !== `Bearer ${KUBE_TOKEN}`) return void res.writeHead(401).end();
    if (req.url === '/version') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ major: '1', minor: '31', gitVersion: 'v1.31.2' }));
    }
    res.writeHead(req.url === '/readyz' ? 200 : 404, { 'Content-Type': 'text/plain' }).end('ok');
  });
  const nomad = http.createServer((req, res) => {
    const token = req.headers['x-nomad-token'];
    nomadTokens.push(typeof token === 'string' ? token : undefined);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ client: { ok: true, message: 'ok' }, server: { ok: true, message: 'ok' } }));
  });

  /** A home directory with `~/.kube/config` for the fake API server. */
  async function homeWithKubeconfig(name: string): Promise<string> {
    const home = join(dir, name);
    await mkdir(join(home, '.kube'), { recursive: true });
    await writeFile(join(home, '.kube', 'config'), kubeconfig());
    return home;
  }
  function kubeconfig(): string {
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'test',
      clusters: [
        {
          name: 'test',
          cluster: {
            server: kubeServer,
            'certificate-authority-data': Buffer.from(pki.ca.cert).toString('base64'),
          },
        },
      ],
      users: [{ name: 'test', user: { token: KUBE_TOKEN } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
    });
  }
  /** A runtime dir holding `relative` as a link to the Podman socket. */
  async function runtimeDirWith(name: string, relative: string): Promise<string> {
    const runtime = join(dir, name);
    await mkdir(join(runtime, relative, '..'), { recursive: true });
    await symlink(podman.socketPath, join(runtime, relative));
    return runtime;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-discovery-'));
    pki = await createTestPki();
    kube.setSecureContext({ cert: pki.server.cert, key: pki.server.key });
    kubeServer = `https://127.0.0.1:${await listen(kube)}`;
    nomadAddress = `http://127.0.0.1:${await listen(nomad)}`;
    podman = await startPodmanService();
  });
  after(async () => {
    await Promise.all([close(kube), close(nomad)]);
    await podman?.cleanup();
    await pki?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds nothing in an empty environment, says where it looked, and check exits 1', async () => {
    const empty = join(dir, 'empty-home');
    await mkdir(empty, { recursive: true });
    const result = await runCli(['check'], {
      env: cliEnv({ HOME: empty, XDG_RUNTIME_DIR: join(dir, 'no-xdg') }),
    });
    const lines = result.stderr.split('\n');
    if (SYSTEM_SOCKET === undefined) {
      assert.equal(result.code, 1);
      assert.equal(
        lines[0],
        `discovery: docker not found: no socket exists (looked at DOCKER_HOST (unset), unix:///var/run/docker.sock, unix://${dir}/no-xdg/docker.sock, unix:///run/podman/podman.sock, unix://${dir}/no-xdg/podman/podman.sock)`,
      );
      assert.match(result.stderr, /no providers found: nothing to check/);
      assert.equal(result.stdout, '');
    } else {
      assert.equal(lines[0], `discovery: docker found: unix://${SYSTEM_SOCKET}`);
    }
    assert.equal(
      lines[1],
      `discovery: kubernetes not found: no kubeconfig and not in a cluster (KUBERNETES_SERVICE_HOST unset) (looked at KUBECONFIG (unset), ${empty}/.kube/config, in-cluster (/var/run/secrets/kubernetes.io/serviceaccount/token))`,
    );
    assert.equal(
      lines[2],
      'discovery: nomad not found: NOMAD_ADDR is not set (looked at NOMAD_ADDR (unset))',
    );
  });

  it('finds the rootless Docker socket and the Podman socket under XDG_RUNTIME_DIR', async () => {
    for (const relative of ['docker.sock', 'podman/podman.sock']) {
      const runtime = await runtimeDirWith(`xdg-${relative.replace('/', '-')}`, relative);
      const result = await runCli(['check'], { env: cliEnv({ HOME: dir, XDG_RUNTIME_DIR: runtime }) });
      const expected = SYSTEM_SOCKET ?? join(runtime, relative);
      assert.match(result.stderr, new RegExp(`^discovery: docker found: unix://${expected}$`, 'm'));
      if (SYSTEM_SOCKET === undefined) {
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^docker +healthy .*[Pp]odman/m);
      }
    }
  });

  it('takes DOCKER_HOST as given, even when nothing listens there (then the check says why)', async () => {
    const host = `unix://${join(dir, 'nothing-here.sock')}`;
    const result = await runCli(['check'], { env: cliEnv({ HOME: dir, DOCKER_HOST: host }) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^discovery: docker found: ${host} \\(from DOCKER_HOST\\)$`, 'm'));
    assert.match(result.stdout, /^docker +unhealthy .*no such socket/m);
  });

  it('finds ~/.kube/config and checks the API server it names', async () => {
    const home = await homeWithKubeconfig('kube-home');
    const result = await runCli(['check'], { env: cliEnv({ HOME: home }) });
    assert.match(result.stderr, new RegExp(`^discovery: kubernetes found: ${home}/\\.kube/config$`, 'm'));
    assert.match(result.stdout, /^kubernetes +healthy /m);
    assert.ok(kubeAuth.includes(`Bearer ${KUBE_TOKEN}`));
    assert.ok(!result.stdout.includes(KUBE_TOKEN) && !result.stderr.includes(KUBE_TOKEN));
    if (SYSTEM_SOCKET === undefined) assert.equal(result.code, 0, result.stderr);
  });

  it('prefers KUBECONFIG, and says when the files it names do not exist', async () => {
    const file = join(dir, 'custom-kubeconfig.yaml');
    await writeFile(file, kubeconfig());
    const empty = join(dir, 'kube-empty-home');
    await mkdir(empty, { recursive: true });
    const found = await runCli(['check'], { env: cliEnv({ HOME: empty, KUBECONFIG: file }) });
    assert.match(
      found.stderr,
      new RegExp(`^discovery: kubernetes found: ${file} \\(from KUBECONFIG\\)$`, 'm'),
    );
    assert.match(found.stdout, /^kubernetes +healthy /m);

    const missing = join(dir, 'no-such-kubeconfig');
    const home = await homeWithKubeconfig('kube-home-ignored');
    const absent = await runCli(['check'], { env: cliEnv({ HOME: home, KUBECONFIG: missing }) });
    assert.match(
      absent.stderr,
      new RegExp(
        `^discovery: kubernetes not found: no file that KUBECONFIG names exists \\(looked at KUBECONFIG \\(${missing}\\)\\)$`,
        'm',
      ),
    );
  });

  it('says why in-cluster access was not used when the service account token is missing', async () => {
    const empty = join(dir, 'cluster-home');
    await mkdir(empty, { recursive: true });
    const result = await runCli(['check'], {
      env: cliEnv({ HOME: empty, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1' }),
    });
    assert.match(
      result.stderr,
      /^discovery: kubernetes not found: KUBERNETES_SERVICE_HOST is set but \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token is missing \(or KUBERNETES_SERVICE_PORT is unset\)/m,
    );
  });

  it('uses the in-cluster service account when it is mounted', async () => {
    const accountDir = join(dir, 'serviceaccount');
    await mkdir(accountDir, { recursive: true });
    await writeFile(join(accountDir, 'token'), KUBE_TOKEN);
    await writeFile(join(accountDir, 'ca.crt'), pki.ca.cert);
    const port = new URL(kubeServer).port;
    const env = {
      HOME: join(dir, 'cluster-home'),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
    };
    const discovery = await discover(env, undefined, { serviceAccountDir: accountDir });
    const result = discovery.results.find((entry) => entry.type === 'kubernetes');
    assert.equal(result?.detail, `in-cluster, https://127.0.0.1:${port}`);
    assert.ok(result?.provider, 'registered');
    const report = await result.provider.checker.healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report?.healthy, true, report?.message);
  });

  it('finds Nomad through NOMAD_ADDR and sends NOMAD_TOKEN', async () => {
    const empty = join(dir, 'nomad-home');
    await mkdir(empty, { recursive: true });
    const result = await runCli(['check', '--json'], {
      env: cliEnv({ HOME: empty, NOMAD_ADDR: nomadAddress, NOMAD_TOKEN }),
    });
    assert.match(
      result.stderr,
      new RegExp(`^discovery: nomad found: ${nomadAddress}.* \\(from NOMAD_ADDR\\)$`, 'm'),
    );
    const statuses = JSON.parse(result.stdout) as { name: string; state: string }[];
    assert.deepEqual(
      statuses.filter((status) => status.name === 'nomad').map((status) => status.state),
      ['healthy'],
    );
    assert.equal(nomadTokens.at(-1), NOMAD_TOKEN);
    assert.ok(!result.stdout.includes(NOMAD_TOKEN) && !result.stderr.includes(NOMAD_TOKEN));
  });

  it('registers everything it finds at once, and adds it to a config that asks with discover: true', async () => {
    const home = await homeWithKubeconfig('all-home');
    const env = cliEnv({ HOME: home, DOCKER_HOST: podman.host, NOMAD_ADDR: nomadAddress });
    const all = await runCli(['check'], { env });
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      all.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/ +/).slice(0, 2)),
      [
        ['docker', 'healthy'],
        ['kubernetes', 'healthy'],
        ['nomad', 'healthy'],
      ],
    );

    const file = join(dir, 'discover.yaml');
    await writeFile(
      file,
      `discover: true\nproviders:\n  - name: docker\n    type: tcp\n    host: 127.0.0.1\n    port: ${new URL(nomadAddress).port}\n`,
    );
    const mixed = await runCli(['check', '--config', file], { env });
    assert.equal(mixed.code, 0, mixed.stderr);
    // The configured "docker" wins over the discovered one.
    assert.match(mixed.stdout, /^docker +healthy .*connected to 127\.0\.0\.1/m);
    assert.match(mixed.stdout, /^kubernetes +healthy /m);
    assert.match(mixed.stdout, /^nomad +healthy /m);

    const without = await runCli(['check', '--config', file.replace('discover.yaml', 'plain.yaml')], { env });
    assert.equal(without.code, 2, 'a missing file is a config error');
  });
});
