import { millisToNanos } from './status.js';
import type { WindowSummary } from './uptime-windows.js';

/**
 * The 24-hour, 7-day and 30-day figures in the wire form, beside a
 * provider's `uptime`/`latency_p50`/`latency_p95`: uptime ratios 0 to 1 (0
 * without results in the window), latency percentiles as integer
 * nanoseconds like every other latency (estimates within a factor of 2, from
 * log₂ buckets).
 */
export interface WindowsJSON {
  uptime_24h: number;
  uptime_7d: number;
  uptime_30d: number;
  latency_p50_24h: number;
  latency_p95_24h: number;
  latency_p50_7d: number;
  latency_p95_7d: number;
  latency_p50_30d: number;
  latency_p95_30d: number;
}

/** The field names of {@link WindowsJSON}, in the order they are sent. */
export const WINDOW_FIELDS = [
  'uptime_24h',
  'uptime_7d',
  'uptime_30d',
  'latency_p50_24h',
  'latency_p95_24h',
  'latency_p50_7d',
  'latency_p95_7d',
  'latency_p50_30d',
  'latency_p95_30d',
] as const satisfies readonly (keyof WindowsJSON)[];

/** The wire form of a provider's windows; all zeros for `undefined` (no history yet). Pure. */
export function windowsToJSON(windows: WindowSummary | undefined): WindowsJSON {
  return {
    uptime_24h: windows?.['24h'].uptime ?? 0,
    uptime_7d: windows?.['7d'].uptime ?? 0,
    uptime_30d: windows?.['30d'].uptime ?? 0,
    latency_p50_24h: millisToNanos(windows?.['24h'].latencyP50 ?? 0),
    latency_p95_24h: millisToNanos(windows?.['24h'].latencyP95 ?? 0),
    latency_p50_7d: millisToNanos(windows?.['7d'].latencyP50 ?? 0),
    latency_p95_7d: millisToNanos(windows?.['7d'].latencyP95 ?? 0),
    latency_p50_30d: millisToNanos(windows?.['30d'].latencyP50 ?? 0),
    latency_p95_30d: millisToNanos(windows?.['30d'].latencyP95 ?? 0),
  };
}
