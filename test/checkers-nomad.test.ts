import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { nomadChecker } from '../src/checkers/nomad.js';
import { close, leakedSecrets, listen, refusedPort, trackSockets } from './support/listen.js';
import { createTestPki, type TestPki } from './support/tls.js';

const TOKEN = '3f1c2a7e-9b8d-4c6e-a5f4-0d1e2c3b4a59';
const never = (): AbortSignal => new AbortController().signal;

interface Seen {
  readonly url: string;
  readonly token: string | undefined;
}

/** An agent that answers /v1/agent/health as Nomad documents it; `reply` is what the next request gets. */
function fakeAgent(
  seen: Seen[],
  reply: () => [number, unknown, Record<string, string>?],
): http.RequestListener {
  return (req, res) => {
    const token = req.headers['x-nomad-token'];
    seen.push({ url: req.url ?? '', token: typeof token === 'string' ? token : undefined });
    if (!(req.url ?? '').startsWith('/v1/agent/health')) {
      res.writeHead(404).end();
      return;
    }
    const [status, body, headers] = reply();
    if (status === 0) return; // hang
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

describe('nomadChecker over HTTP', () => {
  const seen: Seen[] = [];
  let reply: () => [number, unknown, Record<string, string>?] = () => [200, {}];
  const server = http.createServer(fakeAgent(seen, () => reply()));
  const sockets = trackSockets(server);
  let address = '';
  before(async () => {
    address = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => close(server));

  const check = (options: Parameters<typeof nomadChecker>[0] = {}) =>
    nomadChecker({ address, token: TOKEN, ...options }).healthCheck(never());

  it('is healthy when every role is ok, and sends X-Nomad-Token', async () => {
    seen.length = 0;
    reply = () => [200, { client: { ok: true, message: 'ok' }, server: { ok: true, message: 'ok' } }];
    const report = await check();
    assert.equal(report.healthy, true);
    assert.equal(report.degraded, undefined);
    assert.equal(report.message, `Nomad agent at ${address}: client ok, server ok`);
    assert.deepEqual(seen, [{ url: '/v1/agent/health', token: TOKEN }]);
    assert.deepEqual(report.details, {
      status: 200,
      client: { ok: true, message: 'ok' },
      server: { ok: true, message: 'ok' },
    });
  });

  it('accepts a body with one role only', async () => {
    reply = () => [200, { client: { ok: true, message: 'ok' } }];
    assert.equal((await check()).message, `Nomad agent at ${address}: client ok`);
  });

  it('is degraded when one role fails (Nomad answers 500 with the same body)', async () => {
    reply = () => [
      500,
      { client: { ok: true, message: 'ok' }, server: { ok: false, message: 'No cluster leader' } },
    ];
    const report = await check();
    assert.equal(report.healthy, true);
    assert.equal(report.degraded, true);
    assert.equal(report.message, `Nomad agent at ${address}: client ok (server: No cluster leader)`);
  });

  it('is unhealthy when every role fails, showing the reasons of the 500', async () => {
    reply = () => [
      500,
      {
        client: { ok: false, message: 'no known servers' },
        server: { ok: false, message: 'No cluster leader' },
      },
    ];
    const report = await check();
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `Nomad agent at ${address}: client: no known servers; server: No cluster leader`,
    );
  });

  it('counts a 3xx as unhealthy (the original counted it healthy)', async () => {
    reply = () => [307, '', { Location: '/elsewhere' }];
    const report = await check();
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `Nomad agent at ${address}: /v1/agent/health answered 307 Temporary Redirect: a redirect, not a health answer`,
    );
  });

  it('reports a rejected token as an ACL problem without showing it', async () => {
    reply = () => [403, `Permission denied for token ${TOKEN}`];
    const report = await check();
    assert.equal(
      report.message,
      `Nomad agent at ${address}: /v1/agent/health answered 403 Forbidden: the ACL token was rejected (check NOMAD_TOKEN)`,
    );
  });

  it('reports other statuses, non-JSON 500s and non-report 200s as unhealthy', async () => {
    reply = () => [502, 'bad gateway'];
    assert.equal(
      (await check()).message,
      `Nomad agent at ${address}: /v1/agent/health answered 502 Bad Gateway`,
    );
    reply = () => [500, 'panic: oops'];
    assert.equal(
      (await check()).message,
      `Nomad agent at ${address}: /v1/agent/health answered 500 Internal Server Error`,
    );
    reply = () => [200, '<html>a captive portal</html>'];
    const html = await check();
    assert.equal(html.healthy, false);
    assert.equal(
      html.message,
      `Nomad agent at ${address}: /v1/agent/health answered 200 OK, but its body is not a Nomad health report`,
    );
  });

  it('adds the region parameter, from the option or NOMAD_REGION', async () => {
    reply = () => [200, { server: { ok: true, message: 'ok' } }];
    seen.length = 0;
    await check({ region: 'eu-west' });
    await nomadChecker({
      env: { NOMAD_ADDR: address, NOMAD_TOKEN: TOKEN, NOMAD_REGION: 'us east' },
    }).healthCheck(never());
    assert.deepEqual(seen, [
      { url: '/v1/agent/health?region=eu-west', token: TOKEN },
      { url: '/v1/agent/health?region=us+east', token: TOKEN },
    ]);
  });

  it('reads NOMAD_ADDR and NOMAD_TOKEN, and defaults to http://127.0.0.1:4646', () => {
    assert.equal(nomadChecker({ env: { NOMAD_ADDR: address } }).target, address);
    assert.equal(nomadChecker({ env: {} }).target, 'http://127.0.0.1:4646');
    assert.equal(
      nomadChecker({ address: `http://user:pw@127.0.0.1:1234/`, env: {} }).target,
      'http://127.0.0.1:1234',
    );
  });

  it('says "connection refused" when no agent listens', async () => {
    const port = await refusedPort();
    const report = await nomadChecker({ address: `http://127.0.0.1:${port}`, env: {} }).healthCheck(never());
    assert.equal(report.message, `Nomad agent at http://127.0.0.1:${port}: connection refused`);
  });

  it('is degraded when slower than slowThreshold', async () => {
    reply = () => [200, { server: { ok: true, message: 'ok' } }];
    const report = await check({ slowThreshold: 1e-6 });
    assert.equal(report.degraded, true);
    assert.match(report.message ?? '', /server ok \(slow: answered in \d+ ms/);
  });

  it('aborts a hanging request, leaving no socket and no listener', async () => {
    reply = () => [0, ''];
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => server.once('request', () => resolve()));
    const pending = nomadChecker({ address, token: TOKEN }).healthCheck(controller.signal);
    await arrived;
    controller.abort(new DOMException('check timed out after 200 ms', 'TimeoutError'));
    await assert.rejects(pending, {
      name: 'TimeoutError',
      message: `timed out: ${address} did not answer in time`,
    });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await sockets.closed();
    assert.equal(sockets.open.size, 0);
  });

  it('never shows the token, whatever the outcome', async () => {
    const outputs: unknown[] = [];
    for (const next of [
      (): [number, unknown] => [403, `token ${TOKEN} denied`],
      (): [number, unknown] => [500, { server: { ok: false, message: 'No cluster leader' } }],
      (): [number, unknown] => [200, { client: { ok: true, message: 'ok' } }],
    ]) {
      reply = next;
      outputs.push(await check());
    }
    const aborted = await nomadChecker({ address, token: TOKEN })
      .healthCheck(AbortSignal.timeout(1))
      .catch((error: unknown) => error);
    outputs.push(String(aborted), nomadChecker({ address, token: TOKEN }).target);
    for (const bad of [{ token: `${TOKEN}\n` }, { address: `http://${TOKEN}@` }]) {
      try {
        nomadChecker({ address, ...bad });
      } catch (error) {
        outputs.push(String(error));
      }
    }
    assert.deepEqual(leakedSecrets(JSON.stringify(outputs), [TOKEN]), []);
  });

  it('validates its options, naming them', () => {
    assert.throws(
      () => nomadChecker({ address: 'ftp://x' }),
      /nomadChecker: address must be an http:\/\/ or https:\/\/ URL, got ftp:\/\//,
    );
    assert.throws(
      () => nomadChecker({ env: { NOMAD_ADDR: '127.0.0.1:4646' } }),
      /NOMAD_ADDR must be an http:\/\/ or https:\/\/ URL/,
    );
    assert.throws(
      () => nomadChecker({ env: { NOMAD_SKIP_VERIFY: 'maybe' } }),
      /NOMAD_SKIP_VERIFY must be true or false, got "maybe"/,
    );
    assert.throws(() => nomadChecker({ token: '' }), /token must be a non-empty string/);
    assert.throws(() => nomadChecker({ region: 5 as never }), /region must be a non-empty string, got 5/);
    assert.throws(
      () => nomadChecker({ env: { NOMAD_CLIENT_CERT: '/x.pem' } }),
      /NOMAD_CLIENT_CERT\/NOMAD_CLIENT_KEY\)\.cert and .*key must be given together/,
    );
    assert.throws(() => nomadChecker({ slowThreshold: Infinity }), { name: 'RangeError' });
  });
});

