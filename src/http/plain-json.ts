/** How deep checker-supplied details are copied; deeper values are replaced by a marker. */
const MAX_DEPTH = 8;

/**
 * Copies checker-supplied `details` into values `JSON.stringify` always
 * accepts: bigints become strings, cycles `"[Circular]"`, throwing getters
 * `"[Unreadable]"`, functions and symbols are dropped. A checker's odd report
 * must not turn a health endpoint into a 500. @internal
 */
export function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return plainObject(details, new Set(), 0);
}

function plainValue(value: unknown, ancestors: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  if (Array.isArray(value)) {
    ancestors.add(value);
    const copy = value.map((item: unknown) => plainValue(item, ancestors, depth + 1) ?? null);
    ancestors.delete(value);
    return copy;
  }
  return plainObject(value, ancestors, depth);
}

function plainObject(value: object, ancestors: Set<object>, depth: number): Record<string, unknown> {
  ancestors.add(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    let item: unknown;
    try {
      item = (value as Record<string, unknown>)[key];
    } catch {
      item = '[Unreadable]';
    }
    const plain = plainValue(item, ancestors, depth + 1);
    if (plain !== undefined) copy[key] = plain;
  }
  ancestors.delete(value);
  return copy;
}
