import type { HealthView } from '../health-view.js';
import type { HistorySample } from '../history.js';
import { WINDOW_FIELDS, windowsToJSON, type WindowsJSON } from '../history-json.js';
import type { Labels } from '../labels.js';
import { millisToNanos, type Status, type StatusJSON } from '../status.js';
import { plainDetails } from './plain-json.js';
import { WIRE_FIELDS, type WireField } from './providers-query.js';

/**
 * One provider as the HTTP API returns it: the Go wire form of
 * `statusToJSON` plus `samples`, the number of results the uptime and
 * percentiles are computed over, and (when the view keeps them) the
 * 24h/7d/30d figures ({@link WindowsJSON}): `uptime_24h`, `uptime_7d` and
 * `uptime_30d` in every row, the six latency percentiles only in
 * `GET /api/providers/{name}` and when `?fields=` names them.
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

/** Go's zero `time.Time`, which is what a Go client decodes a never-checked time as. @internal */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Which fields a row carries, one flag per wire field. The list and event
 * rows ({@link LIST_FIELDS}) carry the 24h/7d/30d uptimes but not the six
 * window latency percentiles, which only `GET /api/providers/{name}`
 * ({@link DETAIL_FIELDS}) and `?fields=` give: each costs a histogram walk
 * per provider and 10,000 rows of them made the list 1.5 times larger. @internal
 */
export type FieldMask = Readonly<Record<WireField, boolean>>;

/** The six window latency percentiles, left out of list and event rows. */
const WINDOW_PERCENTILES: readonly WireField[] = WINDOW_FIELDS.filter((field) =>
  field.startsWith('latency_'),
);

function maskOf(wanted: (field: WireField) => boolean): FieldMask {
  const mask = {} as Record<WireField, boolean>;
  for (const field of WIRE_FIELDS) mask[field] = wanted(field);
  return Object.freeze(mask);
}

/** Every wire field: `GET /api/providers/{name}`. @internal */
export const DETAIL_FIELDS: FieldMask = maskOf(() => true);
/** `GET /api/providers` and event rows without `?fields=`: all but the window percentiles. @internal */
export const LIST_FIELDS: FieldMask = maskOf((field) => !WINDOW_PERCENTILES.includes(field));

/** Masks of `?fields=` lists seen lately, so a query does not rebuild its mask per row. */
const masks = new Map<string, FieldMask>();
/** At most this many are kept (hostile queries could name many subsets). */
const MAX_MASKS = 64;

/** The mask of a `?fields=` list (validated wire fields). @internal */
export function fieldMask(fields: readonly string[]): FieldMask {
  const key = fields.join(',');
  let mask = masks.get(key);
  if (mask === undefined) {
    const wanted = new Set(fields);
    mask = maskOf((field) => wanted.has(field));
    if (masks.size >= MAX_MASKS) masks.clear();
    masks.set(key, mask);
  }
  return mask;
}

/**
 * The wire form of `name` with the fields of `mask` (by default those of a
 * list row): its status when checked, otherwise a placeholder with
 * `state: "unknown"` (registered, never checked) carrying the labels and
 * dependencies it was registered with, so selectors see it before its first
 * check. Only the fields asked for are computed (the window figures only
 * when one of them is). Keys come in `statusToJSON`'s order, then `samples`
 * and the window fields (a placeholder has `depends_on` and `labels` last).
 */
export function providerToJSON(view: HealthView, name: string, mask: FieldMask = LIST_FIELDS): ProviderJSON {
  const status = view.get(name);
  return (
    status === undefined ? placeholderRow(view, name, mask) : statusRow(view, status, mask)
  ) as ProviderJSON;
}

/** Never checked: Go zero values, and the registration's dependencies and labels. */
function placeholderRow(view: HealthView, name: string, mask: FieldMask): Partial<ProviderJSON> {
  const row: Partial<ProviderJSON> = {};
  if (mask.name) row.name = name;
  if (mask.healthy) row.healthy = false;
  if (mask.message) row.message = 'not checked yet';
  if (mask.latency) row.latency = 0;
  if (mask.checked_at) row.checked_at = GO_ZERO_TIME;
  if (mask.state) row.state = 'unknown';
  if (mask.stale) row.stale = false;
  if (mask.consecutive_failures) row.consecutive_failures = 0;
  if (mask.consecutive_successes) row.consecutive_successes = 0;
  if (mask.uptime) row.uptime = 0;
  if (mask.latency_p50) row.latency_p50 = 0;
  if (mask.latency_p95) row.latency_p95 = 0;
  if (mask.samples) row.samples = 0;
  addWindows(view, name, mask, row);
  const dependsOn = view.registry.dependsOn(name);
  if (mask.depends_on && dependsOn.length > 0) row.depends_on = dependsOn;
  const labels = view.registry.labels(name);
  if (mask.labels && hasKeys(labels)) row.labels = labels;
  return row;
}

