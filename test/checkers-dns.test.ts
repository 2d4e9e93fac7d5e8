import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { dnsChecker, DNS_ATTEMPT_TIMEOUT, DNS_TOTAL_TIMEOUT, DNS_TRIES } from '../src/checkers/dns.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';
import { startDnsServer, type DnsServer } from './support/dns-server.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const never = (): AbortSignal => new AbortController().signal;

/** Handles a resolver may hold while it queries. */
const dnsHandles = (): number =>
  process.getActiveResourcesInfo().filter((name) => /UDP|QueryReqWrap|GetAddrInfo|ChannelWrap/.test(name))
    .length;

describe('dnsChecker', () => {
  let dns: DnsServer;
  let servers: string[];
  before(async () => {
    dns = await startDnsServer({
      'api.test': { A: ['10.0.0.1', '10.0.0.2'], AAAA: ['2001:db8::1'] },
      'www.test': { CNAME: 'api.test' },
      '_http._tcp.api.test': { SRV: [{ priority: 10, weight: 5, port: 8080, target: 'api.test' }] },
      'txt.test': { TXT: [['v=spf1 ', '-all'], ['hello']] },
      'many.test': { A: Array.from({ length: 40 }, (_, i) => `10.1.0.${i + 1}`) },
      'servfail.test': { behaviour: 'servfail' },
      'refused.test': { behaviour: 'refused' },
      'silent.test': { behaviour: 'silent' },
    });
    servers = [dns.address];
  });
  after(() => dns.close());

  it('resolves A records and reports the answers', async () => {
    const checker = dnsChecker({ name: 'api.test', servers });
    assert.equal(checker.target, `api.test A via ${dns.address}`);
    const report = await checker.healthCheck(never());
    assert.deepEqual(
      { healthy: report.healthy, message: report.message, details: report.details },
      {
        healthy: true,
        message: `api.test A via ${dns.address} resolved to 10.0.0.1, 10.0.0.2`,
        details: { type: 'A', answers: ['10.0.0.1', '10.0.0.2'] },
      },
    );
    assert.ok((report.latency ?? -1) >= 0);
    assert.ok(dns.queries.includes('api.test A'));
  });

  it('resolves AAAA, CNAME, SRV and TXT records', async () => {
    const cases: [Parameters<typeof dnsChecker>[0], readonly string[], string][] = [
      [{ name: 'api.test', type: 'AAAA', servers }, ['2001:db8::1'], '2001:db8::1'],
      [{ name: 'www.test', type: 'CNAME', servers }, ['api.test'], 'api.test'],
      [{ name: '_http._tcp.api.test', type: 'SRV', servers }, ['api.test:8080'], 'api.test:8080'],
      [{ name: 'txt.test', type: 'TXT', servers }, ['v=spf1 -all', 'hello'], '"v=spf1 -all", "hello"'],
    ];
    for (const [options, answers, shown] of cases) {
      const report = await dnsChecker(options).healthCheck(never());
      assert.equal(report.healthy, true, report.message);
      assert.deepEqual(report.details?.answers, answers);
      assert.equal(report.message, `${options.name} ${options.type} via ${dns.address} resolved to ${shown}`);
    }
    const srv = await dnsChecker({ name: '_http._tcp.api.test', type: 'SRV', servers }).healthCheck(never());
    assert.deepEqual(srv.details?.srv, [{ name: 'api.test', port: 8080, priority: 10, weight: 5 }]);
  });

  it('checks expected values, however they are written', async () => {
    const fine = await dnsChecker({ name: 'api.test', servers, expect: ['10.0.0.2'] }).healthCheck(never());
    assert.equal(fine.healthy, true, fine.message);
    const v6 = await dnsChecker({
      name: 'api.test',
      type: 'AAAA',
      servers,
      expect: '2001:0db8:0000:0000:0000:0000:0000:0001',
    }).healthCheck(never());
    assert.equal(v6.healthy, true, v6.message);
    const srv = await dnsChecker({
      name: '_http._tcp.api.test',
      type: 'srv' as never,
      servers,
      expect: 'API.test.:8080',
    }).healthCheck(never());
    assert.equal(srv.healthy, true, srv.message);
    const missing = await dnsChecker({
      name: 'api.test',
      servers,
      expect: ['10.0.0.1', '10.0.0.9'],
    }).healthCheck(never());
    assert.equal(missing.healthy, false);
    assert.equal(
      missing.message,
      `api.test A via ${dns.address} resolved to 10.0.0.1, 10.0.0.2, missing the expected 10.0.0.9`,
    );
    assert.deepEqual(missing.details?.answers, ['10.0.0.1', '10.0.0.2']);
  });

  it('bounds the answers shown and kept', async () => {
    const report = await dnsChecker({ name: 'many.test', servers }).healthCheck(never());
    assert.equal(
      report.message,
      `many.test A via ${dns.address} resolved to 10.1.0.1, 10.1.0.2, 10.1.0.3, 10.1.0.4, 10.1.0.5 and 35 more`,
    );
    assert.equal((report.details?.answers as string[]).length, 32);
  });

  it('names NXDOMAIN, no records of the type, SERVFAIL and REFUSED', async () => {
    const cases: [string, 'A' | 'TXT', string, string][] = [
      ['nowhere.test', 'A', 'no such name (NXDOMAIN)', 'ENOTFOUND'],
      ['www.test', 'TXT', 'the name exists but has no TXT records', 'ENODATA'],
      ['servfail.test', 'A', 'the server failed to answer (SERVFAIL)', 'ESERVFAIL'],
      ['refused.test', 'A', 'the server refused the query (REFUSED)', 'EREFUSED'],
    ];
    for (const [name, type, reason, code] of cases) {
      const report = await dnsChecker({ name, type, servers }).healthCheck(AbortSignal.timeout(30_000));
      assert.equal(report.healthy, false);
      assert.equal(report.message, `${name} ${type} via ${dns.address}: ${reason}`);
      assert.deepEqual(report.details, { type, code });
    }
  });

  it(
    'says when the server never answers, within a bounded number of tries',
    { timeout: 60_000 },
    async () => {
      const before = dns.queries.filter((query) => query === 'silent.test A').length;
      const started = Date.now();
      const report = await dnsChecker({ name: 'silent.test', servers }).healthCheck(never());
      const took = Date.now() - started;
      assert.equal(
        report.message,
        `silent.test A via ${dns.address}: no answer in time (timeout after ${DNS_TRIES} tries)`,
      );
      assert.deepEqual(report.details, { type: 'A', code: 'ETIMEOUT' });
      const asked = dns.queries.filter((query) => query === 'silent.test A').length - before;
      assert.equal(asked, DNS_TRIES);
      // c-ares doubles the wait for each retry: 1 s + 2 s.
      assert.ok(took >= DNS_ATTEMPT_TIMEOUT && took < 20_000, `took ${took} ms`);
    },
  );

  for (const count of [3, 5]) {
    it(
      `with ${count} silent servers, asks each once and ends inside the 4 s total, naming "no answer"`,
      { timeout: 60_000 },
      async () => {
        const silent = await Promise.all(
          Array.from({ length: count }, () => startDnsServer({ 'silent.test': { behaviour: 'silent' } })),
        );
        try {
          const addresses = silent.map((server) => server.address);
          const started = Date.now();
          // No signal: the checker's own bound is what ends it.
          const report = await dnsChecker({ name: 'silent.test', servers: addresses }).healthCheck(never());
          const took = Date.now() - started;
          assert.equal(
            report.message,
            `silent.test A via ${addresses.join(', ')}: no answer in time (1 try each of ${count} servers)`,
          );
          assert.deepEqual(report.details, { type: 'A', code: 'ETIMEOUT' });
          assert.ok(took < DNS_TOTAL_TIMEOUT + 500, `took ${took} ms`);
          assert.deepEqual(
            silent.map((server) => server.queries.length),
            silent.map(() => 1),
            'every server asked once within the total',
          );
        } finally {
          await Promise.all(silent.map((server) => server.close()));
        }
      },
    );
  }

  it('the 4 s total runs on the injected clock and cancels the query', { timeout: 30_000 }, async () => {
    const baseline = dnsHandles();
    const before = dns.queries.length;
    const clock = new ManualClock(Date.now());
    const started = Date.now();
    const pending = dnsChecker({ name: 'silent.test', servers, clock }).healthCheck(never());
    for (let i = 0; i < 500 && dns.queries.length === before; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(dns.queries.length > before, 'the server was asked');
    await clock.advance(DNS_TOTAL_TIMEOUT);
    const report = await pending;
    assert.ok(Date.now() - started < DNS_ATTEMPT_TIMEOUT, 'ended by the total, not by the resolver');
    assert.equal(
      report.message,
      `silent.test A via ${dns.address}: no answer in time (timeout after ${DNS_TRIES} tries)`,
    );
    assert.deepEqual(report.details, { type: 'A', code: 'ETIMEOUT' });
    const deadline = Date.now() + 10_000;
    while (dnsHandles() > baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(dnsHandles() <= baseline, String(process.getActiveResourcesInfo()));
  });

  it('cancels the query when the signal aborts (the check timeout holds) and leaves nothing behind', async () => {
    const baseline = dnsHandles();
    const signal = AbortSignal.timeout(200);
    const started = Date.now();
    await assert.rejects(dnsChecker({ name: 'silent.test', servers }).healthCheck(signal), {
      name: 'TimeoutError',
      message: `timed out: silent.test A via ${dns.address} did not answer in time`,
    });
    assert.ok(Date.now() - started < DNS_ATTEMPT_TIMEOUT, 'did not wait for the resolver timeout');
    assert.equal(getEventListeners(signal, 'abort').length, 0);
    const deadline = Date.now() + 10_000;
    while (dnsHandles() > baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(dnsHandles() <= baseline, String(process.getActiveResourcesInfo()));

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(dnsChecker({ name: 'api.test', servers }).healthCheck(controller.signal), {
      name: 'AbortError',
    });
  });

  it(
    'runs under a cache whose check timeout is shorter than the resolver timeout',
    { timeout: 30_000 },
    async () => {
      const registry = new ProviderRegistry();
      registry.register('dns', dnsChecker({ name: 'silent.test', servers }));
      registry.register('ok', dnsChecker({ name: 'api.test', servers }));
      const cache = new HealthCache(registry, { pollInterval: 60_000, checkTimeout: 300 });
      try {
        await cache.checkNow();
        assert.equal(cache.get('dns')?.healthy, false);
        assert.match(cache.get('dns')?.message ?? '', /timed out/);
        assert.equal(cache.get('ok')?.healthy, true, cache.get('ok')?.message);
      } finally {
        cache.dispose();
      }
    },
  );

  it('says "connection refused" when no DNS server listens on the port', { timeout: 60_000 }, async () => {
    const socket = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) =>
      socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)),
    );
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const report = await dnsChecker({ name: 'api.test', servers: [`127.0.0.1:${port}`] }).healthCheck(
      never(),
    );
    assert.equal(report.healthy, false);
    assert.match(
      report.message ?? '',
      new RegExp(
        `^api\\.test A via 127\\.0\\.0\\.1:${port}: (connection refused \\(no DNS server on that address\\)|no answer in time)`,
      ),
    );
  });

  it('is degraded when slower than slowThreshold, measured on the injected clock', async () => {
    // The clock reads 1000 when the check starts and 1600 when the answer is in.
    const readings = [1_000, 1_600];
    const clock = { now: () => readings.shift() ?? 1_600 };
    const report = await dnsChecker({ name: 'api.test', servers, slowThreshold: 500, clock }).healthCheck(
      never(),
    );
    assert.equal(report.degraded, true);
    assert.equal(report.latency, 600);
    assert.match(report.message ?? '', /resolved to 10\.0\.0\.1, 10\.0\.0\.2 \(slow: answered in 600 ms/);
  });

  it('uses the system resolver without servers', async () => {
    const checker = dnsChecker({ name: 'localhost.invalid' });
    assert.equal(checker.target, 'localhost.invalid A');
    const report = await checker.healthCheck(AbortSignal.timeout(20_000)).catch((error: Error) => error);
    // Whatever the machine's resolver says, the check settles with a report naming the target.
    if (report instanceof Error) assert.equal(report.name, 'TimeoutError');
    else assert.match(report.message ?? '', /^localhost\.invalid A/);
  });

  it('validates its options, naming the option', () => {
    const bad: [unknown, RegExp, string][] = [
      [undefined, /^dnsChecker: options must be an object, got undefined$/, 'TypeError'],
      [{}, /^dnsChecker: name must be given \(a DNS name\), got undefined$/, 'TypeError'],
      [{ name: 'a b.test' }, /^dnsChecker: name must be a DNS name .*, got "a b\.test"$/, 'TypeError'],
      [{ name: `${'x'.repeat(64)}.test` }, /name must be a DNS name/, 'TypeError'],
      [
        { name: 'a.test', type: 'MX' },
        /^dnsChecker: type must be one of A, AAAA, CNAME, SRV, TXT, got "MX"$/,
        'TypeError',
      ],
      [{ name: 'a.test', servers: '10.0.0.53' }, /servers must be an array of IP addresses/, 'TypeError'],
      [{ name: 'a.test', servers: [] }, /servers must be from 1 to 8 addresses/, 'RangeError'],
      [
        { name: 'a.test', servers: ['dns.google'] },
        /^dnsChecker: servers\[0\] must be an IP address with an optional port/,
        'TypeError',
      ],
      [{ name: 'a.test', servers: ['10.0.0.53:0'] }, /servers\[0\] must be an IP address/, 'TypeError'],
      [
        { name: 'a.test', expect: 'not-an-ip' },
        /^dnsChecker: expect must be one of the A answers' IPv4 addresses, got "not-an-ip"$/,
        'TypeError',
      ],
      [
        { name: 'a.test', type: 'SRV', expect: ['a.test'] },
        /expect\[0\] must be one of the SRV answers' host:port strings/,
        'TypeError',
      ],
      [{ name: 'a.test', expect: [''] }, /expect\[0\] must be a non-empty string/, 'TypeError'],
      [
        { name: 'a.test', expect: Array(65).fill('10.0.0.1') },
        /expect must be at most 64 values/,
        'RangeError',
      ],
      [
        { name: 'a.test', slowThreshold: -1 },
        /slowThreshold must be a finite number of milliseconds > 0/,
        'RangeError',
      ],
      [{ name: 'a.test', clock: 5 }, /clock must be an object with a now\(\) method/, 'TypeError'],
    ];
    for (const [options, message, name] of bad) {
      assert.throws(() => dnsChecker(options as never), { name, message }, String(message));
    }
    assert.equal(
      dnsChecker({ name: 'a.test', type: 'AAAA', servers: ['[::1]:5353', '10.0.0.53'] }).target,
      'a.test AAAA via [::1]:5353, 10.0.0.53',
    );
  });
});
