import { redactSecrets } from '../index.js';
import type { LogFormat } from './args.js';

/** Extra facts of a log line; strings are redacted like messages. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where `serve` writes its log lines. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The part of a stream a logger writes to. */
export interface LineSink {
  write(text: string): unknown;
}

/**
 * A logger writing one line per call: `text` is
 * `2026-01-01T00:00:00.000Z INFO  message` (the message says it all), `json`
 * one object per line (`{"time", "level", "msg", ...fields}`). Every string goes through
 * `redactSecrets`, a last line of defence against credentials in messages.
 */
export function createLogger(format: LogFormat, sink: LineSink, now: () => Date = () => new Date()): Logger {
  const write = (level: 'info' | 'warn' | 'error', message: string, fields: LogFields = {}): void => {
    const time = now().toISOString();
    const safe = Object.entries(fields).filter(
      (entry): entry is [string, string | number | boolean] => entry[1] !== undefined,
    );
    if (format === 'json') {
      const record: Record<string, string | number | boolean> = { time, level, msg: redactSecrets(message) };
      for (const [key, value] of safe) record[key] = typeof value === 'string' ? redactSecrets(value) : value;
      sink.write(`${JSON.stringify(record)}\n`);
      return;
    }
    // People read the message; the fields repeat it for machines.
    sink.write(`${time} ${level.toUpperCase().padEnd(5)} ${oneLine(redactSecrets(message))}\n`);
  };
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

/**
 * One line of plain text: line breaks become a space, and other control
 * characters (an escape sequence, a carriage return, NUL: text from outside,
 * such as a silence comment) are shown as `\u001b`, so nothing can forge a
 * line or restyle the terminal.
 */
function oneLine(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// C0 but tab and line feed, DEL, C1. Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
