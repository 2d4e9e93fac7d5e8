/**
 * `provider-health notify test [--config FILE]`: sends one test notification
 * through every notifier of the config file, all at once, and exits 1 naming
 * each one that failed and why (an unreachable server, an HTTP 4xx, a refused
 * SMTP login, a timeout). What it prints never holds a URL, key or password.
 */
import { parseArgs } from 'node:util';
import { createNotifiers, isNotifierTestError, sendTest, type NotifierConfig } from '../alerts/index.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { ConfigError, loadConfig } from './config.js';
import type { Io } from './io.js';

/** Exit codes of `notify test`. */
export const NOTIFY_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** How long each test notification may take by default. */
export const NOTIFY_TEST_TIMEOUT = 10_000;

const HELP = `Usage: provider-health notify test [options]

Sends a test notification through every notifier of the config file
(webhook, slack, pagerduty, email), all at once, and reports each outcome.

Options:
  -c, --config FILE    YAML or JSON config with a notifiers: list (required)
      --timeout TIME   How long each may take (default: 10s)
  -h, --help           Show this help

Exit codes:
  0  every notifier accepted its test notification
  1  a notifier failed (each is named, with the reason)
  2  bad command line or config
`;

/** Runs `notify …` (`argv` after the word `notify`) and resolves with the exit code. */
export async function runNotify(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  const usage = (message: string): number => {
    io.stderr.write(`provider-health notify: ${message}\nRun 'provider-health notify --help' for usage.\n`);
    return NOTIFY_EXIT.usage;
  };
  let values: { config?: string; timeout?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    return usage((error as Error).message.split('\n')[0] ?? 'bad command line');
  }
  if (values.help === true) {
    io.stdout.write(HELP);
    return NOTIFY_EXIT.ok;
  }
  if (positionals[0] !== 'test' || positionals.length > 1)
    return usage(
      positionals.length === 0
        ? 'missing subcommand: expected test'
        : `expected test, got '${positionals.join(' ')}'`,
    );
  if (values.config === undefined || values.config.trim() === '')
    return usage('--config FILE is required (the notifiers come from it)');
  let timeout = NOTIFY_TEST_TIMEOUT;
  try {
    if (values.timeout !== undefined) timeout = parseDuration(values.timeout);
  } catch {
    return usage(`--timeout: expected ${DURATION_HINT}`);
  }
  if (!(timeout > 0)) return usage('--timeout: expected a duration above 0');

  let entries: readonly NotifierConfig[];
  try {
    const loaded = await loadConfig(values.config, signal, io.cwd);
    entries = loaded.config.notifiers ?? [];
    if (entries.length === 0) throw loaded.errorAt([], 'no notifiers: to test; add a notifiers: list');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return NOTIFY_EXIT.usage;
  }
  return await testAll(entries, timeout, io, signal);
}

async function testAll(
  entries: readonly NotifierConfig[],
  timeout: number,
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  const notifiers = createNotifiers(entries);
  const results = await Promise.all(
    notifiers.map(async (notifier) => {
      try {
        await sendTest(notifier, signal, { timeout });
        return undefined;
      } catch (error) {
        if (signal.aborted) throw error;
        return isNotifierTestError(error) ? error.reason : String(error);
      }
    }),
  );
  const failed: string[] = [];
  notifiers.forEach((notifier, index) => {
    const reason = results[index];
    const label = `${notifier.name} (${notifier.type})`;
    if (reason === undefined) io.stdout.write(`ok      ${label}\n`);
    else {
      io.stdout.write(`FAILED  ${label}: ${reason}\n`);
      failed.push(`notifier ${JSON.stringify(notifier.name)} (${notifier.type}) failed: ${reason}`);
    }
  });
  for (const line of failed) io.stderr.write(`${line}\n`);
  return failed.length === 0 ? NOTIFY_EXIT.ok : NOTIFY_EXIT.failed;
}
