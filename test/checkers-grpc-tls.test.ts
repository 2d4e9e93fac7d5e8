import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grpcChecker } from '../src/checkers/grpc.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { startGrpcHealthServer, type GrpcHealthServer } from './support/grpc-health-server.js';
import { leakedSecrets, refusedPort } from './support/listen.js';
import { createTestPki, type TestPki } from './support/tls.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const never = (): AbortSignal => new AbortController().signal;

describe('grpcChecker over TLS', () => {
  let pki: TestPki;
  let tls: GrpcHealthServer;
  let mutual: GrpcHealthServer;
  let expired: GrpcHealthServer;
  before(async () => {
    pki = await createTestPki();
    tls = await startGrpcHealthServer({ tls: pki.server });
    mutual = await startGrpcHealthServer({ tls: pki.server, clientCa: pki.ca.cert });
    expired = await startGrpcHealthServer({ tls: pki.expired });
  });
  after(async () => {
    await Promise.all([tls.close(), mutual.close(), expired.close()]);
    await pki.cleanup();
  });

  it('is healthy with the right CA, and reports the server certificate expiry', async () => {
    const report = await grpcChecker({ address: tls.address, tls: { ca: pki.ca.cert } }).healthCheck(never());
    assert.equal(report.message, `${tls.address} is SERVING`);
    assert.deepEqual(report.details, {
      status: 'SERVING',
      serverCertificateNotAfter: '2099-12-31T00:00:00.000Z',
    });
    assert.equal(report.degraded, undefined);
  });

  it('is degraded when the server certificate expires within certExpiryWarning (0 turns it off)', async () => {
    // Six days before the test certificate's notAfter, on the checker's clock.
    const clock = new ManualClock(Date.parse('2099-12-25T00:00:00Z'));
    const near = await grpcChecker({ address: tls.address, tls: { ca: pki.ca.cert }, clock }).healthCheck(
      never(),
    );
    assert.equal(near.healthy, true);
    assert.equal(near.degraded, true);
    assert.equal(
      near.message,
      `${tls.address} is SERVING (server certificate expires in 6 d, on 2099-12-31)`,
    );
    const off = await grpcChecker({
      address: tls.address,
      tls: { ca: pki.ca.cert },
      clock,
      certExpiryWarning: 0,
    }).healthCheck(never());
    assert.equal(off.degraded, undefined);
    assert.equal(off.details?.serverCertificateNotAfter, '2099-12-31T00:00:00.000Z');
  });

  it('names TLS failures: unknown CA, expired certificate, wrong server name', async () => {
    const cases: [string, Parameters<typeof grpcChecker>[0], string][] = [
      [
        tls.address,
        { address: tls.address, tls: { ca: pki.otherCa.cert } },
        'the server certificate is signed by an unknown CA',
      ],
      [tls.address, { address: tls.address }, 'the server certificate is signed by an unknown CA'],
      [
        expired.address,
        { address: expired.address, tls: { ca: pki.ca.cert } },
        'the server certificate has expired',
      ],
      [
        tls.address,
        { address: tls.address, tls: { ca: pki.ca.cert, serverName: 'wrong-name.invalid' } },
        'the server certificate does not match the host name',
      ],
    ];
    for (const [address, options, reason] of cases) {
      const report = await grpcChecker(options).healthCheck(never());
      assert.equal(report.healthy, false);
      assert.equal(report.message, `${address}: UNAVAILABLE: TLS failure: ${reason}`);
    }
    const named = await grpcChecker({
      address: `localhost:${tls.port}`,
      tls: { ca: pki.ca.cert, serverName: 'localhost' },
    }).healthCheck(never());
    assert.equal(named.healthy, true, named.message);
    const skipped = await grpcChecker({ address: tls.address, tls: { skipVerify: true } }).healthCheck(
      never(),
    );
    assert.equal(skipped.healthy, true, skipped.message);
  });

  it('reports the server certificate expiry with skipVerify too, from an untrusted certificate', async () => {
    // No CA given: the server's certificate is not trusted, and skipVerify accepts it unverified.
    const untrusted = await grpcChecker({ address: tls.address, tls: { skipVerify: true } }).healthCheck(
      never(),
    );
    assert.equal(untrusted.message, `${tls.address} is SERVING`);
    assert.deepEqual(untrusted.details, {
      status: 'SERVING',
      serverCertificateNotAfter: '2099-12-31T00:00:00.000Z',
    });
    // An expired certificate accepted with skipVerify is named, as the HTTP-based checkers name it.
    const stale = await grpcChecker({ address: expired.address, tls: { skipVerify: true } }).healthCheck(
      never(),
    );
    assert.equal(stale.healthy, true, stale.message);
    assert.equal(stale.degraded, true);
    assert.match(
      stale.message ?? '',
      / is SERVING \(server certificate expired .+ ago, on \d{4}-\d\d-\d\d\)$/,
    );
    assert.equal(typeof stale.details?.serverCertificateNotAfter, 'string');
  });

  it('presents a client certificate for mutual TLS, and says when it is missing or refused', async () => {
    const good = await grpcChecker({
      address: mutual.address,
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    }).healthCheck(never());
    assert.equal(good.healthy, true, good.message);
    assert.equal(good.details?.clientCertificateNotAfter, '2099-12-31T00:00:00.000Z');
    // Both certificates of the test PKI end on 2099-12-31: six days ahead on this clock, both are named.
    const nearEnd = await grpcChecker({
      address: mutual.address,
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      clock: new ManualClock(Date.parse('2099-12-25T00:00:00Z')),
    }).healthCheck(never());
    assert.equal(
      nearEnd.message,
      `${mutual.address} is SERVING (server certificate expires in 6 d, on 2099-12-31; client certificate expires in 6 d, on 2099-12-31)`,
    );
    const missing = await grpcChecker({ address: mutual.address, tls: { ca: pki.ca.cert } }).healthCheck(
      never(),
    );
    assert.equal(
      missing.message,
      `${mutual.address}: UNAVAILABLE: TLS failure: the server requires a client certificate`,
    );
    // A certificate from a CA the server does not trust.
    const untrusted = await grpcChecker({
      address: mutual.address,
      tls: { ca: pki.ca.cert, cert: pki.otherCa.cert, key: pki.otherCa.key },
    }).healthCheck(never());
    assert.equal(untrusted.healthy, false);
    assert.match(
      untrusted.message ?? '',
      /: UNAVAILABLE: (TLS failure: the server (does not trust|rejected) the client certificate|the connection failed \(was the client certificate rejected\?\))$/,
    );
    const mismatch = await grpcChecker({
      address: mutual.address,
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.server.key },
    }).healthCheck(never());
    assert.equal(
      mismatch.message,
      `${mutual.address}: TLS setup failed: the client key does not belong to the client certificate`,
    );
  });

  it('never shows the client key, in reports or option errors', async () => {
    const keyBody = pki.client.key.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    const secrets = [pki.client.key, ...keyBody];
    const outputs: unknown[] = [];
    for (const address of [mutual.address, tls.address, `127.0.0.1:${await refusedPort()}`]) {
      for (const key of [pki.client.key, pki.server.key]) {
        outputs.push(
          await grpcChecker({
            address,
            tls: { ca: pki.otherCa.cert, cert: pki.client.cert, key },
          }).healthCheck(never()),
        );
      }
    }
    const hung = await grpcChecker({
      address: tls.address,
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    })
      .healthCheck(AbortSignal.abort())
      .catch((error: unknown) => error);
    outputs.push(String(hung), (hung as Error).stack);
    for (const bad of [
      {
        address: tls.address,
        tls: { key: pki.client.key.replace('-----BEGIN', 'BEGIN'), cert: pki.client.cert },
      },
      { address: tls.address, tls: { key: pki.client.key } },
      { address: tls.address, tls: { key: 42, cert: pki.client.cert } },
    ]) {
      try {
        grpcChecker(bad as never);
        assert.fail('expected an option error');
      } catch (error) {
        outputs.push((error as Error).message, JSON.stringify(error));
      }
    }
    const text = outputs
      .map((output) => (typeof output === 'string' ? output : JSON.stringify(output)))
      .join('\n');
    assert.deepEqual(leakedSecrets(text, secrets), []);
  });
});
