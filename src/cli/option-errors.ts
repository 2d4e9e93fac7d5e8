/**
 * Library option errors as config messages: the error's `option` and `scope`
 * (see `isOptionError`) say which field it is about; the message loses the
 * library's framing (``Expected `x` to be``, `httpChecker: `) since the config
 * line names the field already.
 */
import { isOptionError } from '../index.js';

/** An option error, reduced to what a config message needs. */
export interface OptionProblem {
  /**
   * The option's path as the library spells it, array items as indexes:
   * `['concurrency']`, `['tls', 'ca']`, `['servers', 0]` (from `servers[0]`).
   */
  readonly option: readonly [string, ...(string | number)[]];
  /** Who validated it (`httpChecker`); `undefined` for the core, the handler and the Redis cache. */
  readonly scope: string | undefined;
  /** What was expected and what was found: `expected at least 1, got 0`. */
  readonly message: string;
}

/**
 * The option an error is about and its message for a config line, or
 * `undefined` when `error` is not about an option (then it is passed on as is).
 */
export function optionProblem(error: unknown): OptionProblem | undefined {
  if (isOptionError(error)) {
    const message = configMessage(error.message, error.option, error.scope);
    return { option: optionPath(error.option), scope: error.scope, message };
  }
  return undefined;
}

/** `tls.ca` → `['tls', 'ca']`; `servers[0]` → `['servers', 0]`; `a[1][2].b` → `['a', 1, 2, 'b']`. */
export function optionPath(option: string): [string, ...(string | number)[]] {
  const path: (string | number)[] = [];
  for (const part of option.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])+)$/.exec(part);
    if (match === null) {
      path.push(part);
      continue;
    }
    if (match[1] !== '') path.push(match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(index[1]));
  }
  const [first = '', ...rest] = path;
  return [String(first), ...rest];
}

/** ``Expected `concurrency` to be at least 1, got 0`` → `expected at least 1, got 0`. */
function configMessage(message: string, option: string, scope: string | undefined): string {
  if (scope !== undefined && message.startsWith(`${scope}: `)) return message.slice(scope.length + 2);
  const framing = `Expected \`${option}\` to be `;
  if (message.startsWith(framing)) return `expected ${message.slice(framing.length)}`;
  return message.charAt(0).toLowerCase() + message.slice(1);
}
