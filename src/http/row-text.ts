import { GO_ZERO_TIME, type ProviderJSON } from './provider-json.js';

/**
 * JSON text of provider rows without `JSON.stringify`'s walk over the keys:
 * the fixed fields are written in their known order with literal keys,
 * strings a checker or an operator wrote (names, messages) through
 * `JSON.stringify`, numbers and booleans directly. The output is
 * byte-identical to `JSON.stringify` of the same row (a fast-check property
 * in test/http-row-text.test.ts checks it over random statuses); about 3
 * times faster on a list row. @internal
 */

/** A finite number as JSON writes it (`String` of a finite number is its JSON text); `null` otherwise, as JSON. */
export function num(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * The JSON text of a row from `providerToJSON` with the list or the detail
 * fields (`LIST_FIELDS`, `DETAIL_FIELDS`), equal to `JSON.stringify(row)`.
 * A never-checked placeholder (its keys come in another order) goes through
 * `JSON.stringify`. Dates are `toISOString` text and `state` one of five
 * words, so neither needs escaping. @internal
 */
export function rowText(row: ProviderJSON): string {
  if (row.checked_at === GO_ZERO_TIME) return JSON.stringify(row);
  // Each part starts with ','; the first is replaced by '{'.
  let out = `,"name":${JSON.stringify(row.name)},"healthy":${String(row.healthy)},"message":${JSON.stringify(row.message)},"latency":${num(row.latency)},"checked_at":"${row.checked_at}","state":"${row.state}","stale":${String(row.stale)},"consecutive_failures":${num(row.consecutive_failures)},"consecutive_successes":${num(row.consecutive_successes)}`;
  if (row.last_transition_at !== undefined) out += `,"last_transition_at":"${row.last_transition_at}"`;
  out += `,"uptime":${num(row.uptime)},"latency_p50":${num(row.latency_p50)},"latency_p95":${num(row.latency_p95)}`;
  if (row.last_success_at !== undefined) out += `,"last_success_at":"${row.last_success_at}"`;
  if (row.last_failure_at !== undefined) out += `,"last_failure_at":"${row.last_failure_at}"`;
  // Checker details are arbitrary (already plain, see plainDetails): JSON.stringify's job.
  if (row.details !== undefined) out += `,"details":${JSON.stringify(row.details)}`;
  if (row.depends_on !== undefined) out += `,"depends_on":${JSON.stringify(row.depends_on)}`;
  if (row.blocked_by !== undefined) out += `,"blocked_by":${JSON.stringify(row.blocked_by)}`;
  if (row.silenced !== undefined) out += `,"silenced":true`;
  if (row.silenced_by !== undefined) out += `,"silenced_by":${JSON.stringify(row.silenced_by)}`;
  if (row.uptime_excluding_silenced !== undefined)
    out += `,"uptime_excluding_silenced":${num(row.uptime_excluding_silenced)}`;
  if (row.labels !== undefined) out += `,"labels":${JSON.stringify(row.labels)}`;
  out += `,"samples":${num(row.samples)}`;
  if (row.uptime_24h !== undefined)
    out += `,"uptime_24h":${num(row.uptime_24h)},"uptime_7d":${num(row.uptime_7d ?? 0)},"uptime_30d":${num(row.uptime_30d ?? 0)}`;
  if (row.latency_p50_24h !== undefined)
    out += `,"latency_p50_24h":${num(row.latency_p50_24h)},"latency_p95_24h":${num(row.latency_p95_24h ?? 0)},"latency_p50_7d":${num(row.latency_p50_7d ?? 0)},"latency_p95_7d":${num(row.latency_p95_7d ?? 0)},"latency_p50_30d":${num(row.latency_p50_30d ?? 0)},"latency_p95_30d":${num(row.latency_p95_30d ?? 0)}`;
  return `{${out.slice(1)}}`;
}

/** Key texts (`"key":`) of the fields rows are cut to. */
const keyTexts = new Map<string, string>();

/**
 * The JSON text of `row` cut to `fields` in that order (`?fields=` rows,
 * wire order), equal to `JSON.stringify` of the row cut to those fields:
 * absent (undefined) fields are left out. @internal
 */
export function fieldsText(row: Readonly<Record<string, unknown>>, fields: readonly string[]): string {
  let out = '';
  for (const field of fields) {
    const value = row[field];
    let text: string | undefined;
    switch (typeof value) {
      case 'string':
        text = JSON.stringify(value);
        break;
      case 'number':
        text = num(value);
        break;
      case 'boolean':
        text = value ? 'true' : 'false';
        break;
      case 'undefined':
        continue;
      default:
        text = JSON.stringify(value);
    }
    if (text === undefined) continue;
    let key = keyTexts.get(field);
    if (key === undefined) {
      key = `${JSON.stringify(field)}:`;
      // Fields are validated wire fields (32 at most); the guard keeps any other use bounded.
      if (keyTexts.size < 256) keyTexts.set(field, key);
    }
    out += `,${key}${text}`;
  }
  return out === '' ? '{}' : `{${out.slice(1)}}`;
}
