import type { Labels } from '../labels.js';
import type { HealthState } from '../status.js';
import type { ProviderJSON } from './provider-json.js';
import type { ProvidersQuery } from './providers-query.js';

/** One page of `GET /api/providers` and the target of the next one, if any. @internal */
export interface ProviderPage {
  readonly rows: readonly object[];
  /** The request target of the next page (origin-relative), or `undefined` on the last page. */
  readonly next: string | undefined;
}

/** How {@link pageOf} reads the name, state and labels of an item. @internal */
export interface PageAccess<T> {
  name(item: T): string;
  state(item: T): HealthState;
  labels(item: T): Labels | undefined;
}

/** One page of items and the target of the next one, if any. @internal */
export interface ItemPage<T> {
  readonly items: readonly T[];
  /** The request target of the next page (origin-relative), or `undefined` on the last page. */
  readonly next: string | undefined;
}

/**
 * Applies `query` to `all` (every provider, sorted by name as the registry
 * sorts them: by UTF-16 code units): the state and label-selector filters,
 * then items after `after`, at most `limit` of them (fields are the caller's
 * business). `path` is the request path the next-page target is built on. @internal
 */
export function pageOf<T>(
  all: readonly T[],
  access: PageAccess<T>,
  query: ProvidersQuery,
  path: string,
): ItemPage<T> {
  const { states, limit, after, selector } = query;
  const items: T[] = [];
  let more = false;
  for (let i = after === undefined ? 0 : firstAfter(all, access, after); i < all.length; i++) {
    const item = all[i] as T;
    if (states !== undefined && !states.includes(access.state(item))) continue;
    if (selector !== undefined && !selector.matches(access.labels(item))) continue;
    if (limit !== undefined && items.length === limit) {
      more = true;
      break;
    }
    items.push(item);
  }
  const last = items.at(-1);
  const next = more && last !== undefined ? nextTarget(path, query, access.name(last)) : undefined;
  return { items, next };
}

const ROWS: PageAccess<ProviderJSON> = {
  name: (row) => row.name,
  state: (row) => row.state,
  labels: (row) => row.labels,
};

/** {@link pageOf} over wire rows, each cut to the wanted fields. @internal */
export function providerPage(
  all: readonly ProviderJSON[],
  query: ProvidersQuery,
  path: string,
): ProviderPage {
  const { items, next } = pageOf(all, ROWS, query, path);
  const { fields } = query;
  return { rows: fields === undefined ? items : items.map((row) => pick(row, fields)), next };
}

/** The index of the first item whose name sorts after `name` (binary search). */
function firstAfter<T>(all: readonly T[], access: PageAccess<T>, name: string): number {
  let low = 0;
  let high = all.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (access.name(all[mid] as T) <= name) low = mid + 1;
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
