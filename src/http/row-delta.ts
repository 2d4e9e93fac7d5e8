/**
 * `?batch=1&delta=1` rows: only what changed since the row a group of
 * streams was last sent. @internal
 */

/** Whether two wire values are the same (objects and arrays by their JSON, NaN equal to NaN as JSON writes both null). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The fields of `row` whose values differ from `previous`, after `name`
 * (always sent), in `row`'s order; then the fields `previous` had and `row`
 * no longer has (an optional field gone, such as `blocked_by` or
 * `silenced`), as `null`. @internal
 */
export function rowDelta(
  previous: Readonly<Record<string, unknown>>,
  row: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const delta: Record<string, unknown> = { name: row['name'] };
  for (const key of Object.keys(row)) {
    if (key !== 'name' && !same(previous[key], row[key])) delta[key] = row[key];
  }
  for (const key of Object.keys(previous)) {
    if (!Object.hasOwn(row, key)) delta[key] = null;
  }
  return delta;
}
