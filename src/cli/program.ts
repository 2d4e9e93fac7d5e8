/**
 * The `provider-health` command as a function: {@link main} runs a command
 * line against the streams and environment it is given and resolves with the
 * exit code. Importing this module starts nothing; the bin (`main.ts`) wires it
 * to the process.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine, UsageError, type Invocation } from './args.js';
import { runCheck } from './check.js';
import { ConfigError } from './config.js';
import type { Io } from './io.js';
import { runNotify } from './notify-command.js';
import { runServe } from './serve.js';
import { runSilence } from './silence-command.js';

/** Exit code of a bad command line or config. */
export const EXIT_USAGE = 2;

/** Exit codes of `check` stopped by a signal (128 + the signal's number). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs the command line `argv` (without node and the script) and resolves
 * with the exit code: 0 success, 1 a provider is not healthy (or `serve` could
 * not start), 2 a bad command line or config, 130/143 `check` interrupted;
 * `silence` has codes of its own (`SILENCE_EXIT`).
 *
 * Aborting `signal` stops the command gracefully (the bin aborts it on
 * SIGINT/SIGTERM with the signal's name as the reason, which `serve` logs and
 * which picks `check`'s exit code). Never calls `process.exit`.
 * @throws only for a bug (an error that is neither a usage nor a config error).
 */
export async function main(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  // `notify test` parses its own arguments (src/cli/notify-command.ts, issue 12).
  if (argv[0] === 'notify') return await runNotify(argv.slice(1), io, signal);
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const command = error.command ? ` ${error.command}` : '';
    io.stderr.write(`provider-health${command}: ${error.message}\n`);
    io.stderr.write(`Run 'provider-health${command} --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (invocation.command === 'help') {
    io.stdout.write(invocation.text);
    return 0;
  }
  if (invocation.command === 'version') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  try {
    if (invocation.command === 'serve') return await runServe(invocation, io, signal);
    if (invocation.command === 'silence') return await runSilence(invocation, io, signal);
    return await runCheck(invocation, io, signal);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      const name = typeof reason === 'string' ? reason : 'an abort';
      io.stderr.write(`\ninterrupted by ${name}\n`);
      return SIGNAL_EXIT[name] ?? SIGNAL_EXIT['SIGINT']!;
    }
    throw error;
  }
}

/** The package's version, from its package.json (two levels up from src/cli and dist/cli). */
function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
