import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { httpChecker } from '../src/checkers/http.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { close, leakedSecrets, listen, refusedPort, trackSockets } from './support/listen.js';
import { createTestPki, type TestPki } from './support/tls.js';

const TOKEN = 'Bearer tok-3f9a1c7e5b2d4a6c8e0f';
const API_KEY = 'key-77c1d2e3f4a5b6c7';
const PASSWORD = 'pw-hunter2-0b1c2d3e';
const SECRETS = [
  TOKEN,
  'tok-3f9a1c7e5b2d4a6c8e0f',
  API_KEY,
  PASSWORD,
  Buffer.from(`admin:${PASSWORD}`).toString('base64'),
];

const never = (): AbortSignal => new AbortController().signal;
// A 64-character label is refused by the resolver library itself, so the lookup fails without a DNS query.
const UNRESOLVABLE = `${'x'.repeat(64)}.invalid`;

describe('httpChecker', () => {
  const clock = new ManualClock();
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/ok':
        res.end('all systems go');
        return;
      case '/no-content':
        res.writeHead(204).end();
        return;
      case '/down':
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('maintenance');
        return;
      case '/auth':
        if (req.headers.authorization === TOKEN && req.headers['x-api-key'] === API_KEY) res.end('welcome');
        else res.writeHead(401).end(`bad credentials: ${req.headers.authorization ?? ''}`);
        return;
      case '/basic':
        res
          .writeHead(
            req.headers.authorization === `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`
              ? 200
              : 401,
          )
          .end();
        return;
      case '/forbidden':
        res.writeHead(403).end();
        return;
      case '/redirect':
        res.writeHead(302, { Location: '/ok' }).end();
        return;
      case '/bad-location':
        res.writeHead(302, { Location: 'http://[not-an-ip/' }).end();
        return;
      case '/loop':
        res.writeHead(307, { Location: '/loop' }).end();
        return;
      case '/elsewhere':
        res.writeHead(302, { Location: `http://localhost:${other}/echo-headers?token=${API_KEY}` }).end();
        return;
      case '/slow':
        // The server "takes" 600 ms on the checker's clock before answering.
        void clock.advance(600).then(() => res.end('ok'));
        return;
      case '/hang':
        return; // never answers
      case '/stream': {
        // An endless body, like a server-sent event stream.
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('data: ready\n\n');
        const timer = setInterval(() => res.write(`data: ${'x'.repeat(64 * 1024)}\n\n`), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
  const sockets = trackSockets(server);
  const otherSeen: http.IncomingHttpHeaders[] = [];
  const otherServer = http.createServer((req, res) => {
    otherSeen.push(req.headers);
    res.end('other origin');
  });
  let base = '';
  let other = 0;
  before(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
    other = await listen(otherServer);
  });
  after(async () => {
    await close(server);
    await close(otherServer);
  });

  it('is healthy on a 2xx and says what answered', async () => {
    const checker = httpChecker({ url: `${base}/ok` });
    const report = await checker.healthCheck(never());
    assert.deepEqual(
      { healthy: report.healthy, message: report.message, details: report.details },
      { healthy: true, message: `GET ${base}/ok answered 200 OK`, details: { status: 200 } },
    );
    assert.ok((report.latency ?? -1) >= 0);
    assert.equal(checker.target, `${base}/ok`);
  });

  it('is unhealthy on an unexpected status, naming it and the expectation', async () => {
    const report = await httpChecker({ url: `${base}/down` }).healthCheck(never());
    assert.equal(report.healthy, false);
    assert.equal(report.message, `GET ${base}/down answered 503 Service Unavailable: expected 2xx`);
  });

  it('accepts a single code, a range or a class as expectedStatus', async () => {
    assert.equal(
      (await httpChecker({ url: `${base}/down`, expectedStatus: 503 }).healthCheck(never())).healthy,
      true,
    );
    assert.equal(
      (await httpChecker({ url: `${base}/no-content`, expectedStatus: [200, 204] }).healthCheck(never()))
        .healthy,
      true,
    );
    assert.equal(
      (await httpChecker({ url: `${base}/down`, expectedStatus: '5xx' }).healthCheck(never())).healthy,
      true,
    );
    const report = await httpChecker({ url: `${base}/ok`, expectedStatus: [201, 299] }).healthCheck(never());
    assert.equal(report.message, `GET ${base}/ok answered 200 OK: expected 201-299`);
    assert.equal(report.healthy, false);
  });

  it('checks the body with a string or a RegExp', async () => {
    assert.equal(
      (await httpChecker({ url: `${base}/ok`, bodyMatch: 'systems go' }).healthCheck(never())).healthy,
      true,
    );
    assert.equal(
      (await httpChecker({ url: `${base}/ok`, bodyMatch: /^all \w+ go$/g }).healthCheck(never())).healthy,
      true,
    );
    const global = httpChecker({ url: `${base}/ok`, bodyMatch: /systems/g });
    // A global RegExp keeps lastIndex between calls; the checker resets it so every check sees the same result.
    assert.equal((await global.healthCheck(never())).healthy, true);
    assert.equal((await global.healthCheck(never())).healthy, true);
    const report = await httpChecker({ url: `${base}/ok`, bodyMatch: 'ready' }).healthCheck(never());
    assert.equal(report.healthy, false);
    assert.equal(report.message, `GET ${base}/ok answered 200 OK but the body did not match "ready"`);
  });

  it('does not wait for the end of an endless body', async () => {
    const report = await httpChecker({ url: `${base}/stream` }).healthCheck(AbortSignal.timeout(30_000));
    assert.equal(report.healthy, true, report.message);
    const matched = await httpChecker({ url: `${base}/stream`, bodyMatch: 'data: ready' }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(matched.healthy, true, matched.message);
    const unmatched = await httpChecker({ url: `${base}/stream`, bodyMatch: /never there/ }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(
      unmatched.message,
      `GET ${base}/stream answered 200 OK but the body did not match /never there/`,
    );
  });

  it('does not follow redirects by default, and says so', async () => {
    const report = await httpChecker({ url: `${base}/redirect` }).healthCheck(never());
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `GET ${base}/redirect answered 302 Found: a redirect to ${base}/ok, not followed because followRedirects is off (expected 2xx)`,
    );
  });

  it('follows redirects when asked, up to a bound', async () => {
    const report = await httpChecker({ url: `${base}/redirect`, followRedirects: true }).healthCheck(never());
    assert.equal(report.healthy, true);
    assert.equal(report.message, `GET ${base}/ok answered 200 OK`);
    const invalid = await httpChecker({ url: `${base}/bad-location`, followRedirects: true }).healthCheck(
      never(),
    );
    assert.equal(invalid.message, `GET ${base}/bad-location: redirected to an invalid URL`);
    const loop = await httpChecker({ url: `${base}/loop`, followRedirects: 3 }).healthCheck(never());
    assert.equal(loop.healthy, false);
    assert.equal(loop.message, `GET ${base}/loop: more than 3 redirects`);
  });

  it('drops headers and credentials when a redirect leaves the origin, and masks query values', async () => {
    otherSeen.length = 0;
    const report = await httpChecker({
      url: `${base}/elsewhere`,
      headers: { Authorization: TOKEN },
      followRedirects: true,
    }).healthCheck(never());
    assert.equal(report.healthy, true);
    assert.equal(report.message, `GET http://localhost:${other}/echo-headers?token=*** answered 200 OK`);
    assert.equal(otherSeen.length, 1);
    assert.equal(otherSeen[0]?.authorization, undefined);
  });

  it('sends headers and URL credentials but never shows them, whatever happens', async () => {
    seen.length = 0;
    const headers = { Authorization: TOKEN, 'X-Api-Key': API_KEY };
    const good = await httpChecker({ url: `${base}/auth`, headers }).healthCheck(never());
    assert.equal(good.healthy, true);
    assert.equal(seen[0]?.authorization, TOKEN);
    assert.equal(seen[0]?.['x-api-key'], API_KEY);

    const basic = httpChecker({
      url: `http://admin:${PASSWORD}@127.0.0.1:${new URL(base).port}/basic?api_key=${API_KEY}`,
    });
    assert.equal((await basic.healthCheck(never())).healthy, true);
    assert.equal(basic.target, `${base}/basic?api_key=***`);

    const port = await refusedPort();
    const outputs: unknown[] = [
      basic.target,
      good,
      await httpChecker({
        url: `${base}/auth`,
        headers: { Authorization: 'Bearer wrong', 'X-Api-Key': API_KEY },
      }).healthCheck(never()),
      await httpChecker({ url: `${base}/down`, headers }).healthCheck(never()),
      await httpChecker({
        url: `http://admin:${PASSWORD}@127.0.0.1:${port}/?token=${API_KEY}`,
        headers,
      }).healthCheck(never()),
      await httpChecker({
        url: `http://admin:${PASSWORD}@127.0.0.1:${new URL(base).port}/auth?token=${API_KEY}`,
        headers: { 'X-Api-Key': API_KEY },
      }).healthCheck(never()),
      await httpChecker({ url: `${base}/elsewhere`, headers }).healthCheck(never()),
    ];
    const aborted = await httpChecker({
      url: `http://admin:${PASSWORD}@127.0.0.1:${new URL(base).port}/hang?token=${API_KEY}`,
      headers,
    })
      .healthCheck(AbortSignal.timeout(100))
      .catch((error: unknown) => error);
    assert.ok(aborted instanceof Error);
    outputs.push(aborted.message, aborted.stack, String(aborted.cause));
    for (const bad of [
      () => httpChecker({ url: `${base}/`, headers: { 'X-Api-Key': `${API_KEY}\r\nX-Evil: 1` } }),
      () => httpChecker({ url: `${base}/`, headers: { 'X-Api-Key': 42 as unknown as string } }),
    ]) {
      const error = (() => {
        try {
          bad();
        } catch (thrown) {
          return thrown;
        }
        return undefined;
      })();
      assert.ok(error instanceof TypeError);
      outputs.push(error.message);
    }
    const text = outputs
      .map((output) => (typeof output === 'string' ? output : JSON.stringify(output)))
      .join('\n');
    assert.deepEqual(leakedSecrets(text, SECRETS), []);
    assert.match(text, /answered 401 Unauthorized: authentication failed, check the credentials/);
    assert.match(text, new RegExp(`http://127\\.0\\.0\\.1:${port}/\\?token=\\*\\*\\*: connection refused`));
  });

  it('reports 403 as an authorisation problem', async () => {
    const report = await httpChecker({ url: `${base}/forbidden` }).healthCheck(never());
    assert.match(report.message ?? '', /answered 403 Forbidden: not authorised/);
  });

  it('is degraded when slower than slowThreshold, measured on the injected clock', async () => {
    const slow = await httpChecker({ url: `${base}/slow`, slowThreshold: 500, clock }).healthCheck(never());
    assert.deepEqual(
      { healthy: slow.healthy, degraded: slow.degraded, latency: slow.latency, message: slow.message },
      {
        healthy: true,
        degraded: true,
        latency: 600,
        message: `GET ${base}/slow answered 200 OK (slow: answered in 600 ms, above the 500 ms threshold)`,
      },
    );
    const fine = await httpChecker({ url: `${base}/slow`, slowThreshold: 1_000, clock }).healthCheck(never());
    assert.deepEqual(
      { healthy: fine.healthy, degraded: fine.degraded, latency: fine.latency },
      { healthy: true, degraded: undefined, latency: 600 },
    );
  });

  it('destroys the request when the signal aborts and leaves no listener', async () => {
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => server.once('request', () => resolve()));
    const pending = httpChecker({ url: `${base}/hang` }).healthCheck(controller.signal);
    await arrived;
    controller.abort(new DOMException('check timed out after 100 ms', 'TimeoutError'));
    await assert.rejects(pending, {
      name: 'TimeoutError',
      message: `timed out: ${base}/hang did not answer in time`,
    });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await sockets.closed();
    assert.equal(sockets.open.size, 0);
  });

  it('reports refused connections and DNS failures', async () => {
    const port = await refusedPort();
    const refused = await httpChecker({ url: `http://127.0.0.1:${port}/` }).healthCheck(never());
    assert.equal(refused.message, `GET http://127.0.0.1:${port}/: connection refused`);
    const dns = await httpChecker({ url: `http://${UNRESOLVABLE}/` }).healthCheck(
      AbortSignal.timeout(30_000),
    );
    assert.equal(dns.message, `GET http://${UNRESOLVABLE}/: DNS lookup failed: no such host`);
  });

  it('validates its options, naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [undefined, /options must be an object/],
      [{}, /url is required/],
      [{ url: 'not a url' }, /url is not a valid absolute URL/],
      [{ url: 'ftp://127.0.0.1/' }, /url must use http: or https:, got ftp:/],
      [{ url: 'http://127.0.0.1/', method: 'GE T' }, /method must be an HTTP method/],
      [
        { url: 'http://a:%E0%A4%A@127.0.0.1/' },
        /url has malformed percent-encoding in its user name or password/,
      ],
      [{ url: 'http://127.0.0.1/', expectedStatus: 99 }, /expectedStatus must be a status code.*got 99/],
      [{ url: 'http://127.0.0.1/', expectedStatus: [300, 200] }, /expectedStatus .* got an array/],
      [{ url: 'http://127.0.0.1/', expectedStatus: '2XX' }, /expectedStatus .* got "2XX"/],
      [{ url: 'http://127.0.0.1/', bodyMatch: 5 }, /bodyMatch must be a string or RegExp, got 5/],
      [
        { url: 'http://127.0.0.1/', headers: { 'bad name': 'x' } },
        /headers has an invalid header name "bad name"/,
      ],
      [{ url: 'http://127.0.0.1/', followRedirects: -1 }, /followRedirects must be a boolean or an integer/],
      [
        { url: 'http://127.0.0.1/', tls: { ca: '/etc/ssl/ca.pem' } },
        /tls\.ca must be PEM text starting with "-----BEGIN"/,
      ],
      [
        { url: 'http://127.0.0.1/', tls: { key: '-----BEGIN PRIVATE KEY-----' } },
        /tls\.cert and tls\.key must be given together/,
      ],
      [
        { url: 'http://127.0.0.1/', clock: {} },
        /clock must be an object with a now\(\) method, got an object/,
      ],
      [
        { url: 'http://127.0.0.1/', slowThreshold: 0 },
        /slowThreshold must be a finite number of milliseconds > 0, got 0/,
      ],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => httpChecker(options as never), message);
    }
  });
});

