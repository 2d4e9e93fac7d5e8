/**
 * The command line of `provider-health silence add|list|expire`: flags parsed
 * and checked here (a bad selector names its position), so that a bad
 * command line never reaches the server.
 */
import type { ParseArgsConfig } from 'node:util';
import { COMMON, selectorFlag, strictParse, UsageError } from './args-common.js';
import { parseDuration } from './duration.js';

/** The longest `--duration`: 30 days, the server's bound for one silence. */
const MAX_SILENCE_DURATION = 30 * 86_400_000;
/** The default `--server`: where `serve` listens by default. */
export const DEFAULT_SERVER = 'http://127.0.0.1:7070';
/** The default `--timeout`: a request to the server gives up after this. */
export const DEFAULT_TIMEOUT = 10_000;

/** A silence to create, as the command line gives it (`createdBy` defaulted later, to the OS user). */
export interface SilenceRequest {
  /** A selector (canonical text) or provider names. */
  readonly matchers: string | readonly string[];
  readonly startsAt: string | undefined;
  readonly endsAt: string | undefined;
  /** Milliseconds. */
  readonly duration: number | undefined;
  readonly comment: string;
  readonly createdBy: string | undefined;
  readonly endsOnRecovery: boolean;
}

/** What `provider-health silence …` asked for. */
export type SilenceInvocation = {
  readonly command: 'silence';
  /** The server's base URL (`http://127.0.0.1:7070`), without credentials. */
  readonly server: URL;
  readonly json: boolean;
  /** Milliseconds one request may take. */
  readonly timeout: number;
} & (
  | { readonly action: 'add'; readonly request: SilenceRequest }
  | { readonly action: 'list' }
  | { readonly action: 'expire'; readonly ids: readonly string[] }
);

const SILENCE_HELP = `Usage: provider-health silence <add|list|expire> [options]

Adds, lists or expires silences on a running provider-health server
(its /api/silences). Silenced providers are still checked and shown, but
flagged silenced, counted apart by /api/health and left out of notifications.

Commands:
  add      Silence the providers a selector (or a list of names) picks
  list     Print the silences pending and in force, and the open maintenance windows
  expire   End silences now: provider-health silence expire ID [ID...]

Run 'provider-health silence <command> --help' for its options.
`;

const SERVER_OPTIONS = `      --server URL         The server (default: ${DEFAULT_SERVER})
      --timeout DURATION   Give up on a request after this (default: 10s)
      --json               Print the server's JSON answer
  -h, --help               Show this help`;

const ENVIRONMENT = `Environment:
  PROVIDER_HEALTH_TOKEN  Bearer token the server requires (never printed); without
                         it only a server on loopback accepts changes

Exit codes:
  0  done
  1  the server could not be reached, or answered an unexpected error
  2  bad command line, or the server refused the input (the field is named)
  3  not authorised (PROVIDER_HEALTH_TOKEN missing or wrong)
  4  no such silence (expire)
  5  refused: it overlaps a silence with the same matchers, or too many silences
`;

const ADD_HELP = `Usage: provider-health silence add (--selector SELECTOR | --provider NAME...) (--duration DURATION | --ends-at TIME) --comment TEXT [options]

Options:
  -l, --selector SELECTOR  The providers whose labels match (env=prod,team!=db);
                           --matchers is the same flag
      --provider NAME      A provider by name; repeat for several
  -d, --duration DURATION  How long from the start: 30m, 2h, 1d (at most 30d)
      --ends-at TIME       Or the end, RFC 3339 with a zone (2026-03-29T04:00:00Z)
      --starts-at TIME     The start, RFC 3339 with a zone (default: now)
  -m, --comment TEXT       Why (required; shown on the status page)
      --created-by NAME    Who (default: the operating-system user)
      --ends-on-recovery   End it as soon as every provider it matches is healthy
${SERVER_OPTIONS}

Prints the new silence's id.

${ENVIRONMENT}`;

const LIST_HELP = `Usage: provider-health silence list [options]

Options:
${SERVER_OPTIONS}

${ENVIRONMENT}`;

const EXPIRE_HELP = `Usage: provider-health silence expire ID [ID...] [options]

Options:
${SERVER_OPTIONS}

${ENVIRONMENT}`;

