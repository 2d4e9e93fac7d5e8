import type { Env } from './providers.js';

/** A stream the CLI writes to: `process.stdout` or `process.stderr`. */
export interface OutputStream {
  write(text: string): unknown;
  /** Set when the stream is a terminal. */
  readonly isTTY?: boolean | undefined;
  /** The terminal's width, when it is one. */
  readonly columns?: number | undefined;
}

/** The process's outside world as the commands see it, so that `main` decides what is real. */
export interface Io {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Env;
  /**
   * The directory relative paths (`--config`, `tls.ca` …) resolve against;
   * default `process.cwd()`. Messages still quote paths as given.
   */
  readonly cwd?: string | undefined;
}
