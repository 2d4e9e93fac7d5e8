import type { ParseArgsConfig } from 'node:util';
import type { Selector } from '../selector.js';
import { COMMON, selectorFlag, strictParse, UsageError } from './args-common.js';
import { parseSilence, type SilenceInvocation } from './silence-args.js';

export { UsageError } from './args-common.js';

/** What the command line asked for. */
export type Invocation =
  | { readonly command: 'help'; readonly text: string }
  | { readonly command: 'version' }
  | {
      readonly command: 'serve';
      readonly config: string | undefined;
      readonly host: string | undefined;
      readonly port: number | undefined;
      readonly logFormat: LogFormat;
    }
  | {
      readonly command: 'check';
      readonly config: string | undefined;
      readonly json: boolean;
      /** Only the providers this selects (and what they depend on) are checked. */
      readonly selector: Selector | undefined;
    }
  | SilenceInvocation;

/** How `serve` writes its log lines. */
export type LogFormat = 'text' | 'json';

/** The help of the root command. */
const ROOT_HELP = `Usage: provider-health <command> [options]

Keeps the health of Docker, Kubernetes, Nomad, HTTP and TCP providers.

Commands:
  serve    Poll the providers and serve their health over HTTP
  check    Check every provider once, print the result, exit 0 when all are healthy
  silence  Add, list or expire silences on a running server (silence --help)
  notify   Send a test notification to every notifier of the config (notify test --help)

Options:
  -h, --help     Show help (also after a command: provider-health serve --help)
      --version  Print the version

Without --config, the local Docker, Kubernetes and Nomad are discovered.
`;

const SERVE_HELP = `Usage: provider-health serve [options]

Polls the providers in the background and serves their health over HTTP
(JSON API, server-sent events, status page). Stops on SIGINT or SIGTERM.

Options:
  -c, --config FILE        YAML or JSON config; without it, discover local providers
      --host HOST          Address to listen on (default: 127.0.0.1, or server.host)
  -p, --port PORT          Port to listen on, 0 for any free port (default: 7070, or server.port)
      --log-format FORMAT  text or json (one JSON object per line) (default: text)
  -h, --help               Show this help
      --version            Print the version

Environment:
  PROVIDER_HEALTH_TOKEN      Bearer token the HTTP API requires (overrides server.token)
  PROVIDER_HEALTH_REDIS_URL  Share one poller between replicas through Redis
`;

const CHECK_HELP = `Usage: provider-health check [options]

Checks every provider once and prints a table (or JSON).

Options:
  -c, --config FILE      YAML or JSON config; without it, discover local providers
  -l, --selector SELECTOR
                         Only the providers whose labels match (Kubernetes syntax:
                         env=prod,team!=db,tier in (a,b),!canary); the providers
                         they depend on are checked too but not shown
      --json             Print the statuses as a JSON array
  -h, --help         Show this help
      --version      Print the version

Exit codes:
  0  every provider is healthy (a degraded one prints a warning)
  1  a provider is unhealthy, or there is no provider to check
  2  bad command line (a bad selector names the position) or config
`;

const SERVE_OPTIONS = {
  ...COMMON,
  config: { type: 'string', short: 'c' },
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'log-format': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const CHECK_OPTIONS = {
  ...COMMON,
  config: { type: 'string', short: 'c' },
  selector: { type: 'string', short: 'l' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Parses `argv` (without the node and script paths).
 * @throws UsageError naming the unknown command, flag or bad value.
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('missing command: expected serve, check, silence or notify');
  if (first === '-h' || first === '--help' || first === 'help') return { command: 'help', text: ROOT_HELP };
  if (first === '--version') return { command: 'version' };
  if (first === 'serve') return parseServe(rest);
  if (first === 'check') return parseCheck(rest);
  if (first === 'silence') return parseSilence(rest);
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
  throw new UsageError(`unknown command '${first}': expected serve, check, silence or notify`);
}

function parseServe(args: readonly string[]): Invocation {
  const { values } = strictParse('serve', args, SERVE_OPTIONS);
  if (values.help) return { command: 'help', text: SERVE_HELP };
  if (values.version) return { command: 'version' };
  const logFormat = values['log-format'] ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(`--log-format: expected text or json, got ${JSON.stringify(logFormat)}`, 'serve');
  }
  if (values.host !== undefined && values.host.trim() === '') {
    throw new UsageError('--host: expected a host name or address, got ""', 'serve');
  }
  return {
    command: 'serve',
    config: optionalPath('serve', values.config),
    host: values.host,
    port: values.port === undefined ? undefined : parsePort(values.port),
    logFormat,
  };
}

function parseCheck(args: readonly string[]): Invocation {
  const { values } = strictParse('check', args, CHECK_OPTIONS);
  if (values.help) return { command: 'help', text: CHECK_HELP };
  if (values.version) return { command: 'version' };
  return {
    command: 'check',
    config: optionalPath('check', values.config),
    json: values.json ?? false,
    selector:
      values.selector === undefined ? undefined : selectorFlag('check', '--selector', values.selector),
  };
}

function optionalPath(command: 'serve' | 'check', value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') {
    throw new UsageError('--config: expected a file path, got ""', command);
  }
  return value;
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new UsageError(
      `--port: expected a port number from 0 to 65535, got ${JSON.stringify(text)}`,
      'serve',
    );
  }
  return port;
}
