import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { dockerChecker } from '../src/checkers/docker.js';
import { httpChecker } from '../src/checkers/http.js';
import { kubernetesChecker } from '../src/checkers/kubernetes.js';
import { nomadChecker } from '../src/checkers/nomad.js';
import { isOptionError } from '../src/errors.js';
import { close, leakedSecrets, listen } from './support/listen.js';
import { createTestPki, type TestIdentity, type TestPki } from './support/tls.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

type Issued = TestIdentity & { readonly notAfter: Date };

/** A JWT-shaped token (unsigned: only its `exp` is read) expiring at `exp` (s since the epoch). */
function jwt(exp: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part({ iss: 'test', sub: 'system:serviceaccount:x:y', exp })}.c2lnbmF0dXJl`;
}

describe('certificate and credential expiry', () => {
  let pki: TestPki;
  let dir = '';
  const certs: Record<string, Issued> = {};
  const servers: https.Server[] = [];
  const urls: Record<string, string> = {};

  /** An HTTPS server with `cert` that answers every request with `body` (JSON when an object). */
  async function serve(name: string, cert: TestIdentity, mutual = false): Promise<void> {
    const server = https.createServer(
      {
        cert: cert.cert,
        key: cert.key,
        ...(mutual ? { ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true } : {}),
      },
      (req, res) => {
        const path = new URL(req.url ?? '/', 'https://x').pathname;
        if (path === '/_ping') res.writeHead(200, { 'Api-Version': '1.45' }).end('OK');
        else if (path === '/v1/agent/health')
          res.writeHead(200).end(JSON.stringify({ server: { ok: true, message: 'ok' } }));
        else if (path === '/version') res.writeHead(200).end(JSON.stringify({ gitVersion: 'v1.31.2' }));
        else res.writeHead(200).end('ok');
      },
    );
    servers.push(server);
    urls[name] = `https://127.0.0.1:${await listen(server)}`;
  }

  before(async () => {
    pki = await createTestPki();
    dir = await mkdtemp(join(tmpdir(), 'provider-health-expiry-'));
    for (const [name, kind, validForMs] of [
      ['server1h', 'server', HOUR],
      ['server10d', 'server', 10 * DAY],
      ['server100d', 'server', 100 * DAY],
      ['client10d', 'client', 10 * DAY],
      ['client100d', 'client', 100 * DAY],
    ] as const) {
      certs[name] = await pki.issue(name, { kind, validForMs });
    }
    await serve('1h', certs.server1h!);
    await serve('10d', certs.server10d!);
    await serve('100d', certs.server100d!);
    await serve('mutual100d', certs.server100d!, true);
  });
  after(async () => {
    await Promise.all(servers.map((server) => close(server)));
    await rm(dir, { recursive: true, force: true });
    await pki?.cleanup();
  });

  const iso = (name: string): string => certs[name]!.notAfter.toISOString();
  const day = (name: string): string => iso(name).slice(0, 10);

  describe('httpChecker', () => {
    const check = (name: string, extra: object = {}) =>
      httpChecker({ url: `${urls[name]}/healthz`, tls: { ca: pki.ca.cert }, ...extra }).healthCheck(signal());

    it('is degraded when the server certificate expires in 1 h, saying when', async () => {
      const report = await check('1h');
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, true);
      // About an hour: the certificates were issued moments ago.
      assert.match(
        report.message ?? '',
        new RegExp(
          `^GET ${urls['1h']}/healthz answered 200 OK \\(server certificate expires in (59|60) min, on ${day('server1h')}\\)$`,
        ),
      );
      assert.deepEqual(report.details, { status: 200, serverCertificateNotAfter: iso('server1h') });
    });

    it('is degraded when it expires in 10 d', async () => {
      const report = await check('10d');
      assert.equal(report.degraded, true);
      assert.match(report.message ?? '', /\(server certificate expires in 10 d, on \d{4}-\d\d-\d\d\)$/);
      assert.equal(report.details?.serverCertificateNotAfter, iso('server10d'));
    });

    it('is healthy with 100 d left, the date still in details', async () => {
      const report = await check('100d');
      assert.equal(report.healthy, true);
      assert.equal(report.degraded, undefined);
      assert.equal(report.message, `GET ${urls['100d']}/healthz answered 200 OK`);
      assert.equal(report.details?.serverCertificateNotAfter, iso('server100d'));
    });

    it('certExpiryWarning 0 turns the warning off (the date stays); a longer one warns earlier', async () => {
      const off = await check('1h', { certExpiryWarning: 0 });
      assert.equal(off.degraded, undefined, off.message);
      assert.equal(off.details?.serverCertificateNotAfter, iso('server1h'));
      const early = await check('100d', { certExpiryWarning: 120 * DAY });
      assert.equal(early.degraded, true);
      assert.match(early.message ?? '', /server certificate expires in 100 d/);
    });

    it('warns about the client certificate it presents', async () => {
      const report = await httpChecker({
        url: `${urls.mutual100d}/healthz`,
        tls: { ca: pki.ca.cert, cert: certs.client10d!.cert, key: certs.client10d!.key },
      }).healthCheck(signal());
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, true);
      assert.match(report.message ?? '', /\(client certificate expires in 10 d, on \d{4}-\d\d-\d\d\)$/);
      assert.deepEqual(report.details, {
        status: 200,
        serverCertificateNotAfter: iso('server100d'),
        clientCertificateNotAfter: iso('client10d'),
      });
      assert.deepEqual(leakedSecrets(JSON.stringify(report), [certs.client10d!.key]), []);
    });

    it('an expired server certificate stays what TLS reports: unhealthy', async () => {
      const server = https.createServer({ cert: pki.expired.cert, key: pki.expired.key }, (_, res) =>
        res.end('ok'),
      );
      const url = `https://127.0.0.1:${await listen(server)}/`;
      try {
        const report = await httpChecker({ url, tls: { ca: pki.ca.cert } }).healthCheck(signal());
        assert.equal(report.healthy, false);
        assert.match(report.message ?? '', /the server certificate has expired/);
      } finally {
        await close(server);
      }
    });

    it('validates certExpiryWarning with a typed error naming it', () => {
      const url = 'https://127.0.0.1/';
      for (const [value, name, message] of [
        [-1, 'RangeError', 'httpChecker: certExpiryWarning must be at least 0, got -1'],
        ['14d', 'TypeError', 'httpChecker: certExpiryWarning must be a number, got "14d"'],
        [
          400 * DAY,
          'RangeError',
          `httpChecker: certExpiryWarning must be at most ${366 * DAY}, got ${400 * DAY}`,
        ],
      ] as const) {
        assert.throws(
          () => httpChecker({ url, certExpiryWarning: value as never }),
          (error: unknown) => {
            assert.ok(isOptionError(error));
            assert.equal(error.name, name);
            assert.equal(error.message, message);
            assert.equal(error.option, 'certExpiryWarning');
            assert.equal(error.value, value);
            return true;
          },
        );
      }
    });
  });

  it('dockerChecker over TLS: the daemon certificate and DOCKER_CERT_PATH/cert.pem', async () => {
    const certPath = join(dir, 'docker');
    await mkdir(certPath);
    await writeFile(join(certPath, 'ca.pem'), pki.ca.cert);
    await writeFile(join(certPath, 'cert.pem'), certs.client10d!.cert);
    await writeFile(join(certPath, 'key.pem'), certs.client10d!.key);
    const env = {
      DOCKER_HOST: urls['1h']!.replace('https://', 'tcp://'),
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certPath,
    };
    const report = await dockerChecker({ env }).healthCheck(signal());
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, true);
    assert.match(
      report.message ?? '',
      new RegExp(
        `answered /_ping \\(API 1\\.45\\) \\(server certificate expires in (59|60) min, on ${day('server1h')}; client certificate expires in 10 d, on ${day('client10d')}\\)$`,
      ),
    );
    assert.equal(report.details?.serverCertificateNotAfter, iso('server1h'));
    assert.equal(report.details?.clientCertificateNotAfter, iso('client10d'));
    const quiet = await dockerChecker({ env, certExpiryWarning: 0 }).healthCheck(signal());
    assert.equal(quiet.degraded, undefined, quiet.message);
  });

  it('nomadChecker: the agent certificate and NOMAD_CLIENT_CERT', async () => {
    await writeFile(join(dir, 'nomad-client.pem'), certs.client100d!.cert);
    await writeFile(join(dir, 'nomad-client-key.pem'), certs.client100d!.key);
    const report = await nomadChecker({
      env: {
        NOMAD_ADDR: urls['10d'],
        NOMAD_CACERT: pki.ca.certPath,
        NOMAD_CLIENT_CERT: join(dir, 'nomad-client.pem'),
        NOMAD_CLIENT_KEY: join(dir, 'nomad-client-key.pem'),
      },
    }).healthCheck(signal());
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, true);
    assert.equal(
      report.message,
      `Nomad agent at ${urls['10d']}: server ok (server certificate expires in 10 d, on ${day('server10d')})`,
    );
    assert.equal(report.details?.serverCertificateNotAfter, iso('server10d'));
    assert.equal(report.details?.clientCertificateNotAfter, iso('client100d'));
  });

  describe('kubernetesChecker', () => {
    const kubeconfig = async (file: string, user: Record<string, unknown>): Promise<string> => {
      const path = join(dir, file);
      await writeFile(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'test',
          clusters: [
            {
              name: 'test',
              cluster: {
                server: urls.mutual100d,
                'certificate-authority-data': Buffer.from(pki.ca.cert).toString('base64'),
              },
            },
          ],
          users: [{ name: 'test', user }],
          contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
        }),
      );
      return path;
    };

    it('warns about the kubeconfig client certificate', async () => {
      const path = await kubeconfig('client-cert.yaml', {
        'client-certificate-data': Buffer.from(certs.client10d!.cert).toString('base64'),
        'client-key-data': Buffer.from(certs.client10d!.key).toString('base64'),
      });
      const report = await kubernetesChecker({ kubeconfig: path }).healthCheck(signal());
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, true);
      assert.equal(
        report.message,
        `Kubernetes API server at ${urls.mutual100d} is ready (v1.31.2) (client certificate expires in 10 d, on ${day('client10d')})`,
      );
      assert.deepEqual(report.details, {
        version: 'v1.31.2',
        serverCertificateNotAfter: iso('server100d'),
        clientCertificateNotAfter: iso('client10d'),
      });
    });

    it('warns about a JWT token whose exp is 2 d away, never showing it', async () => {
      const exp = Math.floor(Date.now() / 1000) + 2 * 86_400;
      const token = jwt(exp);
      const path = await kubeconfig('jwt.yaml', {
        token,
        'client-certificate-data': Buffer.from(certs.client100d!.cert).toString('base64'),
        'client-key-data': Buffer.from(certs.client100d!.key).toString('base64'),
      });
      const report = await kubernetesChecker({ kubeconfig: path }).healthCheck(signal());
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, true);
      assert.match(
        report.message ?? '',
        /is ready \(v1\.31\.2\) \(token expires in (48 h|47 h), on \d{4}-\d\d-\d\d\)$/,
      );
      assert.equal(report.details?.tokenNotAfter, new Date(exp * 1000).toISOString());
      assert.equal(report.details?.clientCertificateNotAfter, iso('client100d'));
      assert.deepEqual(leakedSecrets(JSON.stringify(report), [token, token.split('.')[1]!]), []);
      const quiet = await kubernetesChecker({ kubeconfig: path, certExpiryWarning: 0 }).healthCheck(signal());
      assert.equal(quiet.degraded, undefined, quiet.message);
    });

    it('does not warn about a token file, which is renewed as it rotates (an hour is normal)', async () => {
      const tokenFile = join(dir, 'sa-token');
      await writeFile(tokenFile, `${jwt(Math.floor(Date.now() / 1000) + 3_600)}\n`);
      const path = await kubeconfig('token-file.yaml', {
        tokenFile,
        'client-certificate-data': Buffer.from(certs.client100d!.cert).toString('base64'),
        'client-key-data': Buffer.from(certs.client100d!.key).toString('base64'),
      });
      const report = await kubernetesChecker({ kubeconfig: path }).healthCheck(signal());
      assert.equal(report.healthy, true, report.message);
      assert.equal(report.degraded, undefined, report.message);
      assert.equal(report.details?.tokenNotAfter, undefined);
    });
  });
});
