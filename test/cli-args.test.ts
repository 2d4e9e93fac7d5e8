import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseDuration, formatDuration } from '../src/cli/duration.js';
import { REPO_ROOT, runCli, runMain } from './support/cli.js';

const { version } = JSON.parse(await readFile(`${REPO_ROOT}package.json`, 'utf8')) as { version: string };

/**
 * The command line, mostly in this process through `main`; a few cases run
 * the built bin (`--help`, `--version`, an unknown flag of serve) to keep the
 * real surface covered.
 */
describe('CLI command line', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    it(`prints the root help for ${args.join(' ')} and exits 0`, async () => {
      const result = await (args[0] === '--help' ? runCli : runMain)(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: provider-health <command>/);
      assert.match(result.stdout, /serve/);
      assert.match(result.stdout, /check/);
      assert.equal(result.stderr, '');
    });
  }

  for (const command of ['serve', 'check']) {
    it(`prints the help of ${command} for --help and -h, exit 0, touching nothing`, async () => {
      for (const flag of ['--help', '-h']) {
        const result = await runMain([command, flag, '--config', '/nonexistent/file.yaml']);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, new RegExp(`^Usage: provider-health ${command} \\[options\\]`));
        assert.match(result.stdout, /--config FILE/);
        assert.equal(result.stderr, '');
      }
    });

    it(`prints the version for ${command} --version`, async () => {
      const result = await runMain([command, '--version']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${version}\n`);
    });

    it(`names an unknown flag of ${command} and exits 2`, async () => {
      const result = await (command === 'serve' ? runCli : runMain)([command, '--colour']);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^provider-health ${command}: unknown option '--colour'\\n`));
      assert.match(result.stderr, new RegExp(`Run 'provider-health ${command} --help' for usage`));
    });

    it(`rejects a positional argument to ${command} with exit 2`, async () => {
      const result = await runMain([command, 'extra']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /unexpected argument 'extra'/);
    });

    it(`rejects ${command} --config without a value with exit 2`, async () => {
      const result = await runMain([command, '--config']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /option '--config' expects a value/);
    });
  }

  it('prints the version for --version', async () => {
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `${version}\n`);
  });

  it('names an unknown root flag, an unknown command and a missing command, exit 2', async () => {
    const flag = await runMain(['--verbose']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^provider-health: unknown option '--verbose'/);
    const command = await runMain(['sereve']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'sereve': expected serve, check, silence or notify/);
    const none = await runMain([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing command/);
  });

  it('rejects a bad --port, --host and --log-format of serve with exit 2, before starting', async () => {
    for (const [args, message] of [
      [['--port', '70000'], /--port: expected a port number from 0 to 65535, got "70000"/],
      [['--port', 'http'], /--port: expected a port number from 0 to 65535, got "http"/],
      [['--port', '-1'], /--port/],
      [['--host', ''], /--host: expected a host name or address/],
      [['--log-format', 'xml'], /--log-format: expected text or json, got "xml"/],
    ] as const) {
      const result = await runMain(['serve', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stdout, /listening/);
    }
  });

  it('rejects --json on serve (a check flag) with exit 2', async () => {
    const result = await runMain(['serve', '--json']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option '--json'/);
  });
});

describe('config durations', () => {
  it('parses units, compounds and plain milliseconds', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5s'), 5_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration(' 10s '), 10_000);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration(1500), 1_500);
  });

  it('rejects what is not a duration, saying what was expected', () => {
    for (const bad of ['5x', '5', '1.5', 's', '', '-5s', '5 s', '1m30', 'ms', '5sec', '1e3ms']) {
      assert.throws(
        () => parseDuration(bad),
        /expected a duration like "30s", "1m30s", "250ms" or a number of milliseconds/,
        bad,
      );
    }
    assert.throws(() => parseDuration('5'), /add a unit, e\.g\. "5ms"/);
    for (const bad of [-1, Number.NaN, Infinity]) {
      assert.throws(() => parseDuration(bad), RangeError, String(bad));
    }
  });

  it('formats milliseconds the way the config spells them', () => {
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(1_500), '1500ms');
    for (const ms of [250, 1_000, 61_000, 3_723_000, 1_500])
      assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
