/**
 * The library's typed errors. Each carries what went wrong as data, and each
 * has a guard, so callers (the CLI, the HTTP handler, users) branch on the kind
 * and read fields instead of parsing messages.
 */

const OPTION_ERROR: unique symbol = Symbol.for('provider-health.OptionError');

/** What both option error classes share: the option's path and the value it got. */
export interface OptionError extends Error {
  /** The option's path as the caller spelt it, such as `pollInterval` or `tls.ca`. */
  readonly option: string;
  /** The value given; `undefined` when the option holds a secret (never kept in an error). */
  readonly value: unknown;
  /** Who validated it, such as `dockerChecker`; `undefined` for the core's own options. */
  readonly scope: string | undefined;
  /** Marks both classes for {@link isOptionError}, across copies of the package. @internal */
  readonly [OPTION_ERROR]: true;
}

/** The details an option error is built from. */
export interface OptionErrorInit {
  readonly option: string;
  readonly value: unknown;
  readonly scope?: string | undefined;
  /** The option holds a secret: its value is not kept. */
  readonly secret?: boolean | undefined;
}

/** An option of the wrong type (a string where a number belongs). Its `name` stays `TypeError`. */
export class OptionTypeError extends TypeError implements OptionError {
  readonly option: string;
  readonly value: unknown;
  readonly scope: string | undefined;
  readonly [OPTION_ERROR] = true as const;

  constructor(message: string, init: OptionErrorInit) {
    super(message);
    this.option = init.option;
    this.value = init.secret === true ? undefined : init.value;
    this.scope = init.scope;
  }
}

/** An option of the right type but out of range (a negative interval). Its `name` stays `RangeError`. */
export class OptionRangeError extends RangeError implements OptionError {
  readonly option: string;
  readonly value: unknown;
  readonly scope: string | undefined;
  readonly [OPTION_ERROR] = true as const;

  constructor(message: string, init: OptionErrorInit) {
    super(message);
    this.option = init.option;
    this.value = init.secret === true ? undefined : init.value;
    this.scope = init.scope;
  }
}

/** Whether `error` is an {@link OptionTypeError} or {@link OptionRangeError}. */
export function isOptionError(error: unknown): error is OptionError {
  return (
    typeof error === 'object' && error !== null && (error as Partial<OptionError>)[OPTION_ERROR] === true
  );
}

/** A provider name that is not registered (`checkProvider('nope')`). */
export class UnknownProviderError extends Error {
  /** The name asked for. */
  readonly provider: string;

  constructor(provider: string) {
    super(`No provider named ${JSON.stringify(provider)} is registered`);
    this.name = 'UnknownProviderError';
    this.provider = provider;
  }
}

/** Whether `error` is an {@link UnknownProviderError}. */
export function isUnknownProviderError(error: unknown): error is UnknownProviderError {
  return error instanceof UnknownProviderError;
}

/** `run()` called while another `run()` of the same cache is active. */
export class AlreadyRunningError extends Error {
  constructor(what: string) {
    super(`${what}.run() is already active: abort its signal before starting another`);
    this.name = 'AlreadyRunningError';
  }
}

/** Whether `error` is an {@link AlreadyRunningError}. */
export function isAlreadyRunningError(error: unknown): error is AlreadyRunningError {
  return error instanceof AlreadyRunningError;
}

/** A method called on a cache (or handler) after `dispose()`. */
export class DisposedError extends Error {
  /** The method called, such as `HealthCache.checkNow`. */
  readonly method: string;

  constructor(method: string) {
    super(`${method}() called after dispose()`);
    this.name = 'DisposedError';
    this.method = method;
  }
}

/** Whether `error` is a {@link DisposedError}. */
export function isDisposedError(error: unknown): error is DisposedError {
  return error instanceof DisposedError;
}