const CONNECTION = {
  ...COMMON,
  server: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const ADD_OPTIONS = {
  ...CONNECTION,
  selector: { type: 'string', short: 'l' },
  matchers: { type: 'string' },
  provider: { type: 'string', multiple: true },
  duration: { type: 'string', short: 'd' },
  'ends-at': { type: 'string' },
  'starts-at': { type: 'string' },
  comment: { type: 'string', short: 'm' },
  'created-by': { type: 'string' },
  'ends-on-recovery': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** What the caller does with help and version requests. */
type Other = { readonly command: 'help'; readonly text: string } | { readonly command: 'version' };

/**
 * Parses `silence <action> …` (without `silence`).
 * @throws UsageError naming the unknown action, flag or bad value.
 */
export function parseSilence(args: readonly string[]): SilenceInvocation | Other {
  const [action, ...rest] = args;
  if (action === undefined)
    throw new UsageError('missing silence command: expected add, list or expire', 'silence');
  if (action === '-h' || action === '--help' || action === 'help')
    return { command: 'help', text: SILENCE_HELP };
  if (action === 'add') return parseAdd(rest);
  if (action === 'list') return parseList(rest);
  if (action === 'expire') return parseExpire(rest);
  throw new UsageError(
    `unknown silence command '${action.slice(0, 40)}': expected add, list or expire`,
    'silence',
  );
}

function parseAdd(args: readonly string[]): SilenceInvocation | Other {
  const command = 'silence add';
  const { values } = strictParse(command, args, ADD_OPTIONS);
  if (values.help) return { command: 'help', text: ADD_HELP };
  if (values.version) return { command: 'version' };
  const connection = parseConnection(command, values);
  const request: SilenceRequest = {
    matchers: parseMatchers(command, values),
    startsAt: nonEmpty(command, '--starts-at', values['starts-at']),
    ...parseEnd(command, values.duration, values['ends-at']),
    comment: required(command, '--comment', values.comment, 'say why, e.g. --comment "OS patching"'),
    createdBy: nonEmpty(command, '--created-by', values['created-by']),
    endsOnRecovery: values['ends-on-recovery'] ?? false,
  };
  return { ...connection, action: 'add', request };
}

function parseList(args: readonly string[]): SilenceInvocation | Other {
  const { values } = strictParse('silence list', args, CONNECTION);
  if (values.help) return { command: 'help', text: LIST_HELP };
  if (values.version) return { command: 'version' };
  return { ...parseConnection('silence list', values), action: 'list' };
}

function parseExpire(args: readonly string[]): SilenceInvocation | Other {
  const command = 'silence expire';
  const { values, positionals } = strictParse(command, args, CONNECTION, true);
  if (values.help) return { command: 'help', text: EXPIRE_HELP };
  if (values.version) return { command: 'version' };
  if (positionals.length === 0) throw new UsageError('missing the id of the silence to expire', command);
  for (const id of positionals) {
    // Ids are UUIDs; anything else would only be a 404 (or a path trick) on the server.
    if (!/^[0-9a-fA-F-]{1,64}$/.test(id))
      throw new UsageError(`expected a silence id (a UUID), got ${JSON.stringify(id.slice(0, 80))}`, command);
  }
  return { ...parseConnection(command, values), action: 'expire', ids: [...new Set(positionals)] };
}

/** `--server`, `--timeout` and `--json`. */
function parseConnection(
  command: string,
  values: { server?: string | undefined; timeout?: string | undefined; json?: boolean | undefined },
): { command: 'silence'; server: URL; json: boolean; timeout: number } {
  return {
    command: 'silence',
    server: parseServer(command, values.server ?? DEFAULT_SERVER),
    json: values.json ?? false,
    timeout: values.timeout === undefined ? DEFAULT_TIMEOUT : parseTimeout(command, values.timeout),
  };
}

/** An http(s) URL without credentials (the token goes in PROVIDER_HEALTH_TOKEN), query or fragment. */
function parseServer(command: string, text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new UsageError(
      `--server: expected an http:// or https:// URL such as ${DEFAULT_SERVER}, got ${url === undefined ? 'something else' : url.protocol}`,
      command,
    );
  // Never echo the URL here: it may carry a password.
  if (url.username !== '' || url.password !== '')
    throw new UsageError(
      '--server: the URL must not carry credentials; put the token in PROVIDER_HEALTH_TOKEN',
      command,
    );
  if (url.search !== '' || url.hash !== '')
    throw new UsageError('--server: expected the server URL without a query or fragment', command);
  return url;
}

function parseTimeout(command: string, text: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`, command);
  }
  throw new UsageError('--timeout: expected a duration above 0', command);
}

function parseMatchers(
  command: string,
  values: { selector?: string | undefined; matchers?: string | undefined; provider?: string[] | undefined },
): string | readonly string[] {
  const selectors = [values.selector, values.matchers].filter((value) => value !== undefined);
  const names = values.provider ?? [];
  if (selectors.length + (names.length > 0 ? 1 : 0) !== 1)
    throw new UsageError(
      'expected exactly one of --selector (or --matchers) and --provider, to say what to silence',
      command,
    );
  if (names.length > 0) {
    if (names.some((name) => name === ''))
      throw new UsageError('--provider: expected a provider name', command);
    return names;
  }
  const text = selectors[0] as string;
  const selector = selectorFlag(command, values.selector === undefined ? '--matchers' : '--selector', text);
  // The server refuses an empty selector too; say it before asking.
  if (selector.empty)
    throw new UsageError(
      '--selector: expected at least one requirement (an empty one selects everything)',
      command,
    );
  return selector.toString();
}

function parseEnd(
  command: string,
  duration: string | undefined,
  endsAt: string | undefined,
): { duration: number | undefined; endsAt: string | undefined } {
  if ((duration === undefined) === (endsAt === undefined))
    throw new UsageError('expected exactly one of --duration (2h) and --ends-at (an RFC 3339 time)', command);
  if (duration === undefined) return { duration: undefined, endsAt: nonEmpty(command, '--ends-at', endsAt) };
  try {
    const ms = parseDuration(duration, { max: MAX_SILENCE_DURATION, text: '30d' });
    if (ms > 0) return { duration: ms, endsAt: undefined };
  } catch (error) {
    throw new UsageError(`--duration: ${(error as Error).message}`, command);
  }
  throw new UsageError('--duration: expected a duration above 0, such as 2h', command);
}

function required(command: string, flag: string, value: string | undefined, hint: string): string {
  if (value === undefined || value.trim() === '')
    throw new UsageError(`${flag} is required: ${hint}`, command);
  return value;
}

function nonEmpty(command: string, flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '')
    throw new UsageError(`${flag}: expected a value, got ""`, command);
  return value;
}
