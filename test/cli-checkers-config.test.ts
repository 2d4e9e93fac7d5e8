import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, runCli, runMain } from './support/cli.js';
import { startDnsServer, type DnsServer } from './support/dns-server.js';
import { startGrpcHealthServer, type GrpcHealthServer } from './support/grpc-health-server.js';
import { close, leakedSecrets, listen } from './support/listen.js';
import { createTestPki, type TestIdentity, type TestPki } from './support/tls.js';

const DAY = 86_400_000;

/**
 * The gRPC and DNS checkers and the certificate-expiry option through the
 * config file and `check`: a real grpc-js health server over mutual TLS, a
 * real DNS server on a UDP port, and a real HTTPS server whose certificate
 * expires in 10 days. Healthy, then unhealthy with the reason named; the
 * client key's contents never printed.
 */
describe('CLI config: grpc, dns and certExpiryWarning providers', () => {
  let dir = '';
  let pki: TestPki;
  let grpc: GrpcHealthServer;
  let dns: DnsServer;
  let soon: TestIdentity;
  let web: https.Server;
  let webPort = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-checkers-'));
    pki = await createTestPki();
    soon = await pki.issue('soon', { kind: 'server', validForMs: 20 * DAY });
    grpc = await startGrpcHealthServer({
      tls: { cert: pki.server.cert, key: pki.server.key },
      clientCa: pki.ca.cert,
    });
    dns = await startDnsServer({ 'api.test': { A: ['10.0.0.1', '10.0.0.2'] } });
    web = https.createServer({ cert: soon.cert, key: soon.key }, (_req, res) => res.end('ok'));
    webPort = await listen(web);
  });
  after(async () => {
    await grpc?.close();
    await dns?.close();
    if (web) await close(web);
    await pki?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  function config(): string {
    return [
      'checkTimeout: 8s',
      'providers:',
      '  - name: orders',
      '    type: grpc',
      `    address: 127.0.0.1:${grpc.port}`,
      '    service: ""',
      '    timeout: 5s',
      '    certExpiryWarning: 0',
      '    tls:',
      `      ca: ${pki.ca.certPath}`,
      `      cert: ${pki.client.certPath}`,
      `      key: ${pki.client.keyPath}`,
      '      serverName: localhost',
      '  - name: resolver',
      '    type: dns',
      '    query: api.test',
      '    recordType: A',
      `    servers: [${dns.address}]`,
      '    expect: [10.0.0.1]',
      '  - name: web',
      '    type: http',
      `    url: https://localhost:${webPort}/`,
      '    certExpiryWarning: 30d',
      '    tls:',
      `      ca: ${pki.ca.certPath}`,
      '',
    ].join('\n');
  }

  /** The client key's body lines: none of them may appear in any output. */
  function keySecrets(): string[] {
    return pki.client.key.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
  }

  it('reports grpc and dns healthy, then unhealthy naming why', { timeout: 60_000 }, async () => {
    await writeFile(join(dir, 'checkers.yaml'), config());
    const env = cliEnv({ HOME: dir });
    const healthy = await runMain(['check', '--config', 'checkers.yaml', '--json'], { cwd: dir, env });
    assert.deepEqual(leakedSecrets(healthy.stdout + healthy.stderr, keySecrets()), []);
    assert.equal(healthy.code, 0, healthy.stderr);
    const statuses = JSON.parse(healthy.stdout) as {
      name: string;
      state: string;
      message: string;
      details?: Record<string, unknown>;
    }[];
    const byName = new Map(statuses.map((status) => [status.name, status]));
    assert.equal(byName.get('orders')?.state, 'healthy', byName.get('orders')?.message);
    assert.match(byName.get('orders')?.message ?? '', /SERVING/);
    // Mutual TLS: both certificates' dates, read from the files the config names.
    assert.equal(
      byName.get('orders')?.details?.['clientCertificateNotAfter'],
      new Date(new (await import('node:crypto')).X509Certificate(pki.client.cert).validTo).toISOString(),
    );
    assert.equal(typeof byName.get('orders')?.details?.['serverCertificateNotAfter'], 'string');
    assert.equal(byName.get('resolver')?.state, 'healthy', byName.get('resolver')?.message);
    assert.equal(dns.queries.at(-1), 'api.test A');
    // certExpiryWarning: 30d reaches the HTTP checker: a 20-day certificate is degraded (the default 14 d would not).
    assert.equal(byName.get('web')?.state, 'degraded', byName.get('web')?.message);
    assert.match(byName.get('web')?.message ?? '', /server certificate expires in (19|20) d/);
    assert.match(healthy.stderr, /^warning: web is degraded: .*server certificate expires in/m);

    grpc.setStatus('', 'NOT_SERVING');
    dns.zone['api.test'] = { A: ['10.0.0.2'] };
    const unhealthy = await runMain(['check', '--config', 'checkers.yaml'], { cwd: dir, env });
    assert.deepEqual(leakedSecrets(unhealthy.stdout + unhealthy.stderr, keySecrets()), []);
    assert.equal(unhealthy.code, 1, unhealthy.stderr);
    const line = (name: string): string =>
      unhealthy.stdout.split('\n').find((row) => row.startsWith(name)) ?? '';
    assert.match(line('orders'), /unhealthy .*NOT_SERVING/);
    assert.match(line('resolver'), /unhealthy .*missing the expected 10\.0\.0\.1/);
    grpc.setStatus('', 'SERVING');
    dns.zone['api.test'] = { A: ['10.0.0.1', '10.0.0.2'] };
  });

  it('the built bin checks the same config end to end', { timeout: 60_000 }, async () => {
    await writeFile(join(dir, 'bin.yaml'), config());
    const result = await runCli(['check', '--config', 'bin.yaml'], { cwd: dir, env: cliEnv({ HOME: dir }) });
    assert.deepEqual(leakedSecrets(result.stdout + result.stderr, keySecrets()), []);
    assert.equal(result.code, 0, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.match(result.stdout, /orders +healthy/);
    assert.match(result.stdout, /resolver +healthy/);
    assert.match(result.stdout, /web +degraded/);
  });
});