describe('httpChecker over TLS', () => {
  let pki: TestPki;
  const servers: https.Server[] = [];
  const ports: Record<string, number> = {};
  before(async () => {
    pki = await createTestPki();
    const start = async (name: string, options: https.ServerOptions): Promise<void> => {
      const server = https.createServer(options, (req, res) =>
        res.end(`hello ${req.socket.remoteAddress ?? ''}`),
      );
      servers.push(server);
      ports[name] = await listen(server);
    };
    await start('good', { cert: pki.server.cert, key: pki.server.key });
    await start('expired', { cert: pki.expired.cert, key: pki.expired.key });
    await start('wrongName', { cert: pki.wrongName.cert, key: pki.wrongName.key });
    await start('mutual', {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
    });
  });
  after(async () => {
    await Promise.all(servers.map((server) => close(server)));
    await pki.cleanup();
  });

  const url = (name: string): string => `https://127.0.0.1:${ports[name]}/`;

  it('does not present its client certificate to another origin it is redirected to', async () => {
    const presented: boolean[] = [];
    const observer = https.createServer(
      { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        presented.push(
          Object.keys((req.socket as import('node:tls').TLSSocket).getPeerCertificate()).length > 0,
        );
        res.end('observed');
      },
    );
    const observerPort = await listen(observer);
    const origin = https.createServer(
      {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        presented.push(true);
        res.writeHead(302, { location: `https://127.0.0.1:${observerPort}/` }).end();
      },
    );
    const originPort = await listen(origin);
    try {
      const report = await httpChecker({
        url: `https://127.0.0.1:${originPort}/`,
        tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
        followRedirects: true,
      }).healthCheck(never());
      assert.equal(report.healthy, true, report.message);
      assert.deepEqual(presented, [true, false], 'the origin got the certificate, the other host did not');
    } finally {
      await Promise.all([close(observer), close(origin)]);
    }
  });

  it('is healthy with the right CA', async () => {
    const report = await httpChecker({ url: url('good'), tls: { ca: pki.ca.cert } }).healthCheck(never());
    assert.equal(report.healthy, true);
  });

  it('names the TLS failure: unknown CA, expired, name mismatch', async () => {
    const unknown = await httpChecker({ url: url('good'), tls: { ca: pki.otherCa.cert } }).healthCheck(
      never(),
    );
    assert.equal(
      unknown.message,
      `GET ${url('good')}: TLS failure: the server certificate is signed by an unknown CA`,
    );
    const expired = await httpChecker({ url: url('expired'), tls: { ca: pki.ca.cert } }).healthCheck(never());
    assert.equal(expired.message, `GET ${url('expired')}: TLS failure: the server certificate has expired`);
    const wrong = await httpChecker({ url: url('wrongName'), tls: { ca: pki.ca.cert } }).healthCheck(never());
    assert.equal(
      wrong.message,
      `GET ${url('wrongName')}: TLS failure: the server certificate does not match the host name`,
    );
    const named = await httpChecker({
      url: url('wrongName'),
      tls: { ca: pki.ca.cert, serverName: 'wrong-name.invalid' },
    }).healthCheck(never());
    assert.equal(named.healthy, true, named.message);
    const skipped = await httpChecker({ url: url('expired'), tls: { skipVerify: true } }).healthCheck(
      never(),
    );
    assert.equal(skipped.healthy, true, skipped.message);
  });

  it('reports unusable TLS material without quoting it', async () => {
    const badKey = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n';
    const unreadable = await httpChecker({
      url: url('good'),
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: badKey },
    }).healthCheck(never());
    assert.equal(
      unreadable.message,
      `GET ${url('good')}: TLS setup failed: a certificate or key could not be used (ERR_OSSL_UNSUPPORTED)`,
    );
    const mismatched = await httpChecker({
      url: url('good'),
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.server.key },
    }).healthCheck(never());
    assert.equal(
      mismatched.message,
      `GET ${url('good')}: TLS setup failed: the client key does not belong to the client certificate`,
    );
    assert.deepEqual(
      leakedSecrets(JSON.stringify([unreadable, mismatched]), [pki.server.key, 'bm90IGEga2V5']),
      [],
    );
  });

  it('sends a client certificate, and says when the server wants one', async () => {
    const mutual = await httpChecker({
      url: url('mutual'),
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    }).healthCheck(never());
    assert.equal(mutual.healthy, true, mutual.message);
    const missing = await httpChecker({ url: url('mutual'), tls: { ca: pki.ca.cert } }).healthCheck(never());
    assert.equal(missing.healthy, false);
    assert.equal(
      missing.message,
      `GET ${url('mutual')}: TLS failure: the server requires a client certificate`,
    );
    const untrusted = await httpChecker({
      url: url('mutual'),
      tls: { ca: pki.ca.cert, cert: pki.otherCa.cert, key: pki.otherCa.key },
    }).healthCheck(never());
    assert.equal(untrusted.healthy, false);
    // Depending on timing, the client reads the server's "unknown CA" alert or only the reset that follows it.
    assert.match(
      untrusted.message ?? '',
      /: (TLS failure: the server does not trust the client certificate \(unknown CA\)|the connection was reset by the peer \(was the client certificate rejected\?\))$/,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify(untrusted), [pki.otherCa.key, pki.client.key]), []);
  });
});
