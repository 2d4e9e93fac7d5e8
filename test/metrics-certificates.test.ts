import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { httpChecker } from '../src/checkers/http.js';
import { kubernetesChecker } from '../src/checkers/kubernetes.js';
import { HealthCache, ProviderRegistry, type HealthChecker } from '../src/index.js';
import { createMetrics } from '../src/metrics/index.js';
import { close, leakedSecrets, listen } from './support/listen.js';
import { createTestPki, type TestIdentity, type TestPki } from './support/tls.js';
import { promtool } from './support/promtool.js';

const DAY = 86_400_000;
const SERIES = 'provider_health_certificate_expiry_timestamp_seconds';

/** The value of `provider_health_certificate_expiry_timestamp_seconds` for these labels. */
function expiry(text: string, provider: string, certificate: string): number | undefined {
  const series = `${SERIES}{provider="${provider}",certificate="${certificate}"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A JWT-shaped token (unsigned: only its `exp` is read) expiring at `exp` (s since the epoch). */
function jwt(exp: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ sub: 'system:serviceaccount:x:y', exp })}.c2lnbmF0dXJl`;
}

/**
 * The certificate-expiry gauge, fed by real checkers against real TLS
 * servers: a mutual-TLS HTTPS server (server and client certificates) and an
 * API server reached with a kubeconfig JWT (server certificate and token).
 */
describe('certificate_expiry_timestamp_seconds', () => {
  let pki: TestPki;
  let dir = '';
  let server: TestIdentity & { readonly notAfter: Date };
  let client: TestIdentity & { readonly notAfter: Date };
  const servers: (http.Server | https.Server)[] = [];

  async function start(app: http.Server | https.Server): Promise<number> {
    servers.push(app);
    return listen(app);
  }

  before(async () => {
    pki = await createTestPki();
    dir = await mkdtemp(join(tmpdir(), 'provider-health-metrics-certs-'));
    server = await pki.issue('server100d', { kind: 'server', validForMs: 100 * DAY });
    client = await pki.issue('client10d', { kind: 'client', validForMs: 10 * DAY });
  });
  after(async () => {
    await Promise.all(servers.map((s) => close(s)));
    await rm(dir, { recursive: true, force: true });
    await pki?.cleanup();
  });

  it(
    'exposes server, client and token expiry, drops absent keys and removed providers, passes promtool',
    { timeout: 60_000 },
    async () => {
      const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        if (req.url === '/version') res.end(JSON.stringify({ gitVersion: 'v1.31.2' }));
        else res.end('ok');
      };
      const mutualPort = await start(
        https.createServer(
          {
            cert: server.cert,
            key: server.key,
            ca: pki.ca.cert,
            requestCert: true,
            rejectUnauthorized: true,
          },
          answer,
        ),
      );
      const apiPort = await start(https.createServer({ cert: server.cert, key: server.key }, answer));
      const plainPort = await start(http.createServer(answer));

      const exp = Math.floor(Date.now() / 1000) + 30 * 86_400;
      const token = jwt(exp);
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(
        kubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'test',
          clusters: [
            {
              name: 'test',
              cluster: {
                server: `https://127.0.0.1:${apiPort}`,
                'certificate-authority-data': Buffer.from(pki.ca.cert).toString('base64'),
              },
            },
          ],
          users: [{ name: 'test', user: { token } }],
          contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
        }),
      );

      const mutual = httpChecker({
        url: `https://127.0.0.1:${mutualPort}/`,
        tls: { ca: pki.ca.cert, cert: client.cert, key: client.key },
      });
      const plain = httpChecker({ url: `http://127.0.0.1:${plainPort}/` });
      // The same provider, checked over TLS, then over plain HTTP (no certificate to report).
      let web: HealthChecker = mutual;
      const registry = new ProviderRegistry();
      registry.register('web', { healthCheck: (signal: AbortSignal) => web.healthCheck(signal) });
      registry.register('cluster', kubernetesChecker({ kubeconfig, env: {} }));
      registry.register('plain', plain);
      const cache = new HealthCache(registry, { checkTimeout: 20_000, pollInterval: 30_000 });
      const metrics = await createMetrics(cache);
      try {
        await cache.checkNow(AbortSignal.timeout(30_000));
        for (const name of ['web', 'cluster', 'plain'])
          assert.equal(cache.get(name)?.healthy, true, `${name}: ${cache.get(name)?.message}`);
        const text = await metrics.render();
        const lint = await promtool(text);
        assert.equal(lint.code, 0, `promtool check metrics failed:\n${lint.output}`);
        assert.equal(lint.output.trim(), '', 'no lint findings');
        assert.match(text, new RegExp(`^# TYPE ${SERIES} gauge$`, 'm'));

        assert.equal(expiry(text, 'web', 'server'), server.notAfter.getTime() / 1000);
        assert.equal(expiry(text, 'web', 'client'), client.notAfter.getTime() / 1000);
        assert.equal(expiry(text, 'web', 'token'), undefined);
        assert.equal(expiry(text, 'cluster', 'server'), server.notAfter.getTime() / 1000);
        assert.equal(expiry(text, 'cluster', 'token'), exp);
        assert.equal(expiry(text, 'cluster', 'client'), undefined);
        assert.doesNotMatch(text, /provider="plain",certificate=/);
        assert.deepEqual(leakedSecrets(text, [token, token.split('.')[1]!, client.key]), []);

        // A check that reports no certificate drops the provider's series.
        web = plain;
        await cache.checkNow(AbortSignal.timeout(30_000));
        const after = await metrics.render();
        assert.equal(expiry(after, 'web', 'server'), undefined);
        assert.equal(expiry(after, 'web', 'client'), undefined);
        assert.equal(expiry(after, 'cluster', 'token'), exp);

        // A removed provider has none either.
        registry.unregister('cluster');
        const removed = await metrics.render();
        assert.doesNotMatch(removed, /provider="cluster"/);
        assert.equal((await promtool(removed)).code, 0);
      } finally {
        metrics.dispose();
        cache.dispose();
      }
    },
  );
});
