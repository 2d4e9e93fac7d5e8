import { redactSecrets } from '../../messages.js';
import type { Answer } from './request.js';

/**
 * The Docker checker's opt-in `info` check: `GET /info` and the daemon's
 * `Warnings` (no swap limit support, an API open without TLS, a deprecated
 * storage driver...). A daemon that answers `/_ping` but cannot give its info
 * is `degraded`, never unhealthy: the ping already said it is up.
 * @internal
 */

/** Bytes of `/info` read (a daemon's info is a few KB). */
export const MAX_INFO_BYTES = 1024 * 1024;
/** Warnings kept in `details.warnings` and the message. */
const MAX_WARNINGS = 10;
/** Characters kept of one warning. */
const MAX_WARNING_LENGTH = 200;

/** What `/info` adds to a healthy report. */
export interface InfoVerdict {
  readonly details: Record<string, unknown>;
  /** Why the check is degraded, if it is. */
  readonly degraded: string | undefined;
}

function cut(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** Judges the answer to `GET /info`. */
export function judgeInfo(answer: Answer): InfoVerdict {
  if (answer.status !== 200) {
    const why =
      answer.status === 401
        ? ': authentication failed'
        : answer.status === 403
          ? ': not authorised to read the daemon info'
          : '';
    return {
      details: {},
      degraded: `/info answered ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}${why}`,
    };
  }
  let info: unknown;
  try {
    info = JSON.parse(answer.body);
  } catch {
    info = undefined;
  }
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    return {
      details: {},
      degraded: answer.truncated
        ? `/info answered more than ${MAX_INFO_BYTES} bytes`
        : '/info answered 200 but not a JSON object',
    };
  }
  const raw = (info as { Warnings?: unknown }).Warnings;
  const all = Array.isArray(raw)
    ? raw.filter((warning): warning is string => typeof warning === 'string' && warning.trim() !== '')
    : [];
  const warnings = all
    .slice(0, MAX_WARNINGS)
    .map((warning) => cut(redactSecrets(warning.trim().replace(/^WARNING:\s*/, '')), MAX_WARNING_LENGTH));
  const more = all.length > warnings.length ? ` (and ${all.length - warnings.length} more)` : '';
  const details: Record<string, unknown> = { warnings };
  const { Containers, ContainersRunning, Images } = info as Record<string, unknown>;
  if (typeof Containers === 'number') details.containers = Containers;
  if (typeof ContainersRunning === 'number') details.containersRunning = ContainersRunning;
  if (typeof Images === 'number') details.images = Images;
  return {
    details,
    degraded: warnings.length > 0 ? `daemon warnings: ${warnings.join('; ')}${more}` : undefined,
  };
}
