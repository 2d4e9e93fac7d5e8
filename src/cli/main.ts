#!/usr/bin/env node
/**
 * The `provider-health` bin: runs {@link main} on the process's arguments,
 * streams and environment, turns SIGINT/SIGTERM into a graceful stop, and
 * exits with the code it resolves with.
 */
import { redactSecrets } from '../index.js';
import { main } from './program.js';

const stop = new AbortController();
const onSignal = (name: NodeJS.Signals): void => {
  // A second signal while stopping changes nothing: shutdown is already bounded.
  if (!stop.signal.aborted) stop.abort(name);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let code: number;
try {
  code = await main(
    process.argv.slice(2),
    { stdout: process.stdout, stderr: process.stderr, env: process.env },
    stop.signal,
  );
} catch (error) {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`provider-health: unexpected error: ${redactSecrets(text)}\n`);
  code = 1;
}
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Exit now rather than when the last handle closes: a hung checker's socket must not hold the process.
process.exit(code);

/** Waits until everything written to `stream` has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
