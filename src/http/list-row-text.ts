import type { HealthView } from '../health-view.js';
import type { Labels } from '../labels.js';
import { millisToNanos, type Status } from '../status.js';
import { plainDetails } from './plain-json.js';
import { hasKeys, windowUptimes } from './provider-json.js';
import { num } from './row-text.js';

/** The JSON text of label sets and name lists, once per frozen object (statuses share them). */
const texts = new WeakMap<object, string>();

function jsonOf(value: Labels | readonly string[]): string {
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    // Only a frozen object can be trusted to still say the same next time.
    if (Object.isFrozen(value)) texts.set(value, text);
  }
  return text;
}

/**
 * The JSON text of `status`'s list row (`GET /api/providers`, event rows),
 * written straight from the status: the same bytes as
 * `rowText(providerToJSON(view, status.name))` (a fast-check property holds
 * them equal) without building the row object first, which cost more than
 * the text. At 10,000 providers every sweep rebuilds every row, for the list
 * and for event streams. @internal
 */
export function listRowText(view: HealthView, status: Status): string {
  const { name, history } = status;
  let out = `{"name":${JSON.stringify(name)},"healthy":${String(status.healthy)},"message":${JSON.stringify(status.message)},"latency":${num(millisToNanos(status.latency))},"checked_at":"${status.checkedAt.toISOString()}","state":"${status.state}","stale":${String(status.stale)},"consecutive_failures":${num(status.consecutiveFailures)},"consecutive_successes":${num(status.consecutiveSuccesses)},"last_transition_at":"${status.lastTransitionAt.toISOString()}","uptime":${num(history.uptime)},"latency_p50":${num(millisToNanos(history.latencyP50))},"latency_p95":${num(millisToNanos(history.latencyP95))}`;
  if (status.lastSuccessAt) out += `,"last_success_at":"${status.lastSuccessAt.toISOString()}"`;
  if (status.lastFailureAt) out += `,"last_failure_at":"${status.lastFailureAt.toISOString()}"`;
  if (status.details) out += `,"details":${JSON.stringify(plainDetails(status.details))}`;
  if (status.dependsOn.length > 0) out += `,"depends_on":${jsonOf(status.dependsOn)}`;
  if (status.blockedBy.length > 0) out += `,"blocked_by":${jsonOf(status.blockedBy)}`;
  if (status.silencedBy.length > 0) out += `,"silenced":true,"silenced_by":${jsonOf(status.silencedBy)}`;
  if (history.silencedSamples > 0)
    out += `,"uptime_excluding_silenced":${num(history.uptimeExcludingSilenced)}`;
  // The registry's labels, current at once after a relabelling (as in providerToJSON).
  const labels = view.registry.has(name) ? view.registry.labels(name) : status.labels;
  if (hasKeys(labels)) out += `,"labels":${jsonOf(labels)}`;
  out += `,"samples":${num(history.samples)}`;
  return flattened(`${out}${uptimesText(view, name)}}`);
}

/**
 * `text` as one flat string. V8 builds the row as a tree of concatenations;
 * flattening it now, while its parts are young, costs less than when the
 * list is encoded after the cached row has been promoted (measured: the row
 * and its bytes 6 µs instead of 9). Reading a character is what flattens it.
 */
function flattened(text: string): string {
  void text.charCodeAt(0);
  return text;
}

/** The three window uptimes of a list row, when the view keeps windows. */
function uptimesText(view: HealthView, name: string): string {
  if (view.windows === undefined) return '';
  const [day, week, month] = windowUptimes(view, name);
  return `,"uptime_24h":${num(day)},"uptime_7d":${num(week)},"uptime_30d":${num(month)}`;
}
