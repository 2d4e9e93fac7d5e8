#!/usr/bin/env node
/**
 * The `provider-health` command: `serve` and `check`. Exit codes: 0 success,
 * 1 a provider is not healthy (or `serve` could not start), 2 a bad command
 * line or config, 130/143 `check` interrupted by SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { redactSecrets } from '../index.js';
import { parseCommandLine, UsageError } from './args.js';
import { runCheck } from './check.js';
import { ConfigError } from './config.js';
import type { Io } from './io.js';
import { runServe } from './serve.js';

/** Exit code of a bad command line or config. */
const EXIT_USAGE = 2;

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Runs the command line `argv` (without node and the script) and resolves
 * with the exit code. SIGINT/SIGTERM stop it gracefully.
 */
async function main(argv: readonly string[], io: Io): Promise<number> {
  let invocation;
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

  const stop = new AbortController();
  const onSignal = (signal: keyof typeof SIGNAL_EXIT): void => {
    // A second signal while stopping changes nothing: shutdown is already bounded.
    if (!stop.signal.aborted) stop.abort(signal);
  };
  const signals = (['SIGINT', 'SIGTERM'] as const).map((name) => {
    const listener = (): void => onSignal(name);
    process.on(name, listener);
    return () => process.off(name, listener);
  });
  try {
    if (invocation.command === 'serve') return await runServe(invocation, io, stop.signal);
    return await runCheck(invocation, io, stop.signal);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    if (stop.signal.aborted) {
      const reason = stop.signal.reason as keyof typeof SIGNAL_EXIT;
      io.stderr.write(`\ninterrupted by ${reason}\n`);
      return SIGNAL_EXIT[reason];
    }
    throw error;
  } finally {
    for (const release of signals) release();
  }
}

/** The package's version, from its package.json (two levels up from src/cli and dist/cli). */
function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Waits until everything written to `stream` has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

const io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
let code: number;
try {
  code = await main(process.argv.slice(2), io);
} catch (error) {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`provider-health: unexpected error: ${redactSecrets(text)}\n`);
  code = 1;
}
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Exit now rather than when the last handle closes: a hung checker's socket must not hold the process.
process.exit(code);
