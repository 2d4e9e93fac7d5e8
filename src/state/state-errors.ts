/** The typed errors of the state store, each carrying the file's path. */

/**
 * A state file that could not be read or parsed. When {@link movedTo} is set,
 * the file was moved there and the store started empty (it is reported, not
 * thrown); when it is `undefined`, the file could not be moved and opening failed.
 */
export class StateFileCorruptError extends Error {
  /** The state file. */
  readonly path: string;
  /** Where the bad file now is, or `undefined` if it could not be moved. */
  readonly movedTo: string | undefined;
  /** What was wrong with it. */
  readonly reason: string;

  constructor(path: string, reason: string, movedTo: string | undefined) {
    super(
      movedTo === undefined
        ? `State file ${path} is unreadable or corrupt (${reason}); it was left in place, so the store did not start`
        : `State file ${path} is unreadable or corrupt (${reason}); moved aside to ${movedTo}, starting empty`,
    );
    this.name = 'StateFileCorruptError';
    this.path = path;
    this.movedTo = movedTo;
    this.reason = reason;
  }
}

/** Whether `error` is a {@link StateFileCorruptError}. */
export function isStateFileCorruptError(error: unknown): error is StateFileCorruptError {
  return error instanceof StateFileCorruptError;
}

/** A state file written by a newer version of provider-health: refused and left untouched. */
export class StateVersionError extends Error {
  /** The state file. */
  readonly path: string;
  /** The version in the file. */
  readonly version: number;
  /** The highest version this code reads. */
  readonly supported: number;

  constructor(path: string, version: number, supported: number) {
    super(
      `State file ${path} has format version ${version}, newer than this provider-health reads (${supported}); ` +
        'it was left untouched: upgrade provider-health, or point state.file elsewhere',
    );
    this.name = 'StateVersionError';
    this.path = path;
    this.version = version;
    this.supported = supported;
  }
}

/** Whether `error` is a {@link StateVersionError}. */
export function isStateVersionError(error: unknown): error is StateVersionError {
  return error instanceof StateVersionError;
}
