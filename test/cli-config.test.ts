import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, runCli, runMain } from './support/cli.js';
import { close, listen } from './support/listen.js';

/**
 * Config errors, through the CLI's `main` in this process (and the built bin
 * where only a process shows it): each names the file, the line, the field
 * and what was expected, exits 2 and starts nothing.
 */
describe('CLI config errors', () => {
  let dir = '';
  let port = 0;
  let connections = 0;
  // A provider every config below lists: a bad config must never contact it.
  const target = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-config-'));
    port = await listen(target);
  });
  after(async () => {
    await close(target);
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Writes `text` as `name` in the temp dir and runs `command --config name`
   * from there: in this process, or with `bin` through the built CLI.
   */
  async function runWith(
    name: string,
    text: string,
    command: 'check' | 'serve' = 'check',
    env = {},
    bin = false,
  ) {
    await writeFile(join(dir, name), text);
    const args =
      command === 'serve' ? ['serve', '--config', name, '--port', '0'] : ['check', '--config', name];
    return (bin ? runCli : runMain)(args, { cwd: dir, env: cliEnv({ HOME: dir, ...env }) });
  }

  /** Asserts exit 2 with exactly `lines` on stderr, nothing on stdout, and no contact with the provider. */
  function assertConfigError(
    result: { code: number | null; stdout: string; stderr: string },
    lines: string[],
  ) {
    assert.equal(result.code, 2, `stderr: ${result.stderr}`);
    assert.equal(result.stderr, lines.map((line) => `${line}\n`).join(''));
    assert.equal(result.stdout, '');
    assert.equal(connections, 0, 'a bad config must not check anything');
  }

  const tcp = () => `  - name: db\n    type: tcp\n    host: 127.0.0.1\n    port: ${port}\n`;

  it('names the line of a YAML syntax error', async () => {
    const text = `pollInterval: 10s\nproviders:\n${tcp()}  - name: x\n   type: tcp\n`;
    const result = await runWith('provider-health.yaml', text);
    assertConfigError(result, ['provider-health.yaml:8: invalid YAML: Sequence item without - indicator']);
  });

  it('rejects a duplicate key as YAML', async () => {
    const result = await runWith('dup-key.yaml', `pollInterval: 10s\ncheckTimeout: 1s\npollInterval: 20s\n`);
    assertConfigError(result, ['dup-key.yaml:3: invalid YAML: Map keys must be unique']);
  });

  it('names an unknown provider type as in the issue', async () => {
    const text = `providers:\n${tcp()}  - name: engine\n    type: dokcer\n`;
    const result = await runWith('provider-health.yaml', text);
    assertConfigError(result, [
      'provider-health.yaml:7: providers[1].type: expected one of docker, kubernetes, nomad, http, tcp, grpc, dns, got "dokcer"',
    ]);
  });

  it('rejects unknown keys, suggesting the key meant', async () => {
    const text = [
      'pollIntervall: 10s',
      'server:',
      '  hots: 0.0.0.0',
      'providers:',
      '  - name: db',
      '    type: tcp',
      '    host: 127.0.0.1',
      `    port: ${port}`,
      '    retries: 3',
      '',
    ].join('\n');
    const result = await runWith('keys.yaml', text);
    assertConfigError(result, [
      'keys.yaml:1: pollIntervall: unknown key; did you mean "pollInterval"?',
      'keys.yaml:3: server.hots: unknown key; did you mean "host"?',
      'keys.yaml:9: providers[0].retries: unknown key; expected one of name, slowThreshold, labels, dependsOn, type, host, port',
    ]);
  });

  it('names wrong types and missing fields', async () => {
    const text = [
      'concurrency: four',
      'providers:',
      '  - name: db',
      '    type: tcp',
      '    host: 127.0.0.1',
      '    port: "5432"',
      '  - name: api',
      '    type: http',
      '  - type: tcp',
      '    host: 127.0.0.1',
      `    port: ${port}`,
      '',
    ].join('\n');
    const result = await runWith('types.yaml', text);
    assertConfigError(result, [
      'types.yaml:1: concurrency: expected a number, got "four"',
      'types.yaml:6: providers[0].port: expected a port from 0 to 65535, got "5432"',
      'types.yaml:7: providers[1].url: missing; expected a string',
      'types.yaml:9: providers[2].name: missing; expected a string',
    ]);
  });

  it('names a bad duration', async () => {
    const text = `pollInterval: 1m30s\ncheckTimeout: 5x\nstaleAfter: "300"\nproviders:\n${tcp()}`;
    const result = await runWith('durations.yaml', text);
    assertConfigError(result, [
      'durations.yaml:2: checkTimeout: expected a duration like "30s", "1m30s", "250ms" or a number of milliseconds, got "5x"',
      'durations.yaml:3: staleAfter: expected a duration like "30s", "1m30s", "250ms" or a number of milliseconds, got "300" (add a unit, e.g. "300ms")',
    ]);
  });

  it('rejects duplicate provider names, naming both entries', async () => {
    const text = `providers:\n${tcp()}  - name: api\n    type: http\n    url: http://127.0.0.1:1/\n${tcp()}`;
    const result = await runWith('names.yaml', text);
    assertConfigError(result, [
      'names.yaml:9: providers[2].name: duplicate provider name "db" (also used by providers[0])',
    ]);
  });

  it('reports option errors of the cache itself at the field and line', async () => {
    const timeout = await runWith(
      'timeout.yaml',
      `pollInterval: 10s\ncheckTimeout: 30s\nproviders:\n${tcp()}`,
    );
    assertConfigError(timeout, [
      'timeout.yaml:2: checkTimeout: expected `checkTimeout` (30000) to be below `pollInterval` (10000), so a hung provider cannot stall the schedule',
    ]);
    const concurrency = await runWith('concurrency.yaml', `providers:\n${tcp()}concurrency: 0\n`);
    assertConfigError(concurrency, ['concurrency.yaml:6: concurrency: expected at least 1, got 0']);
    const history = await runWith('history.yaml', `historySize: 2.5\nproviders:\n${tcp()}`);
    assertConfigError(history, ['history.yaml:1: historySize: expected an integer, got 2.5']);
  });

  it('reports option errors of a checker at the entry field and line', async () => {
    const text = `providers:\n${tcp()}  - name: api\n    type: http\n    url: ftp://127.0.0.1/health\n`;
    const result = await runWith('checker.yaml', text);
    assertConfigError(result, ['checker.yaml:8: providers[1].url: url must use http: or https:, got ftp:']);
  });

  it('names a TLS file that cannot be read', async () => {
    const text = `providers:\n  - name: api\n    type: http\n    url: https://127.0.0.1:1/\n    tls:\n      ca: ./missing-ca.pem\n`;
    const result = await runWith('tls.yaml', text);
    assertConfigError(result, [
      'tls.yaml:6: providers[0].tls.ca: cannot read "./missing-ca.pem": no such file',
    ]);
  });

  it('never echoes a tls.key that is not a readable file: it may be the key itself', async () => {
    const key = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-key-material-5f3c';
    const cert = JSON.stringify('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const text = `providers:\n  - name: api\n    type: http\n    url: https://127.0.0.1:1/\n    tls:\n      cert: ${cert}\n      key: ${key}\n`;
    const result = await runWith('tls-key.yaml', text);
    assertConfigError(result, [
      'tls-key.yaml:7: providers[0].tls.key: cannot read the file it names: no such file',
    ]);
    assert.ok(!result.stderr.includes('key-material'));
  });

  it('gives JSON files line numbers too', async () => {
    const text = `{\n  "pollInterval": "10s",\n  "providers": [\n    { "name": "db", "type": "tcp", "host": "127.0.0.1", "port": 70000 }\n  ]\n}\n`;
    const result = await runWith('config.json', text);
    assertConfigError(result, [
      'config.json:4: providers[0].port: expected a port from 0 to 65535, got 70000',
    ]);
  });

  it('rejects a missing, an empty and a non-mapping file', async () => {
    const missing = await runMain(['check', '--config', 'nope.yaml'], {
      cwd: dir,
      env: cliEnv({ HOME: dir }),
    });
    assertConfigError(missing, ['nope.yaml: cannot read the config file: no such file']);
    const empty = await runWith('empty.yaml', '# nothing yet\n');
    assertConfigError(empty, [
      'empty.yaml:1: the file is empty; expected a mapping of settings such as providers:',
    ]);
    const list = await runWith('list.yaml', '- name: db\n');
    assertConfigError(list, ['list.yaml:1: (top level): expected a mapping, got a list']);
  });

  it('never echoes a token, even when its type is wrong', async () => {
    const result = await runWith('token.yaml', `server:\n  token: 918273645\nproviders:\n${tcp()}`, 'serve');
    assertConfigError(result, ['token.yaml:2: server.token: expected a string, got a number']);
    const spaced = await runWith(
      'spaced.yaml',
      `server:\n  token: "s3cret value"\nproviders:\n${tcp()}`,
      'serve',
    );
    assertConfigError(spaced, [
      'spaced.yaml:2: server.token: expected a non-empty string without whitespace',
    ]);
    assert.doesNotMatch(spaced.stderr, /s3cret/);
  });

  it('names PROVIDER_HEALTH_TOKEN when the bad token comes from the environment', async () => {
    const result = await runWith('ok.yaml', `providers:\n${tcp()}`, 'serve', {
      PROVIDER_HEALTH_TOKEN: 'has space',
    });
    assertConfigError(result, ['PROVIDER_HEALTH_TOKEN: expected a non-empty string without whitespace']);
  });

  it('reports Redis option errors at the field, never echoing the URL', async () => {
    const scheme = await runWith(
      'redis-url.yaml',
      `redis:\n  url: http://user:pw-77@127.0.0.1:1\nproviders:\n${tcp()}`,
      'serve',
    );
    assertConfigError(scheme, [
      'redis-url.yaml:2: redis.url: expected a redis:// or rediss:// URL, got a http: URL',
    ]);
    const lease = await runWith(
      'redis-lease.yaml',
      `redis:\n  url: redis://127.0.0.1:1\n  leaseTtl: 100ms\n`,
      'serve',
    );
    assertConfigError(lease, ['redis-lease.yaml:3: redis.leaseTtl: expected at least 300, got 100']);
    const history = await runWith(
      'redis-history.yaml',
      `redis:\n  url: redis://127.0.0.1:1\n  historyInterval: 10ms\n`,
      'serve',
    );
    assertConfigError(history, [
      'redis-history.yaml:3: redis.historyInterval: expected at least 1000, got 10',
    ]);
    const missing = await runWith('redis-none.yaml', `redis:\n  key: shared\n`, 'serve');
    assertConfigError(missing, [
      'redis-none.yaml:2: redis: expected url (or the PROVIDER_HEALTH_REDIS_URL environment variable)',
    ]);
    const env = await runWith('redis-env.yaml', `providers:\n${tcp()}`, 'serve', {
      PROVIDER_HEALTH_REDIS_URL: 'not a url pw-88',
    });
    assertConfigError(env, [
      'PROVIDER_HEALTH_REDIS_URL: expected a redis:// or rediss:// URL, got a string that is not a URL',
    ]);
  });

  it('serve exits 2 when shared mode is asked for but ioredis is not installed', async () => {
    // A preload in the child makes `ioredis` missing, as for a user who did not install it.
    const preload = new URL('./fixtures/without-packages.mjs', import.meta.url).href;
    const result = await runWith(
      'redis-missing.yaml',
      `redis:\n  url: redis://:pw-99@127.0.0.1:1\nproviders:\n${tcp()}`,
      'serve',
      { NODE_OPTIONS: `--import=${preload}`, WITHOUT_PACKAGES: 'ioredis' },
      true,
    );
    assertConfigError(result, [
      'redis: shared mode needs the optional dependency ioredis (>= 5): run `npm install ioredis`',
    ]);
  });

  it('serve exits 2 on a bad config without listening', async () => {
    const result = await runWith('serve.yaml', `server:\n  port: 99999\nproviders:\n${tcp()}`, 'serve');
    assertConfigError(result, ['serve.yaml:2: server.port: expected a port from 0 to 65535, got 99999']);
  });

  it('accepts the commented example in examples/', async () => {
    const result = await runMain(['check', '--config', 'examples/provider-health.yaml', '--json'], {
      env: cliEnv({ HOME: dir }),
    });
    assert.ok(result.code === 0 || result.code === 1, `exit ${result.code}: ${result.stderr}`);
    const names = (JSON.parse(result.stdout) as { name: string }[]).map((status) => status.name);
    assert.deepEqual(names, ['api', 'cluster', 'docker', 'nomad', 'postgres']);
  });

  it('accepts a valid JSON config', async () => {
    const text = JSON.stringify({
      checkTimeout: 2000,
      providers: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port }],
    });
    const result = await runWith('good.json', text);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^NAME +STATE +LATENCY +MESSAGE\ndb +healthy +\S+ \S+ +connected to 127\.0\.0\.1:\d+\n$/,
    );
    assert.equal(connections, 1);
    connections = 0;
  });
});
