import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { cliEnv, runMain } from './support/cli.js';
import { close, listen } from './support/listen.js';
import { createTestPki, type TestPki } from './support/tls.js';

const DAY = 86_400_000;

/**
 * The opt-in control-plane checks (docker `info`, kubernetes `livez` and
 * `nodes`, nomad `autopilot`) and `certExpiryWarning` reach their checkers
 * from the config: one HTTPS server speaking the few endpoints of each
 * control plane (as the checkers' own tests do), with a certificate that
 * expires in 20 days, and a `certExpiryWarning` of 30 days.
 */
describe('CLI config: opt-in control-plane checks and certExpiryWarning', () => {
  let dir = '';
  let pki: TestPki;
  let server: https.Server;
  let port = 0;
  const seen: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-control-plane-'));
    pki = await createTestPki();
    const cert = await pki.issue('plane20d', { kind: 'server', validForMs: 20 * DAY });
    server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      const path = req.url ?? '/';
      seen.push(path);
      const json = (body: unknown): void =>
        void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      if (path === '/_ping') return void res.writeHead(200, { 'Api-Version': '1.45' }).end('OK');
      if (path.startsWith('/info')) return json({ Warnings: [] });
      if (path === '/readyz') return void res.end('ok');
      if (path.startsWith('/livez')) return void res.end('[+]ping ok\nlivez check passed');
      if (path.startsWith('/api/v1/nodes')) return json({ kind: 'NodeList', metadata: {}, items: [] });
      if (path === '/version') return json({ gitVersion: 'v1.31.2' });
      if (path.startsWith('/v1/agent/health')) return json({ server: { ok: true, message: 'ok' } });
      if (path.startsWith('/v1/operator/autopilot/health'))
        return json({ Healthy: true, FailureTolerance: 1, Servers: [] });
      res.writeHead(404).end();
    });
    port = await listen(server);
  });
  after(async () => {
    if (server) await close(server);
    await pki?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks the opt-in endpoints and warns about the certificate', { timeout: 90_000 }, async () => {
    const base = `https://127.0.0.1:${port}`;
    await writeFile(
      join(dir, 'kubeconfig'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'test',
        clusters: [
          {
            name: 'test',
            cluster: {
              server: base,
              'certificate-authority-data': Buffer.from(pki.ca.cert).toString('base64'),
            },
          },
        ],
        users: [{ name: 'test', user: { token: 'not-a-jwt-token' } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
      }),
    );
    await writeFile(
      join(dir, 'plane.yaml'),
      [
        // The first Kubernetes check loads @kubernetes/client-node: over 10 s on a loaded host.
        'checkTimeout: 40s',
        'pollInterval: 1m',
        'providers:',
        '  - name: docker',
        '    type: docker',
        `    host: ${base}`,
        '    info: true',
        '    certExpiryWarning: 30d',
        '    tls:',
        `      ca: ${pki.ca.certPath}`,
        '  - name: cluster',
        '    type: kubernetes',
        '    kubeconfig: kubeconfig',
        '    livez: true',
        '    nodes: true',
        '    certExpiryWarning: 30d',
        '  - name: nomad',
        '    type: nomad',
        `    address: ${base}`,
        '    autopilot: true',
        '    certExpiryWarning: 30d',
        '    tls:',
        `      ca: ${pki.ca.certPath}`,
        '',
      ].join('\n'),
    );
    const result = await runMain(['check', '--config', 'plane.yaml', '--json'], {
      timeout: 80_000,
      cwd: dir,
      env: cliEnv({ HOME: dir }),
    });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const statuses = JSON.parse(result.stdout) as { name: string; state: string; message: string }[];
    for (const status of statuses) {
      assert.equal(status.state, 'degraded', `${status.name}: ${status.message}`);
      assert.match(status.message, /server certificate expires in (19|20) d/, status.name);
    }
    assert.deepEqual(statuses.map((status) => status.name).sort(), ['cluster', 'docker', 'nomad']);
    for (const path of ['/info', '/livez', '/api/v1/nodes', '/v1/operator/autopilot/health'])
      assert.ok(
        seen.some((asked) => asked.startsWith(path)),
        `${path} was asked: ${seen.join(' ')}`,
      );
  });
});
