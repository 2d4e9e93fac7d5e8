import type { HealthReport } from './provider.js';

/** A checker's outcome, validated. @internal */
export interface ValidReport {
  readonly state: 'healthy' | 'degraded' | 'unhealthy';
  readonly message: string | undefined;
  readonly latency: number | undefined;
  readonly checkedAt: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Validates what `healthCheck` resolved with. `undefined` is healthy; anything
 * that is not a {@link HealthReport} yields an error string naming the problem.
 * @internal
 */
export function parseReport(value: unknown): ValidReport | string {
  if (value === undefined) {
    return {
      state: 'healthy',
      message: undefined,
      latency: undefined,
      checkedAt: undefined,
      details: undefined,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `checker returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`} instead of a health report ({ healthy: boolean, ... })`;
  }
  const report = value as Partial<Record<keyof HealthReport, unknown>>;
  if (typeof report.healthy !== 'boolean') {
    return `checker returned an invalid health report: \`healthy\` must be a boolean, got ${typeof report.healthy}`;
  }
  if (report.message !== undefined && typeof report.message !== 'string') {
    return `checker returned an invalid health report: \`message\` must be a string, got ${typeof report.message}`;
  }
  if (
    report.latency !== undefined &&
    (typeof report.latency !== 'number' || !Number.isFinite(report.latency) || report.latency < 0)
  ) {
    return `checker returned an invalid health report: \`latency\` must be a finite number of ms >= 0, got ${describeValue(report.latency)}`;
  }
  if (
    report.checkedAt !== undefined &&
    (!(report.checkedAt instanceof Date) || Number.isNaN(report.checkedAt.getTime()))
  ) {
    return 'checker returned an invalid health report: `checkedAt` must be a valid Date';
  }
  if (report.degraded !== undefined && typeof report.degraded !== 'boolean') {
    return `checker returned an invalid health report: \`degraded\` must be a boolean, got ${typeof report.degraded}`;
  }
  if (
    report.details !== undefined &&
    (typeof report.details !== 'object' || report.details === null || Array.isArray(report.details))
  ) {
    return 'checker returned an invalid health report: `details` must be a plain object';
  }
  return {
    state: report.healthy ? (report.degraded === true ? 'degraded' : 'healthy') : 'unhealthy',
    message: report.message,
    latency: report.latency,
    checkedAt: report.checkedAt?.getTime(),
    details: report.details ? Object.freeze({ ...(report.details as Record<string, unknown>) }) : undefined,
  };
}

function describeValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}
