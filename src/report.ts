import { describeFailure } from './messages.js';
import type { HealthReport } from './provider.js';
import type { CheckState } from './status.js';

/** What a checker's `healthCheck` resolved with, validated. `details` is not copied yet. @internal */
export interface ParsedReport {
  readonly state: CheckState;
  readonly message: string | undefined;
  readonly latency: number | undefined;
  readonly checkedAt: number | undefined;
  readonly details: object | undefined;
}

const HEALTHY: ParsedReport = Object.freeze({
  state: 'healthy',
  message: undefined,
  latency: undefined,
  checkedAt: undefined,
  details: undefined,
});

function invalid(what: string): string {
  return `checker returned an invalid health report: ${what}`;
}

/**
 * Validates what `healthCheck` resolved with. `undefined` is healthy; anything
 * that is not a {@link HealthReport} yields an error string naming the problem.
 * May throw when a getter of the report throws (see {@link readReport}).
 * @internal
 */
function parseReport(value: unknown): ParsedReport | string {
  if (value === undefined) return HEALTHY;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `checker returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`} instead of a health report ({ healthy: boolean, ... })`;
  }
  const report = value as Partial<Record<keyof HealthReport, unknown>>;
  const { healthy, message, latency, checkedAt, degraded, details } = report;
  if (typeof healthy !== 'boolean') return invalid(`\`healthy\` must be a boolean, got ${typeof healthy}`);
  if (message !== undefined && typeof message !== 'string') {
    return invalid(`\`message\` must be a string, got ${typeof message}`);
  }
  if (latency !== undefined && (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0)) {
    const got = typeof latency === 'number' ? String(latency) : typeof latency;
    return invalid(`\`latency\` must be a finite number of ms >= 0, got ${got}`);
  }
  if (checkedAt !== undefined && (!(checkedAt instanceof Date) || Number.isNaN(checkedAt.getTime()))) {
    return invalid('`checkedAt` must be a valid Date');
  }
  if (degraded !== undefined && typeof degraded !== 'boolean') {
    return invalid(`\`degraded\` must be a boolean, got ${typeof degraded}`);
  }
  if (details !== undefined && (typeof details !== 'object' || details === null || Array.isArray(details))) {
    return invalid('`details` must be a plain object');
  }
  return {
    state: healthy ? (degraded === true ? 'degraded' : 'healthy') : 'unhealthy',
    message,
    latency,
    checkedAt: checkedAt?.getTime(),
    details: details ?? undefined,
  };
}

/** {@link parseReport}, also when a report's getters throw: the problem becomes the message. @internal */
export function readReport(value: unknown): ParsedReport | string {
  try {
    return parseReport(value);
  } catch (error) {
    return `checker returned a health report that could not be read: ${describeFailure(error)}`;
  }
}
