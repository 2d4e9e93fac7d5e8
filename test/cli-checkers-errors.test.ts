import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/cli/config.js';
import { optionPath } from '../src/cli/option-errors.js';
import { parseDuration } from '../src/cli/duration.js';
import { cliEnv, runMain } from './support/cli.js';
import { startDnsServer, type DnsServer } from './support/dns-server.js';

/**
 * Bad keys of the grpc and dns provider types, certExpiryWarning, the
 * opt-in checks and server.publishInterval: each error names the file, the
 * line and the key (an array item's own line), exits 2, contacts nothing,
 * and never prints a key file's contents.
 */
describe('CLI config errors of the grpc and dns checkers and the new options', () => {
  let dir = '';
  let dns: DnsServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-checkers-errors-'));
    // A bad config must never query it.
    dns = await startDnsServer({ 'api.test': { A: ['10.0.0.1'] } });
  });
  after(async () => {
    await dns?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runWith(name: string, text: string, command: 'check' | 'serve' = 'check') {
    await writeFile(join(dir, name), text);
    const args =
      command === 'serve' ? ['serve', '--config', name, '--port', '0'] : ['check', '--config', name];
    return runMain(args, { cwd: dir, env: cliEnv({ HOME: dir }), timeout: 20_000 });
  }

  function assertConfigError(
    result: { code: number | null; stdout: string; stderr: string },
    lines: string[],
  ) {
    assert.equal(result.code, 2, `stderr: ${result.stderr}`);
    assert.equal(result.stderr, lines.map((line) => `${line}\n`).join(''));
    assert.equal(result.stdout, '');
    assert.deepEqual(dns.queries, [], 'a bad config must not query anything');
  }

  it('schema errors: a bad recordType, certExpiryWarning over 366d, a missing address, a typo', async () => {
    const result = await runWith(
      'schema.yaml',
      [
        'providers:', //                          1
        '  - name: resolver', //                  2
        '    type: dns', //                       3
        '    query: api.test', //                 4
        '    recordType: MX', //                  5
        '  - name: orders', //                    6
        '    type: grpc', //                      7
        '    address: 127.0.0.1:50051', //        8
        '    certExpiryWarning: 400d', //         9
        '  - name: web', //                       10
        '    type: http', //                      11
        '    url: http://127.0.0.1:1/', //        12
        '    certExpiryWarning: 2w', //           13
        '  - name: cluster', //                   14
        '    type: kubernetes', //                15
        '    nodes: "yes"', //                    16
        '  - name: g2', //                        17
        '    type: grpc', //                      18
        '    adress: 127.0.0.1:1', //             19
        '',
      ].join('\n'),
    );
    assertConfigError(result, [
      'schema.yaml:5: providers[0].recordType: expected one of "A", "AAAA", "CNAME", "SRV", "TXT", got "MX"',
      'schema.yaml:9: providers[1].certExpiryWarning: expected a duration of at most 366d (31622400000 ms), got "400d"',
      'schema.yaml:13: providers[2].certExpiryWarning: expected a duration like "30s", "1m30s", "250ms" or a number of milliseconds, got "2w"',
      'schema.yaml:16: providers[3].nodes: expected true or false, got "yes"',
      'schema.yaml:17: providers[4].address: missing; expected a string',
      'schema.yaml:19: providers[4].adress: unknown key; did you mean "address"?',
    ]);
  });

  it('366d is the longest certExpiryWarning; 30d is not a timer so it passes the timer bound', () => {
    assert.equal(parseDuration('366d', { max: 366 * 86_400_000, text: '366d' }), 366 * 86_400_000);
    assert.equal(parseDuration('1d12h', { max: 366 * 86_400_000, text: '366d' }), 36 * 3_600_000);
    assert.throws(() => parseDuration('30d'), /at most 2147483647 ms/);
  });

  it('a server given as a host name: the line of that item', async () => {
    const result = await runWith(
      'servers.yaml',
      [
        'providers:',
        '  - name: resolver',
        '    type: dns',
        '    query: api.test',
        '    servers:',
        `      - ${dns.address}`,
        '      - dns.example.com',
        '',
      ].join('\n'),
    );
    assertConfigError(result, [
      'servers.yaml:7: providers[0].servers[1]: servers[1] must be an IP address with an optional port (10.0.0.53, 10.0.0.53:5353, [::1]:53), got "dns.example.com"',
    ]);
  });

  it('an expected value of the wrong shape: the line of that item, in a flow list too', async () => {
    const result = await runWith(
      'expect.yaml',
      [
        'providers:',
        '  - name: resolver',
        '    type: dns',
        '    query: api.test',
        '    recordType: AAAA',
        `    servers: [${dns.address}]`,
        '    expect: [::1,',
        '      10.0.0.1]',
        '',
      ].join('\n'),
    );
    assertConfigError(result, [
      `expect.yaml:8: providers[0].expect[1]: expect[1] must be one of the AAAA answers' IPv6 addresses, got "10.0.0.1"`,
    ]);
  });

  it("the checker's own errors keep the config's key names (query, not name)", async () => {
    const result = await runWith(
      'query.yaml',
      ['providers:', '  - name: resolver', '    type: dns', '    query: "bad name!"', ''].join('\n'),
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^query\.yaml:4: providers\[0\]\.query: name must be a DNS name/);
  });

  it('a bad grpc address and plaintext with tls, at their lines', async () => {
    const address = await runWith(
      'address.yaml',
      ['providers:', '  - name: orders', '    type: grpc', '    address: orders.internal', ''].join('\n'),
    );
    assertConfigError(address, [
      'address.yaml:4: providers[0].address: address must be host:port, [ipv6]:port or unix:/path, got "orders.internal"',
    ]);
    const plaintext = await runWith(
      'plaintext.yaml',
      [
        'providers:',
        '  - name: orders',
        '    type: grpc',
        '    address: 127.0.0.1:50051',
        '    plaintext: true',
        '    tls:',
        '      serverName: orders',
        '',
      ].join('\n'),
    );
    assertConfigError(plaintext, [
      'plaintext.yaml:5: providers[0].plaintext: plaintext must be false (or left out) when tls is given, got true',
    ]);
  });

  it('a client key file that is not PEM: named, its contents never printed', async () => {
    const secret = 'SECRET-KEY-MATERIAL-q8z4w';
    await writeFile(
      join(dir, 'client.pem'),
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    );
    await writeFile(join(dir, 'client.key'), secret);
    await writeFile(join(dir, 'empty.pem'), '');
    const result = await runWith(
      'key.yaml',
      [
        'providers:',
        '  - name: orders',
        '    type: grpc',
        '    address: 127.0.0.1:50051',
        '    tls:',
        '      cert: client.pem',
        '      key: client.key',
        '',
      ].join('\n'),
    );
    assertConfigError(result, [
      'key.yaml:7: providers[0].tls.key: the file it names holds no PEM block (no "-----BEGIN" line)',
    ]);
    assert.doesNotMatch(result.stderr, /SECRET/);
    const ca = await runWith(
      'ca.yaml',
      [
        'providers:',
        '  - name: orders',
        '    type: grpc',
        '    address: 127.0.0.1:50051',
        '    tls:',
        '      ca: empty.pem',
        '',
      ].join('\n'),
    );
    assertConfigError(ca, [
      'ca.yaml:6: providers[0].tls.ca: "empty.pem" holds no PEM block (no "-----BEGIN" line)',
    ]);
  });

  it('a key file without end (a device) is read only up to 1 MiB', { timeout: 20_000 }, async () => {
    const result = await runWith(
      'zero.yaml',
      [
        'providers:',
        '  - name: orders',
        '    type: grpc',
        '    address: 127.0.0.1:50051',
        '    tls:',
        '      cert: client.pem',
        '      key: /dev/zero',
        '',
      ].join('\n'),
    );
    assertConfigError(result, [
      'zero.yaml:7: providers[0].tls.key: the file it names is larger than 1048576 bytes (1 MiB): not PEM',
    ]);
  });

  it('server.publishInterval reaches the handler, which bounds it (serve fails before listening)', async () => {
    const result = await runWith(
      'publish.yaml',
      ['server:', '  publishInterval: 2m', 'providers: []', ''].join('\n'),
      'serve',
    );
    assertConfigError(result, ['publish.yaml:2: server.publishInterval: expected at most 60000, got 120000']);
  });

  it('maps array items of option names to paths', () => {
    assert.deepEqual(optionPath('servers[0]'), ['servers', 0]);
    assert.deepEqual(optionPath('tls.ca'), ['tls', 'ca']);
    assert.deepEqual(optionPath('a[1][2].b'), ['a', 1, 2, 'b']);
    assert.deepEqual(optionPath('concurrency'), ['concurrency']);
  });

  it("the example's commented grpc and dns providers are valid once uncommented", async () => {
    const example = await readFile(new URL('../examples/provider-health.yaml', import.meta.url), 'utf8');
    const uncommented = example
      .replace(/^ {2}# (- name: (?:orders|api-dns))$/gm, '  $1')
      .replace(/^ {2}# {3}/gm, '    ');
    const { config } = parseConfig(uncommented, 'provider-health.yaml');
    const added = config.providers?.filter((entry) => entry.type === 'grpc' || entry.type === 'dns');
    assert.deepEqual(
      added?.map((entry) => entry.name),
      ['orders', 'api-dns'],
    );
  });
});