/** `statusToJSON(status)` with the fields of `mask`, then `samples` and the window fields. */
function statusRow(view: HealthView, status: Status, mask: FieldMask): Partial<ProviderJSON> {
  const row: Partial<ProviderJSON> = {};
  const { history } = status;
  if (mask.name) row.name = status.name;
  if (mask.healthy) row.healthy = status.healthy;
  if (mask.message) row.message = status.message;
  if (mask.latency) row.latency = millisToNanos(status.latency);
  if (mask.checked_at) row.checked_at = status.checkedAt.toISOString();
  if (mask.state) row.state = status.state;
  if (mask.stale) row.stale = status.stale;
  if (mask.consecutive_failures) row.consecutive_failures = status.consecutiveFailures;
  if (mask.consecutive_successes) row.consecutive_successes = status.consecutiveSuccesses;
  if (mask.last_transition_at) row.last_transition_at = status.lastTransitionAt.toISOString();
  if (mask.uptime) row.uptime = history.uptime;
  if (mask.latency_p50) row.latency_p50 = millisToNanos(history.latencyP50);
  if (mask.latency_p95) row.latency_p95 = millisToNanos(history.latencyP95);
  if (mask.last_success_at && status.lastSuccessAt) row.last_success_at = status.lastSuccessAt.toISOString();
  if (mask.last_failure_at && status.lastFailureAt) row.last_failure_at = status.lastFailureAt.toISOString();
  if (mask.details && status.details) row.details = plainDetails(status.details);
  if (mask.depends_on && status.dependsOn.length > 0) row.depends_on = status.dependsOn;
  if (mask.blocked_by && status.blockedBy.length > 0) row.blocked_by = status.blockedBy;
  if (status.silencedBy.length > 0) {
    if (mask.silenced) row.silenced = true;
    if (mask.silenced_by) row.silenced_by = status.silencedBy;
  }
  if (mask.uptime_excluding_silenced && history.silencedSamples > 0)
    row.uptime_excluding_silenced = history.uptimeExcludingSilenced;
  if (mask.labels) {
    // The registry's labels: the same as the status's once committed, and current at once after a
    // relabelling (a selector must not keep matching labels the provider no longer has).
    const labels = view.registry.has(status.name) ? view.registry.labels(status.name) : status.labels;
    if (hasKeys(labels)) row.labels = labels;
  }
  if (mask.samples) row.samples = history.samples;
  addWindows(view, status.name, mask, row);
  return row;
}

/** The window fields of `mask`, when the view keeps windows (`HealthView.windows`); computed only if one is wanted. */
function addWindows(view: HealthView, name: string, mask: FieldMask, row: Partial<ProviderJSON>): void {
  if (view.windows === undefined) return;
  let wanted = false;
  let latency = false;
  for (const field of WINDOW_FIELDS) {
    wanted ||= mask[field];
    if (mask[field] && field.startsWith('latency_')) latency = true;
  }
  if (!wanted) return;
  if (!latency) {
    // List and event rows carry the three uptimes only: skip the latency histograms.
    const [day, week, month] = windowUptimes(view, name);
    if (mask.uptime_24h) row.uptime_24h = day;
    if (mask.uptime_7d) row.uptime_7d = week;
    if (mask.uptime_30d) row.uptime_30d = month;
    return;
  }
  const all = windowsToJSON(view.windows(name));
  for (const field of WINDOW_FIELDS) if (mask[field]) row[field] = all[field];
}

/**
 * The 24h, 7d and 30d uptimes of `name` in a view that keeps windows: from
 * `uptimes()` when the view has it (the bucket counts alone), else from
 * `windows()`. @internal
 */
export function windowUptimes(view: HealthView, name: string): readonly [number, number, number] {
  if (view.uptimes !== undefined) {
    const uptimes = view.uptimes(name);
    return [uptimes?.['24h'] ?? 0, uptimes?.['7d'] ?? 0, uptimes?.['30d'] ?? 0];
  }
  const all = windowsToJSON(view.windows?.(name));
  return [all.uptime_24h, all.uptime_7d, all.uptime_30d];
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

/** Whether a label set has any label. @internal */
export function hasKeys(labels: Labels): boolean {
  for (const _ in labels) return true;
  return false;
}
