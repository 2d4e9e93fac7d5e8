import type { HealthView } from '../health-view.js';
import type { HistorySample } from '../history.js';
import { windowsToJSON, type WindowsJSON } from '../history-json.js';
import type { Labels } from '../labels.js';
import { millisToNanos, statusToJSON, type StatusJSON } from '../status.js';
import { plainDetails } from './plain-json.js';

/**
 * One provider as the HTTP API returns it: the Go wire form of
 * `statusToJSON` plus `samples`, the number of results the uptime and
 * percentiles are computed over, and (when the view keeps them) the
 * 24h/7d/30d figures `uptime_24h` … `latency_p95_30d` ({@link WindowsJSON}).
 */
export interface ProviderJSON extends StatusJSON, Partial<WindowsJSON> {
  /** How many recent results `uptime`, `latency_p50` and `latency_p95` cover. */
  samples: number;
}

/** One past result in the wire form: `latency` in integer nanoseconds, `checked_at` RFC 3339. */
export interface HistorySampleJSON {
  checked_at: string;
  latency: number;
  state: HistorySample['state'];
}

/** Go's zero `time.Time`, which is what a Go client decodes a never-checked time as. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The wire form of `name`: its status when checked, otherwise a placeholder
 * with `state: "unknown"` (registered, never checked) carrying the labels and
 * dependencies it was registered with, so selectors see it before its first check.
 */
export function providerToJSON(view: HealthView, name: string): ProviderJSON {
  const status = view.get(name);
  if (status === undefined) {
    const placeholder: ProviderJSON = {
      name,
      healthy: false,
      message: 'not checked yet',
      latency: 0,
      checked_at: GO_ZERO_TIME,
      state: 'unknown',
      stale: false,
      consecutive_failures: 0,
      consecutive_successes: 0,
      uptime: 0,
      latency_p50: 0,
      latency_p95: 0,
      samples: 0,
      ...windows(view, name),
    };
    // Keys in statusToJSON's order: depends_on, then labels.
    const dependsOn = view.registry.dependsOn(name);
    if (dependsOn.length > 0) placeholder.depends_on = dependsOn;
    const labels = view.registry.labels(name);
    if (hasKeys(labels)) placeholder.labels = labels;
    return placeholder;
  }
  const base = statusToJSON(status);
  // The registry's labels: the same as the status's once committed, and current at once after a
  // relabelling (a selector must not keep matching labels the provider no longer has).
  const labels = view.registry.labels(name);
  if (labels !== status.labels && view.registry.has(name)) {
    delete base.labels;
    if (hasKeys(labels)) base.labels = labels;
  }
  const json: ProviderJSON = { ...base, samples: status.history.samples, ...windows(view, name) };
  if (json.details) json.details = plainDetails(json.details);
  return json;
}

/** Every registered provider, sorted by name, in the wire form. */
export function providersToJSON(view: HealthView): ProviderJSON[] {
  return view.registry.names().map((name) => providerToJSON(view, name));
}

/**
 * The recent results of every provider, keyed by name. A null-prototype
 * object, so a provider named `__proto__` is an ordinary key (on a plain
 * object the assignment would set the prototype and the name would vanish).
 */
export function allHistoryToJSON(view: HealthView): Record<string, HistorySampleJSON[]> {
  const all = Object.create(null) as Record<string, HistorySampleJSON[]>;
  for (const name of view.registry.names()) all[name] = historyToJSON(view, name);
  return all;
}

/** The recent results of `name`, oldest first, in the wire form. */
export function historyToJSON(view: HealthView, name: string): HistorySampleJSON[] {
  return view.history(name).map((sample) => ({
    checked_at: sample.checkedAt.toISOString(),
    latency: millisToNanos(sample.latency),
    state: sample.state,
  }));
}

/** `uptime_24h` … `latency_p95_30d` when the view keeps windows (`HealthView.windows`), else nothing. */
function windows(view: HealthView, name: string): Partial<WindowsJSON> {
  return view.windows === undefined ? {} : windowsToJSON(view.windows(name));
}

function hasKeys(labels: Labels): boolean {
  for (const _ in labels) return true;
  return false;
}
