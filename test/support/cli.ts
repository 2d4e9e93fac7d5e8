/**
 * Runs the CLI: in this process through its exported `main` (from `src/`, no
 * build needed: for config errors, usage errors and short checks), or the
 * built bin (`node dist/cli/main.js`) as a real child process, for what only a
 * process shows (signals, exit, the bin itself): `npm test` builds first; for
 * a single file, run `npm run build` before.
 *
 * ```ts
 * const quick = await runMain(['check', '--config', 'x.yaml'], { cwd: dir, env: cliEnv({ HOME: dir }) });
 * const result = await runCli(['check', '--config', file], { env: cliEnv({ HOME: home }) });
 * const server = startCli(['serve', '--port', '0'], { env });
 * const line = await server.waitForLine(/listening on (\S+)/);
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/program.js';

/**
 * The built entry point; `PROVIDER_HEALTH_CLI` may name another build (a
 * private copy, so that a concurrent `npm run build` cannot pull it away).
 */
export const CLI_PATH =
  process.env['PROVIDER_HEALTH_CLI'] ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
/** The repository root, the CLI's working directory in tests. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Variables that steer discovery or the server: removed from the child's environment unless given. */
const STEERING = [
  'DOCKER_HOST',
  'DOCKER_TLS',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CERT_PATH',
  'KUBECONFIG',
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
  'NOMAD_ADDR',
  'NOMAD_TOKEN',
  'NOMAD_REGION',
  'NOMAD_CACERT',
  'NOMAD_CLIENT_CERT',
  'NOMAD_CLIENT_KEY',
  'NOMAD_SKIP_VERIFY',
  'NOMAD_TLS_SERVER_NAME',
  'XDG_RUNTIME_DIR',
  'PROVIDER_HEALTH_TOKEN',
  'PROVIDER_HEALTH_REDIS_URL',
  'NO_COLOR',
  'FORCE_COLOR',
];

/**
 * The child's environment: this process's, less every variable that steers
 * discovery, plus `overrides` (`undefined` removes a variable). Point HOME at
 * a temporary directory so `~/.kube/config` is the test's choice.
 */
export function cliEnv(overrides: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of STEERING) delete env[name];
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** How a CLI run ended. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCli} and {@link startCli}. */
export interface CliOptions {
  /** The child's environment; default `cliEnv({})`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory; default the repository root. */
  readonly cwd?: string;
}

/** A CLI process still running. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first stdout line matching `pattern` (waiting for it
   * up to `timeout` ms); rejects with the output so far if the process exits
   * or the time runs out first.
   */
  waitForLine(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<CliResult>;
  /** Sends SIGKILL if still running and waits for the exit: for `after` hooks. */
  kill(): Promise<CliResult>;
}

/** Starts the CLI with `args`; call `kill()` in a `finally` or `after`. */
export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} does not exist: run \`npm run build\` first`);
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? cliEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lineWaiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of lineWaiters) waiter();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      for (const waiter of lineWaiters) waiter();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLine(pattern, timeout = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          for (const line of stdout.split('\n')) {
            const match = line.match(pattern);
            if (match) {
              finish();
              resolve(match);
              return;
            }
          }
          if (!running()) {
            finish();
            reject(
              new Error(`the CLI exited before printing ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `no line matched ${pattern} within ${timeout} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
        }, timeout);
        const finish = (): void => {
          clearTimeout(timer);
          lineWaiters.delete(check);
        };
        lineWaiters.add(check);
        check();
      });
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Runs the CLI to the end (killing it after `timeout` ms, default 60 s) and returns its output. */
export async function runCli(
  args: readonly string[],
  options: CliOptions & { readonly timeout?: number } = {},
): Promise<CliResult> {
  const cli = startCli(args, options);
  const timer = setTimeout(() => void cli.kill(), options.timeout ?? 60_000);
  try {
    const result = await cli.exited;
    if (result.signal === 'SIGKILL') {
      throw new Error(`the CLI did not finish in time\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every 20 ms until it holds; rejects naming `what` after `timeout` ms (default 30 s). */
export async function waitUntil(condition: () => boolean, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Runs the CLI's `main` in this process with captured stdout and stderr (not
 * terminals) and resolves with its exit code and output; `signal` is always
 * null. After `timeout` ms (default 30 s) it aborts the run as SIGTERM would,
 * and rejects saying so.
 */
export async function runMain(
  args: readonly string[],
  options: CliOptions & { readonly timeout?: number } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort('SIGTERM'), options.timeout ?? 30_000);
  try {
    const code = await main(
      args,
      {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env: options.env ?? cliEnv({}),
        cwd: options.cwd ?? REPO_ROOT,
      },
      stop.signal,
    );
    if (stop.signal.aborted) {
      throw new Error(`the CLI did not finish in time\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    return { code, signal: null, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
