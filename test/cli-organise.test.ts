import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { discover } from '../src/cli/discovery.js';
import { cliEnv, runCli, runMain } from './support/cli.js';
import { close, listen } from './support/listen.js';

/**
 * Labels, dependencies and maintenance windows in the config file, `check
 * --selector`, and the labels discovery gives: through the CLI's `main` in
 * this process, and the built bin where the exit code of a process matters.
 */
describe('CLI: labels, dependencies, selectors and windows', () => {
  let dir = '';
  let upPort = 0;
  let downPort = 0;
  let upConnections = 0;
  // A provider that is up (accepts, then closes) and a port where nothing listens.
  const up = net.createServer((socket) => {
    upConnections++;
    socket.destroy();
  });
  const down = net.createServer();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-organise-'));
    upPort = await listen(up);
    downPort = await listen(down);
    // Closed again: connecting to it is refused, so the provider on it is unhealthy.
    await close(down);
  });
  after(async () => {
    await close(up);
    await rm(dir, { recursive: true, force: true });
  });

  async function run(name: string, text: string, args: string[] = [], bin = false) {
    await writeFile(join(dir, name), text);
    const argv = ['check', '--config', name, ...args];
    return (bin ? runCli : runMain)(argv, { cwd: dir, env: cliEnv({ HOME: dir }) });
  }

  /** A tcp provider entry at `port`, with extra YAML lines (4-space indented). */
  function tcp(name: string, port: number, extra = ''): string {
    return `  - name: ${name}\n    type: tcp\n    host: 127.0.0.1\n    port: ${port}\n${extra}`;
  }

  function assertConfigError(
    result: { code: number | null; stdout: string; stderr: string },
    lines: string[],
  ) {
    assert.equal(result.code, 2, `stderr: ${result.stderr}`);
    assert.equal(result.stderr, lines.map((line) => `${line}\n`).join(''));
    assert.equal(result.stdout, '');
  }

  it('names a bad label key and a bad label value at their lines', async () => {
    const before = upConnections;
    const text =
      'providers:\n' +
      tcp('api', upPort, '    labels:\n      env: prod\n      "team name": db\n      tier: "front end"\n');
    const result = await run('labels.yaml', text);
    assertConfigError(result, [
      'labels.yaml:8: providers[0].labels."team name": invalid label key: a key name must be [A-Za-z0-9._-] and start and end with a letter or digit',
      'labels.yaml:9: providers[0].labels.tier: invalid label value: a value must be [A-Za-z0-9._-] and start and end with a letter or digit, got "front end"',
    ]);
    assert.equal(upConnections, before, 'a bad config checks nothing');
  });

  it('names an unknown dependency, a self-dependency and the whole cycle, each at its line', async () => {
    const text =
      'providers:\n' +
      tcp('api', upPort, '    dependsOn: [db]\n') +
      tcp('db', upPort, '    dependsOn:\n      - cluster\n') +
      tcp('cluster', upPort, '    dependsOn:\n      - api\n      - clustr\n      - cluster\n');
    const result = await run('deps.yaml', text);
    assertConfigError(result, [
      'deps.yaml:6: providers[0].dependsOn[0]: "api" is in a dependency cycle: "api" → "db" → "cluster" → "api"',
      'deps.yaml:19: providers[2].dependsOn[1]: unknown provider "clustr": no entry of providers has that name',
      'deps.yaml:20: providers[2].dependsOn[2]: "cluster" cannot depend on itself',
    ]);
  });

  it('reports a dependency cycle together with problems elsewhere in the file', async () => {
    const text =
      'pollInterval: 5x\nproviders:\n' +
      tcp('a', upPort, '    dependsOn: [b]\n') +
      tcp('b', upPort, '    dependsOn: [a]\n    labels: { "-x": y }\n');
    const result = await run('both.yaml', text);
    assertConfigError(result, [
      'both.yaml:1: pollInterval: expected a duration like "30s", "1m30s", "250ms" or a number of milliseconds, got "5x"',
      'both.yaml:7: providers[0].dependsOn[0]: "a" is in a dependency cycle: "a" → "b" → "a"',
      'both.yaml:13: providers[1].labels.-x: invalid label key: a key name must be [A-Za-z0-9._-] and start and end with a letter or digit',
    ]);
  });

  it('names a bad cron, time zone, selector, duration and a repeated window name', async () => {
    const text =
      'providers:\n' +
      tcp('api', upPort) +
      'maintenance:\n' +
      '  - name: patch\n    cron: "0 2 * * 9"\n    duration: 2h\n    timeZone: Mars/Olympus\n    selector: "env in (prod"\n' +
      '  - name: patch\n    cron: "0 3 * * 2"\n    duration: 8d\n    selector: env=prod\n' +
      '  - name: short\n    cron: "0 3 * * 2"\n    duration: 500ms\n    selector: ""\n    every: week\n';
    const result = await run('windows.yaml', text);
    assertConfigError(result, [
      'windows.yaml:8: maintenance[0].cron: expected a cron expression (Invalid value for dayOfWeek: 9), got "0 2 * * 9"',
      'windows.yaml:10: maintenance[0].timeZone: expected an IANA time zone such as "Europe/Berlin", got "Mars/Olympus"',
      'windows.yaml:11: maintenance[0].selector: expected a label selector (expected "," or ")", got the end at position 12), got "env in (prod"',
      'windows.yaml:12: maintenance[1].name: duplicate window name "patch" (also used by maintenance[0])',
      'windows.yaml:14: maintenance[1].duration: expected a duration of at most 7d (604800000 ms), got "8d"',
      'windows.yaml:18: maintenance[2].duration: expected a duration of at least 1s, got "500ms"',
      'windows.yaml:20: maintenance[2].every: unknown key; expected one of name, cron, duration, timeZone, selector, comment',
    ]);
  });

  it('names a misspelt state key', async () => {
    const result = await run(
      'state.yaml',
      `providers:\n${tcp('api', upPort)}state:\n  fille: ./state.json\n`,
    );
    assertConfigError(result, [
      'state.yaml:7: state.file: missing; expected a string',
      'state.yaml:7: state.fille: unknown key; did you mean "file"?',
    ]);
  });

  it('registers dependencies first whatever the order of the file, and shows depends_on and blocked_by', async () => {
    // "api" sorts before "zone", which it depends on: registering by name alone would be refused.
    const text =
      'providers:\n' +
      tcp('api', downPort, '    labels: { env: prod }\n    dependsOn: [zone]\n') +
      tcp('zone', downPort, '    labels: { env: infra }\n');
    const result = await run('order.yaml', text, ['--json']);
    assert.equal(result.code, 1, result.stderr);
    const statuses = JSON.parse(result.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      statuses.map((status) => [
        status['name'],
        status['labels'],
        status['depends_on'],
        status['blocked_by'],
      ]),
      [
        ['api', { env: 'prod' }, ['zone'], ['zone']],
        ['zone', { env: 'infra' }, undefined, undefined],
      ],
    );
  });

  describe('check --selector', () => {
    const fleet = () =>
      'providers:\n' +
      tcp('api-eu', upPort, '    labels: { env: prod, region: eu }\n    dependsOn: [cluster-eu]\n') +
      tcp('cluster-eu', upPort, '    labels: { env: infra, region: eu }\n') +
      tcp('batch', downPort, '    labels: { env: prod, tier: batch }\n') +
      tcp('web-dev', downPort, '    labels: { env: dev }\n');

    it('checks and shows only the providers it selects; their dependencies are checked, not shown', async () => {
      const result = await run('fleet.yaml', fleet(), ['--selector', 'env=prod,tier!=batch', '--json'], true);
      assert.equal(result.code, 0, result.stderr);
      const statuses = JSON.parse(result.stdout) as { name: string; blocked_by?: unknown }[];
      assert.deepEqual(
        statuses.map((status) => status.name),
        ['api-eu'],
      );
      assert.equal(statuses[0]?.blocked_by, undefined);
    });

    it('exits 1 when a selected provider is down, whatever the others are', async () => {
      const result = await run('fleet.yaml', fleet(), ['-l', 'env in (prod),!region']);
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 2, result.stdout);
      assert.match(lines[1]!, /^batch\s+unhealthy\s/);
    });

    it('exits 2 naming the position of a bad selector, before checking anything', async () => {
      const before = upConnections;
      const result = await run('fleet.yaml', fleet(), ['--selector', 'env=prod,tier in (a,b'], true);
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr,
        `provider-health check: --selector: expected "," or ")", got the end at position 21 of "env=prod,tier in (a,b"\n` +
          "Run 'provider-health check --help' for usage.\n",
      );
      assert.equal(result.stdout, '');
      assert.equal(upConnections, before);
    });

    it('exits 1 saying so when the selector matches nothing', async () => {
      const result = await run('fleet.yaml', fleet(), ['--selector', 'team=db', '--json']);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '[]\n');
      assert.equal(result.stderr, 'no provider matches the selector "team=db": nothing to check\n');
    });
  });

  describe('discovery labels', () => {
    function kubeconfig(context: string): string {
      return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': context,
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { token: 'kube-token-for-labels' } }],
        contexts: [{ name: context, context: { cluster: 'c', user: 'u' } }],
      });
    }

    it('labels what it finds kind=docker|kubernetes|nomad, with context= for a kubeconfig context', async () => {
      const home = join(dir, 'home-labels');
      await mkdir(join(home, '.kube'), { recursive: true });
      await writeFile(join(home, '.kube', 'config'), kubeconfig('prod-eu'));
      const env = { HOME: home, DOCKER_HOST: 'tcp://127.0.0.1:1', NOMAD_ADDR: 'http://127.0.0.1:1' };
      const found = await discover(env);
      assert.deepEqual(
        found.found.map((provider) => [provider.name, provider.labels]),
        [
          ['docker', { kind: 'docker' }],
          ['kubernetes', { kind: 'kubernetes', context: 'prod-eu' }],
          ['nomad', { kind: 'nomad' }],
        ],
      );
    });

    it('leaves context= off when the context name cannot be a label value (an EKS ARN)', async () => {
      const file = join(dir, 'eks-kubeconfig');
      await writeFile(file, kubeconfig('arn:aws:eks:eu-west-1:123456789012:cluster/prod'));
      const found = await discover({ HOME: dir, KUBECONFIG: file });
      const kube = found.found.find((provider) => provider.name === 'kubernetes');
      assert.deepEqual(kube?.labels, { kind: 'kubernetes' });
    });

    it('the labels reach the statuses and --selector picks by them', async () => {
      const home = join(dir, 'home-select');
      await mkdir(join(home, '.kube'), { recursive: true });
      await writeFile(join(home, '.kube', 'config'), kubeconfig('staging'));
      const result = await runMain(['check', '--selector', 'kind=kubernetes,context=staging', '--json'], {
        cwd: dir,
        env: cliEnv({ HOME: home, XDG_RUNTIME_DIR: join(dir, 'no-xdg'), NOMAD_ADDR: 'http://127.0.0.1:1' }),
      });
      assert.equal(result.code, 1, result.stderr);
      const statuses = JSON.parse(result.stdout) as { name: string; labels: unknown }[];
      assert.deepEqual(
        statuses.map((status) => [status.name, status.labels]),
        [['kubernetes', { kind: 'kubernetes', context: 'staging' }]],
      );
    });

    it('a dependsOn on a name discovery was to find, but did not, is an error at its line', async () => {
      const home = join(dir, 'home-empty');
      await mkdir(home, { recursive: true });
      await writeFile(
        join(dir, 'discover-deps.yaml'),
        `discover: true\nproviders:\n${tcp('api', upPort, '    dependsOn: [kubernetes]\n')}`,
      );
      const result = await runMain(['check', '--config', 'discover-deps.yaml'], {
        cwd: dir,
        env: cliEnv({ HOME: home, XDG_RUNTIME_DIR: join(dir, 'no-xdg') }),
      });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        'discover-deps.yaml:7: providers[0].dependsOn[0]: unknown provider "kubernetes": no entry of providers has that name (nor did discovery find it)\n',
      );
    });
  });
});
