/** What every command's flag parsing shares: the usage error and Node's strict `parseArgs`. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isSelectorError, parseSelector, type Selector } from '../selector.js';

/** A bad command line: the message names what was wrong; the process exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose help to point at (`serve`, `silence add`), if one was recognised. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** `--help` and `--version`, which every command takes. */
export const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Node's `parseArgs`, strict, its errors as {@link UsageError}s of `command`. */
export function strictParse<T extends NonNullable<ParseArgsConfig['options']>, P extends boolean = false>(
  command: string,
  args: readonly string[],
  options: T,
  allowPositionals?: P,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: P }>> {
  try {
    return parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: (allowPositionals ?? false) as P,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error), command);
  }
}

/** Node's parseArgs messages, shortened to the part that names the problem. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(message)?.[1];
    return flag === undefined ? message : `unknown option '${flag}'`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /'([^']*)'/.exec(message)?.[1];
    return argument === undefined ? message : `unexpected argument '${argument}'`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '-c, --config <value>' argument missing": name the long form.
    const flag = /(--[\w-]+)/.exec(message)?.[1] ?? /'(-[^' ,]+)/.exec(message)?.[1];
    return flag === undefined ? message : `option '${flag}' expects a value`;
  }
  return message;
}

/**
 * A selector flag's value parsed, or a usage error naming the position of the
 * problem: `--selector: expected a label key at position 4 of "env=,x"`.
 */
export function selectorFlag(command: string, flag: string, text: string): Selector {
  try {
    return parseSelector(text);
  } catch (error) {
    if (!isSelectorError(error)) throw error;
    throw new UsageError(
      `${flag}: ${error.reason} at position ${error.position} of ${JSON.stringify(text.slice(0, 200))}`,
      command,
    );
  }
}