describe('nomadChecker over mutual TLS', () => {
  let pki: TestPki;
  const seen: Seen[] = [];
  const servers: https.Server[] = [];
  let address = '';
  let wrongNameAddress = '';
  const healthy = (): [number, unknown] => [
    200,
    { client: { ok: true, message: 'ok' }, server: { ok: true, message: 'ok' } },
  ];
  before(async () => {
    pki = await createTestPki();
    const mutual = { ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true };
    const good = https.createServer(
      { ...mutual, cert: pki.server.cert, key: pki.server.key },
      fakeAgent(seen, healthy),
    );
    const wrongName = https.createServer(
      { ...mutual, cert: pki.wrongName.cert, key: pki.wrongName.key },
      fakeAgent(seen, healthy),
    );
    servers.push(good, wrongName);
    address = `https://127.0.0.1:${await listen(good)}`;
    wrongNameAddress = `https://127.0.0.1:${await listen(wrongName)}`;
  });
  after(async () => {
    await Promise.all(servers.map((server) => close(server)));
    await pki?.cleanup();
  });

  it('is healthy with NOMAD_CACERT, NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY files', async () => {
    seen.length = 0;
    const env = {
      NOMAD_ADDR: address,
      NOMAD_TOKEN: TOKEN,
      NOMAD_CACERT: pki.ca.certPath,
      NOMAD_CLIENT_CERT: pki.client.certPath,
      NOMAD_CLIENT_KEY: pki.client.keyPath,
    };
    const report = await nomadChecker({ env }).healthCheck(never());
    assert.equal(report.healthy, true, report.message);
    assert.deepEqual(seen, [{ url: '/v1/agent/health', token: TOKEN }]);
  });

  it('is healthy with PEM contents in the tls option', async () => {
    const report = await nomadChecker({
      address,
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      env: {},
    }).healthCheck(never());
    assert.equal(report.healthy, true, report.message);
  });

  it('honours NOMAD_TLS_SERVER_NAME and NOMAD_SKIP_VERIFY', async () => {
    const env = {
      NOMAD_CACERT: pki.ca.certPath,
      NOMAD_CLIENT_CERT: pki.client.certPath,
      NOMAD_CLIENT_KEY: pki.client.keyPath,
    };
    const mismatch = await nomadChecker({ address: wrongNameAddress, env }).healthCheck(never());
    assert.equal(
      mismatch.message,
      `Nomad agent at ${wrongNameAddress}: TLS failure: the server certificate does not match the host name`,
    );
    const named = await nomadChecker({
      address: wrongNameAddress,
      env: { ...env, NOMAD_TLS_SERVER_NAME: 'wrong-name.invalid' },
    }).healthCheck(never());
    assert.equal(named.healthy, true, named.message);
    const skipped = await nomadChecker({
      address: wrongNameAddress,
      env: {
        NOMAD_SKIP_VERIFY: 'true',
        NOMAD_CLIENT_CERT: pki.client.certPath,
        NOMAD_CLIENT_KEY: pki.client.keyPath,
      },
    }).healthCheck(never());
    assert.equal(skipped.healthy, true, skipped.message);
  });

  it('names the TLS failure and never shows the key or token', async () => {
    const missingCert = await nomadChecker({
      address,
      token: TOKEN,
      env: { NOMAD_CACERT: pki.ca.certPath },
    }).healthCheck(never());
    assert.equal(
      missingCert.message,
      `Nomad agent at ${address}: TLS failure: the server requires a client certificate`,
    );
    const unknownCa = await nomadChecker({
      address,
      token: TOKEN,
      env: {
        NOMAD_CACERT: pki.otherCa.certPath,
        NOMAD_CLIENT_CERT: pki.client.certPath,
        NOMAD_CLIENT_KEY: pki.client.keyPath,
      },
    }).healthCheck(never());
    assert.equal(
      unknownCa.message,
      `Nomad agent at ${address}: TLS failure: the server certificate is signed by an unknown CA`,
    );
    const missingFile = await nomadChecker({
      address,
      env: { NOMAD_CACERT: `${pki.dir}/absent.pem` },
    }).healthCheck(never());
    assert.equal(
      missingFile.message,
      `Nomad agent at ${address}: cannot read NOMAD_CACERT (${pki.dir}/absent.pem): no such file`,
    );
    assert.deepEqual(
      leakedSecrets(JSON.stringify([missingCert, unknownCa, missingFile]), [TOKEN, pki.client.key]),
      [],
    );
  });
});
