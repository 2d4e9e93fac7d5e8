import type { ProviderJSON } from './provider-json.js';
import type { ProvidersQuery } from './providers-query.js';

/** One page of `GET /api/providers` and the target of the next one, if any. @internal */
export interface ProviderPage {
  readonly rows: readonly object[];
  /** The request target of the next page (origin-relative), or `undefined` on the last page. */
  readonly next: string | undefined;
}

/**
 * Applies `query` to `all` (every provider, sorted by name as the registry
 * sorts them: by UTF-16 code units): the state and label-selector filters, then rows after
 * `after`, at most `limit` of them, each cut to the wanted fields. `path`
 * is the request path the next-page target is built on. @internal
 */
export function providerPage(
  all: readonly ProviderJSON[],
  query: ProvidersQuery,
  path: string,
): ProviderPage {
  const { states, fields, limit, after, selector } = query;
  const rows: ProviderJSON[] = [];
  let more = false;
  for (let i = after === undefined ? 0 : firstAfter(all, after); i < all.length; i++) {
    const row = all[i] as ProviderJSON;
    if (states !== undefined && !states.includes(row.state)) continue;
    if (selector !== undefined && !selector.matches(row.labels)) continue;
    if (limit !== undefined && rows.length === limit) {
      more = true;
      break;
    }
    rows.push(row);
  }
  const last = rows.at(-1);
  const next = more && last !== undefined ? nextTarget(path, query, last.name) : undefined;
  return { rows: fields === undefined ? rows : rows.map((row) => pick(row, fields)), next };
}

/** The index of the first row whose name sorts after `name` (binary search). */
function firstAfter(all: readonly ProviderJSON[], name: string): number {
  let low = 0;
  let high = all.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((all[mid] as ProviderJSON).name <= name) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** `row` with only `fields` (wire order; optional fields a row lacks stay absent). @internal */
export function pick(row: ProviderJSON, fields: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (row as unknown as Record<string, unknown>)[field];
    if (value !== undefined) picked[field] = value;
  }
  return picked;
}

/** The target of the page after `last`: the same parameters with `after` set. */
function nextTarget(path: string, query: ProvidersQuery, last: string): string {
  const list = (items: readonly string[]): string => items.map(encodeURIComponent).join(',');
  const parts: string[] = [];
  if (query.selector) parts.push(`selector=${encodeURIComponent(query.selector.toString())}`);
  if (query.states) parts.push(`state=${list(query.states)}`);
  if (query.fields) parts.push(`fields=${list(query.fields)}`);
  parts.push(`limit=${String(query.limit)}`, `after=${encodeURIComponent(last)}`);
  return `${path}?${parts.join('&')}`;
}
