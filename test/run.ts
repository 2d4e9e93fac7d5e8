// `npm test`'s runner: node:test over every test/*.test.ts, with a bound per test and one for the
// whole run, so a hung test fails loudly (naming the bound) instead of stalling CI until it is killed.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Any single test that sets no `timeout` of its own fails after this long. */
const TEST_TIMEOUT_MS = 180_000;
/** The whole run; CI allows 90 minutes for installs and everything else. */
const RUN_TIMEOUT_MS = 40 * 60_000;

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.test.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
  .sort()
  .map((file) => `${dir}${file}`);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-timeout=${TEST_TIMEOUT_MS}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
const started = Date.now();
const bound = setTimeout(() => {
  console.error(
    `\nnpm test: the run exceeded its overall bound of ${RUN_TIMEOUT_MS / 60_000} min ` +
      `(started ${Math.round((Date.now() - started) / 1000)} s ago); stopping it. A test is hung.`,
  );
  child.kill('SIGKILL');
  process.exitCode = 1;
}, RUN_TIMEOUT_MS);
child.on('exit', (code, signal) => {
  clearTimeout(bound);
  if (process.exitCode === undefined || process.exitCode === 0) {
    process.exitCode = code ?? (signal === null ? 1 : 128);
  }
});
for (const name of ['SIGINT', 'SIGTERM'] as const) process.on(name, () => child.kill(name));
